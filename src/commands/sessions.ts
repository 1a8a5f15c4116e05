/**
 * `harmony-hpke sessions list|prune`: the stored session files (state dir), which otherwise pile up
 * forever and slow `decode` without --session (it tries each). Listing shows ids, ages and whether
 * a response was decoded, never a secret; pruning removes files older than --older-than (default
 * 7d), and the discovery links whose target is gone.
 */
import { lstat, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { CliContext } from '../cli/context.js';
import { ExitCode } from '../cli/exit-codes.js';
import { terminalFor } from '../cli/output.js';
import { oneLineText } from '../cli/safe-text.js';
import { sessionsDir } from '../node/paths.js';
import { readSession } from '../client/session-store.js';

export interface SessionsOptions {
  readonly json?: boolean;
  readonly olderThan?: number;
  readonly dryRun?: boolean;
  readonly quiet?: boolean;
}

interface Entry {
  readonly path: string;
  readonly rid: string | null;
  readonly router: string | null;
  readonly ageSeconds: number;
  readonly decoded: boolean;
  /** A discovery link whose session file is gone, or a file that is not a usable session. */
  readonly broken: boolean;
}

async function entries(ctx: CliContext): Promise<Entry[]> {
  const dir = sessionsDir(ctx.env);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const now = Date.now();
  const found: Entry[] = [];
  for (const name of names.sort()) {
    if (!name.endsWith('.json') || name.startsWith('.')) continue;
    const path = join(dir, name);
    const link = await lstat(path).catch(() => undefined);
    if (!link) continue;
    const info = await stat(path).catch(() => undefined);
    const ageSeconds = Math.round((now - (info ?? link).mtimeMs) / 1000);
    try {
      const session = await readSession(path);
      found.push({ path, rid: session.rid, router: session.router, ageSeconds, decoded: session.responseNonce !== undefined, broken: false });
    } catch {
      found.push({ path, rid: null, router: null, ageSeconds, decoded: false, broken: true });
    }
  }
  return found;
}

function age(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

export async function run(ctx: CliContext, action: string, options: SessionsOptions): Promise<number> {
  const terminal = terminalFor(ctx, options);
  const all = await entries(ctx);
  if (action === 'list') {
    if (options.json) {
      for (const entry of all) terminal.jsonLine({ type: 'session', path: entry.path, rid: entry.rid, router: entry.router, age_seconds: entry.ageSeconds, decoded: entry.decoded, broken: entry.broken });
    } else {
      for (const entry of all) {
        const what = entry.broken ? 'unusable (broken link or not a session)' : `${oneLineText(entry.router ?? '')}${entry.decoded ? ' decoded' : ''}`;
        terminal.writeOut(`${terminal.outText(entry.rid ?? '-')}  ${age(entry.ageSeconds)}  ${what}  ${terminal.outText(entry.path)}\n`);
      }
      terminal.info(`${all.length} stored sessions in ${sessionsDir(ctx.env)}`);
    }
    return ExitCode.Ok;
  }
  // prune
  const limitSeconds = Math.round((options.olderThan ?? 7 * 86_400_000) / 1000);
  const doomed = all.filter((entry) => entry.broken || entry.ageSeconds > limitSeconds);
  for (const entry of doomed) {
    if (!options.dryRun) await unlink(entry.path).catch(() => {});
    if (options.json) terminal.jsonLine({ type: 'pruned', path: entry.path, rid: entry.rid, dry_run: options.dryRun ?? false });
  }
  if (!options.json) {
    terminal.info(`${options.dryRun ? 'would remove' : 'removed'} ${doomed.length} of ${all.length} stored sessions (older than ${age(limitSeconds)}, or unusable)`);
  }
  return ExitCode.Ok;
}
