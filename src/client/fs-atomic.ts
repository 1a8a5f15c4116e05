/** Files are written whole or not at all: temp file in the same directory, fsync, rename. */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../errors.js';

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
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
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
