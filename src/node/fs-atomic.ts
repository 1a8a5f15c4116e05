/** Files are written whole or not at all: temp file in the same directory, fsync, rename. */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../core/errors.js';

export interface AtomicWriteOptions {
  /** File mode, e.g. 0o600 for secrets (applied at creation, before any byte is written). */
  readonly mode?: number;
  /** Refuse to replace an existing file. */
  readonly exclusive?: boolean;
  /** Mode for a parent directory that has to be created. */
  readonly dirMode?: number;
}

export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: options.dirMode ?? 0o755 });
  await removeStaleTemps(dir, basename(path));
  // The writer's pid in the name lets a later write remove a temp file whose writer was killed.
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', options.mode ?? 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw error;
  }
  await handle.close();
  try {
    if (options.exclusive) {
      // link() fails if the target exists, so an existing file is never replaced.
      const { link } = await import('node:fs/promises');
      await link(temp, path);
      await unlink(temp);
    } else {
      await rename(temp, path);
    }
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
}

/**
 * Temp files of `name` left by writers that no longer run (killed before their rename: nothing can
 * clean up after SIGKILL). A temp file of a live process is never touched.
 */
async function removeStaleTemps(dir: string, name: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return;
  }
  const prefix = `.${name}.`;
  for (const entry of entries) {
    if (!entry.startsWith(prefix) || !entry.endsWith('.tmp')) continue;
    const match = /^(\d+)\.[0-9a-f]{12}\.tmp$/.exec(entry.slice(prefix.length));
    if (match === null) continue;
    const pid = Number(match[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    await unlink(join(dir, entry)).catch(() => {});
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const WRITE_PROBLEMS: Readonly<Record<string, string>> = {
  EISDIR: 'it is a directory',
  EEXIST: 'a parent is not a directory',
  ENOTDIR: 'a parent is not a directory',
  ENOENT: 'no such directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
};

/**
 * writeFileAtomic for a file the user named (`--save`, `--out`, `--junit`, a session path): a
 * failure is the user's to fix, so it is a usage error (exit 2) naming the file, never an internal one.
 */
export async function writeUserFile(
  path: string,
  data: string | Uint8Array,
  what: string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  try {
    await writeFileAtomic(path, data, options);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code !== 'string') throw error;
    throw new UsageError('WRITE_FAILED', `cannot write ${what} ${path}: ${WRITE_PROBLEMS[code] ?? code}`, { cause: error });
  }
}
