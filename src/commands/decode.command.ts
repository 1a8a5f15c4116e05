/** `decode`: its flags; the handler (decode.ts) loads on use. */
import type { Command } from 'commander';
import type { CliContext } from '../cli/context.js';
import { displayFlags } from '../cli/flags.js';
import type { DecodeOptions } from './decode.js';

export function decodeCommand(program: Command, ctx: CliContext): Command {
  const command = program
    .command('decode')
    .description('decrypt and verify a saved or piped SSE response, printing it like ask')
    .argument('[stream]', "SSE file ('-' or a pipe reads stdin)");
  displayFlags(command);
  return command
    .option('--session <file>', 'session file (default: the stored session that opens the stream)')
    .option('--buffer', 'release nothing until the final chunk verifies')
    .action(async (stream: string | undefined, _options: unknown, self: Command) => {
      const { run } = await import('./decode.js');
      ctx.exitCode = await run(ctx, stream, self.optsWithGlobals<DecodeOptions>());
    });
}
