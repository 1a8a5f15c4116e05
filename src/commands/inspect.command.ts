/** `inspect`: its flags; the handler (inspect.ts) loads on use. */
import type { Command } from 'commander';
import type { CliContext } from '../cli/context.js';
import type { InspectOptions } from './inspect.js';

export function inspectCommand(program: Command, ctx: CliContext): Command {
  return program
    .command('inspect')
    .description('tell what a file is and show it (key config, sealed request, session, SSE stream, conversation, completion)')
    .argument('[file]', "the file ('-' or a pipe reads stdin)")
    .option('--session <file>', 'session file, to decrypt an SSE stream')
    .option('--json', 'machine-readable output')
    .action(async (file: string | undefined, _options: unknown, self: Command) => {
      const { run } = await import('./inspect.js');
      ctx.exitCode = await run(ctx, file, self.optsWithGlobals<InspectOptions>());
    });
}
