/** `create-request`: its flags; the handler (create-request.ts) loads on use. */
import type { Command } from 'commander';
import type { CliContext } from '../cli/context.js';
import { conversationFlags, routerFlags, toolFlags } from '../cli/flags.js';
import type { CreateRequestOptions } from './create-request.js';

export function createRequestCommand(program: Command, ctx: CliContext): Command {
  const command = program
    .command('create-request')
    .description('seal a request and print it (JSON envelope, raw body or a curl command)')
    .argument('[prompt]', "the prompt; '-' or a pipe reads stdin");
  toolFlags(conversationFlags(routerFlags(command)));
  return command
    .option('--session <file>', 'where to write the session file (default: the state dir, by request id)')
    .option('--body-out <file>', 'also write the raw sealed body to this file')
    .option('--curl', 'print a ready curl command line instead of the JSON envelope')
    .addHelpText(
      'after',
      '\nExample:\n  harmony-hpke create-request "What is 2+2?" --router http://127.0.0.1:8080 | harmony-hpke send | harmony-hpke decode\n',
    )
    .action(async (prompt: string | undefined, _options: unknown, self: Command) => {
      const { run } = await import('./create-request.js');
      ctx.exitCode = await run(ctx, prompt, self.optsWithGlobals<CreateRequestOptions>());
    });
}
