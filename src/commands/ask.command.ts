/** `ask`: its flags; the handler (ask.ts) loads on use. */
import type { Command } from 'commander';
import type { CliContext } from '../cli/context.js';
import { conversationFlags, displayFlags, routerFlags, timeoutFlags, toolExecFlags, toolFlags } from '../cli/flags.js';
import type { AskOptions } from './ask.js';

export function askCommand(program: Command, ctx: CliContext): Command {
  const command = program
    .command('ask')
    .description('seal a prompt, send it, decrypt and stream the answer (all in one)')
    .argument('[prompt]', "the prompt; '-' or a pipe reads stdin");
  toolExecFlags(toolFlags(displayFlags(timeoutFlags(conversationFlags(routerFlags(command))))));
  return command
    .option('--save <file>', 'save the conversation with the answer (openai-harmony JSON)')
    .option('--session <file>', 'where to write the session file')
    .option('--local', 'use the embedded local router even if a router is configured')
    .addHelpText(
      'after',
      '\nExamples:\n  harmony-hpke ask "What is 2+2?"\n  echo "Explain HPKE" | harmony-hpke ask --router https://router.example --hide-analysis\n',
    )
    .action(async (prompt: string | undefined, _options: unknown, self: Command) => {
      const { run } = await import('./ask.js');
      ctx.exitCode = await run(ctx, prompt, self.optsWithGlobals<AskOptions>());
    });
}
