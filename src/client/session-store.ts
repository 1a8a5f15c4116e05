/**
 * Session files on disk: written before the POST (mode 0600, atomically), looked up by path or,
 * for `decode` without --session, by trying which stored session opens the stream.
 */
import { chmod, mkdir, readdir, readFile, realpath, rename, stat, symlink, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseSession, serializeSession, type Session } from '../hpke/index.js';
import { HarmonyHpkeError, KeyError, UsageError } from '../core/errors.js';
import { fileReadError } from '../node/file-errors.js';
import type { Env } from '../node/env.js';
import { writeUserFile } from '../node/fs-atomic.js';
import { sessionsDir } from '../node/paths.js';

export function defaultSessionPath(env: Env, rid: string): string {
  return join(sessionsDir(env), `${rid}.json`);
}

export async function writeSession(path: string, session: Session): Promise<void> {
  await writeUserFile(path, `${serializeSession(session)}\n`, 'session file', { mode: 0o600, dirMode: 0o700 });
  // The umask cannot widen 0600, but an existing directory could be shared: say nothing, the file is 0600.
  await chmod(path, 0o600);
}

/**
 * Writes a session where the user asked and makes it findable by `decode` without --session: a
 * session written outside the state dir gets a link there (named by request id, never a copy,
 * so the secret exists once).
 */
export async function storeSession(env: Env, path: string, session: Session): Promise<void> {
  await writeSession(path, session);
  const stored = defaultSessionPath(env, session.rid);
  if (resolve(path) === resolve(stored)) return;
  try {
    await mkdir(dirname(stored), { recursive: true, mode: 0o700 });
    const temp = join(dirname(stored), `.${session.rid}.${process.pid}.link`);
    await unlink(temp).catch(() => {});
    await symlink(resolve(path), temp);
    await rename(temp, stored);
  } catch {
    // Discovery is a convenience: the session itself is written; decode --session still works.
  }
}

/**
 * Records in the session file which response it decoded (its response nonce), so that a different
 * second response for the same request is refused later. Writes through a discovery link to the
 * file itself: replacing the link would leave a second copy of the secret and the file unchanged.
 */
export async function recordResponseNonce(path: string, session: Session, nonce: Uint8Array): Promise<void> {
  if (session.responseNonce !== undefined) return;
  await writeSession(await realpath(path), { ...session, responseNonce: nonce });
}

/** Reads a session file; refuses one that others can read, since it opens the whole response. */
export async function readSession(path: string): Promise<Session> {
  let text: string;
  try {
    const info = await stat(path);
    if ((info.mode & 0o077) !== 0) {
      throw new KeyError(
        'SESSION_FILE_PERMISSIONS',
        `session file ${path} is readable by others (mode ${(info.mode & 0o777).toString(8)}); run chmod 600 on it`,
      );
    }
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof KeyError) throw error;
    throw fileReadError(error, 'session file', path, 'SESSION');
  }
  try {
    return parseSession(text);
  } catch (error) {
    // Say which file (the messages never hold its contents).
    if (error instanceof HarmonyHpkeError) error.message = `${path}: ${error.message}`;
    throw error;
  }
}

export interface StoredSession {
  readonly path: string;
  readonly session: Session;
}

/** Stored sessions, newest first; unreadable or foreign files are skipped. */
export async function listStoredSessions(env: Env): Promise<StoredSession[]> {
  const dir = sessionsDir(env);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const found: Array<StoredSession & { mtime: number }> = [];
  for (const name of names) {
    if (!name.endsWith('.json') || name.startsWith('.')) continue;
    const path = join(dir, name);
    try {
      const info = await stat(path);
      const session = await readSession(path);
      found.push({ path, session, mtime: info.mtimeMs });
    } catch {
      // Not a session of ours, or unsafe: never used implicitly.
    }
  }
  found.sort((a, b) => b.mtime - a.mtime);
  return found.map(({ path, session }) => ({ path, session }));
}
