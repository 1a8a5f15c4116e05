/** The API token file on disk: mode 0600 like a key file, read whole, rewritten atomically. */
import { readFile, stat } from 'node:fs/promises';
import { KeyError, UsageError } from '../../core/errors.js';
import { writeFileAtomic } from '../../node/fs-atomic.js';
import { ApiTokenTable, parseApiTokenFile, tokenFileLine, type TokenLimits } from './tokens.js';

async function readChecked(path: string): Promise<string | undefined> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new UsageError('API_TOKENS_UNREADABLE', `cannot read API token file ${path}: ${code ?? 'error'}`);
  }
  if ((mode & 0o077) !== 0) {
    throw new KeyError(
      'API_TOKENS_PERMISSIONS',
      `API token file ${path} is readable by group or others (mode ${(mode & 0o777).toString(8)}); run chmod 600 on it`,
    );
  }
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError('API_TOKENS_UNREADABLE', `cannot read API token file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** Loads the token table (`serve --api-keys FILE`). A missing file is an error here: the flag asked for auth. */
export async function readApiTokenFile(path: string): Promise<ApiTokenTable> {
  const text = await readChecked(path);
  if (text === undefined) throw new UsageError('API_TOKENS_NOT_FOUND', `API token file not found: ${path}`);
  return new ApiTokenTable(parseApiTokenFile(text, path));
}

/**
 * Appends the hash of `token` under `name` (`keys api-token create`). The file is created mode 0600
 * if missing; an existing one must already be 0600 and valid, and must not hold `name`.
 */
export async function appendApiToken(path: string, name: string, token: string, limits: TokenLimits = {}): Promise<void> {
  const text = (await readChecked(path)) ?? '';
  const existing = parseApiTokenFile(text, path);
  if (existing.some((entry) => entry.name === name)) {
    throw new UsageError('API_TOKEN_NAME_TAKEN', `${path} already has a token named '${name}'`);
  }
  const prefix = text === '' || text.endsWith('\n') ? text : `${text}\n`;
  try {
    await writeFileAtomic(path, `${prefix}${tokenFileLine(name, token, limits)}\n`, { mode: 0o600, dirMode: 0o700 });
  } catch (error) {
    throw new UsageError('WRITE_FAILED', `cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}
