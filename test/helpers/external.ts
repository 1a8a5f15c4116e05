/**
 * External programs a suite needs (redis-server, nginx). They are looked up on PATH (and in the
 * sbin directories, where Debian puts nginx). Under CI=true a missing program fails the suite;
 * elsewhere the suite is skipped with a message that says what to install.
 */
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

const PACKAGES: Record<string, string> = { 'redis-server': 'redis-server', nginx: 'nginx' };

export function findProgram(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}

/**
 * The programs' paths, or undefined when one is missing outside CI (the caller skips its suite).
 * Under CI=true a missing program throws, failing the run.
 */
export function requirePrograms(...names: string[]): Record<string, string> | undefined {
  const found: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of names) {
    const path = findProgram(name);
    if (path) found[name] = path;
    else missing.push(name);
  }
  if (missing.length === 0) return found;
  const install = `apt-get install -y ${missing.map((name) => PACKAGES[name] ?? name).join(' ')}`;
  if (process.env['CI'] === 'true') {
    throw new Error(`this suite needs ${missing.join(' and ')} on PATH (CI=true): ${install}`);
  }
  process.stderr.write(`skipping: this suite needs ${missing.join(' and ')} on PATH; install with: ${install}\n`);
  return undefined;
}

/** A port that was free on 127.0.0.1 a moment ago (for programs that cannot be told to pick one). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
