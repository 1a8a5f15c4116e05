/** `config show`: its flags; the handler (config-show.ts) loads on use. */
import type { Command } from 'commander';
import type { CliContext } from '../cli/context.js';
import { positiveInt, reasoningEffortOption, routerFlags } from '../cli/flags.js';
import type { ConfigShowOptions } from './config-show.js';

export function configCommand(program: Command, ctx: CliContext): Command {
  const config = program.command('config').description('show the resolved settings and where each came from').helpCommand(false);
  const show = config
    .command('show')
    .description('each setting (router, keys, key_pin, model, ...) with its source: flag, environment, config file, default')
    .option('--model <name>', 'as for ask')
    .option('--max-tokens <n>', 'as for ask', positiveInt)
    .addOption(reasoningEffortOption('as for ask'))
    .option('--json', 'one JSON object: {setting: {value, source}}');
  routerFlags(show).action(async (_options: unknown, self: Command) => {
    const { run } = await import('./config-show.js');
    ctx.exitCode = await run(ctx, self.optsWithGlobals<ConfigShowOptions>());
  });
  return config;
}
