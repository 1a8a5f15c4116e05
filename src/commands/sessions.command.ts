/** `sessions list|prune`: their flags; the handler (sessions.ts) loads on use. */
import type { Command } from 'commander';
import type { CliContext } from '../cli/context.js';
import { duration } from '../cli/flags.js';
import type { SessionsOptions } from './sessions.js';

export function sessionsCommand(program: Command, ctx: CliContext): Command {
  const sessions = program.command('sessions').description('stored session files: list them, prune old ones').helpCommand(false);
  sessions
    .command('list')
    .description('list stored sessions (request id, age, router; never a secret)')
    .option('--json', 'one NDJSON record per session')
    .action(async (_options: unknown, self: Command) => {
      const { run } = await import('./sessions.js');
      ctx.exitCode = await run(ctx, 'list', self.optsWithGlobals<SessionsOptions>());
    });
  sessions
    .command('prune')
    .description('remove stored sessions older than --older-than, and unusable ones')
    .option('--older-than <duration>', 'age to remove (default: 7d)', duration)
    .option('--dry-run', 'say what would be removed, remove nothing')
    .option('--json', 'one NDJSON record per removed session')
    .action(async (_options: unknown, self: Command) => {
      const { run } = await import('./sessions.js');
      ctx.exitCode = await run(ctx, 'prune', self.optsWithGlobals<SessionsOptions>());
    });
  return sessions;
}
