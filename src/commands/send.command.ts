/** `send`: its flags; the handler (send.ts) loads on use. */
import type { Command } from 'commander';
import type { CliContext } from '../cli/context.js';
import { displayFlags, nonNegativeInt, timeoutFlags } from '../cli/flags.js';
import type { SendOptions } from './send.js';

export function sendCommand(program: Command, ctx: CliContext): Command {
  const command = program
    .command('send')
    .description('POST a sealed request envelope and stream the raw SSE response to stdout')
    .argument('[envelope]', "envelope file from create-request ('-' or a pipe reads stdin)");
  displayFlags(timeoutFlags(command));
  return command
    .option('--decode', 'decode the response in the same process instead of printing raw SSE')
    .option('--session <file>', 'session file for --decode (default: the one named in the envelope)')
    .option('--buffer', 'with --decode: release nothing until the final chunk verifies')
    .option('--retries <n>', 'retries for connection failures, 429 and 503 (default: 2)', nonNegativeInt)
    .action(async (envelope: string | undefined, _options: unknown, self: Command) => {
      const { run } = await import('./send.js');
      ctx.exitCode = await run(ctx, envelope, self.optsWithGlobals<SendOptions>());
    });
}
