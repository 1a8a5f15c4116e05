/** Router key files on disk: private keys must not be readable by group or world. */
import { lstat, readFile, stat } from 'node:fs/promises';
import { parseRouterKeyFile, serializeRouterKeyFile, type RouterKey } from '../hpke/index.js';
import { HarmonyHpkeError, KeyError, UsageError } from '../core/errors.js';
import { fileReadError } from '../node/file-errors.js';
import { writeFileAtomic } from '../node/fs-atomic.js';

export async function readRouterKeyFile(path: string): Promise<RouterKey> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (error) {
    throw fileReadError(error, 'key file', path, 'KEY_FILE');
  }
  if ((mode & 0o077) !== 0) {
    throw new KeyError(
      'KEY_FILE_PERMISSIONS',
      `key file ${path} is readable by group or others (mode ${(mode & 0o777).toString(8)}); run chmod 600 on it`,
    );
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError('KEY_FILE_UNREADABLE', `cannot read key file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    return parseRouterKeyFile(text);
  } catch (error) {
    // Say which file: a router may be given several.
    if (error instanceof HarmonyHpkeError) error.message = `${path}: ${error.message}`;
    throw error;
  }
}

export async function writeRouterKeyFile(path: string, key: RouterKey, overwrite: boolean): Promise<void> {
  try {
    await writeFileAtomic(path, `${serializeRouterKeyFile(key)}\n`, { mode: 0o600, exclusive: !overwrite });
  } catch (error) {
    // EEXIST also comes from creating a parent directory that is a file: only an existing target is "exists".
    const exists = await lstat(path).then(
      () => true,
      () => false,
    );
    if ((error as NodeJS.ErrnoException).code === 'EEXIST' && !overwrite && exists) {
      throw new UsageError('FILE_EXISTS', `${path} already exists; pass --force to replace it`);
    }
    throw new UsageError('WRITE_FAILED', `cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}
