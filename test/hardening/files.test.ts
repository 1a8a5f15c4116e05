/**
 * Files (issue 6): session and key files with wrong permissions, missing, empty, corrupt or from a
 * newer format version give one clear error line and the documented exit code (built binary);
 * every output file (--save, --session, --body-out, keys generate --out, keys fetch --out) is
 * written atomically: a write that fails leaves neither a half-file nor a temp file, and a process
 * killed at the moment its temp file appears leaves the target either absent or whole.
 */
import { watch, chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeKeyConfigList,
  generateRouterKey,
  keyConfigOf,
  parseKeyConfigList,
  parseRouterKeyFile,
  parseSealedRequest,
  parseSession,
  serializeRouterKeyFile,
  serializeSession,
  type RouterKey,
} from '../../src/hpke/index.js';
import { Conversation } from '../../src/harmony/index.js';
import { startRouter, type RunningRouter } from '../../src/router/server.js';
import { createEchoEngine } from '../../src/router/engines/echo.js';
import { collect, makeSandbox, spawnCli, type CliResult, runCliInProcess } from '../helpers/cli.js';
import { ERROR_LINE, errorCode, exchangeWith } from './helpers.js';

const sandbox = makeSandbox();
const work = join(sandbox.dir, 'files');
let router: RunningRouter;
let routerKey: RouterKey;
let sessionText: string;
let stream: Buffer;
const kills = { sigkill: 0, sigterm: 0, tempSeenAfterKill: 0, targetAbsent: 0, targetWhole: 0, cleanedByNextWrite: 0 };

beforeAll(async () => {
  mkdirSync(work, { recursive: true });
  routerKey = await generateRouterKey({ keyId: 3 });
  router = await startRouter({ host: '127.0.0.1', port: 0, keys: [routerKey], engine: createEchoEngine() });
  const exchange = await exchangeWith(router, routerKey, 'What is 2+2?');
  sessionText = `${serializeSession(exchange.session)}\n`;
  stream = exchange.sse;
  writeFileSync(join(work, 'answer.sse'), stream);
}, 90_000);

afterAll(async () => {
  console.log(`[hardening] atomic writes under kill: ${JSON.stringify(kills)}`);
  await router?.close();
  sandbox.cleanup();
});

function file(name: string, content: string | Uint8Array | undefined, mode = 0o600): string {
  const path = join(work, name);
  rmSync(path, { recursive: true, force: true });
  if (content !== undefined) {
    writeFileSync(path, content, { mode });
    chmodSync(path, mode);
  }
  return path;
}

function expectError(result: CliResult, exit: number, code: string, mention?: string): void {
  expect(result.code, result.stderr).toBe(exit);
  const lines = result.stderr.split('\n').filter((line) => line.startsWith('harmony-hpke: error:'));
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(ERROR_LINE);
  expect(errorCode(result.stderr)).toBe(code);
  if (mention !== undefined) expect(lines[0]).toContain(mention);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stdout).toBe('');
}

const run = (args: string[]) => runCliInProcess(args, { env: sandbox.env, timeoutMs: 20_000 });

describe('session files given to decode --session', () => {
  const session = (name: string) => join(work, name);
  it.each([
    ['readable by others (0644): refused', () => file('s-0644.json', sessionText, 0o644), 4, 'SESSION_FILE_PERMISSIONS'],
    ['readable by the group (0640): refused', () => file('s-0640.json', sessionText, 0o640), 4, 'SESSION_FILE_PERMISSIONS'],
    ['missing', () => file('s-missing.json', undefined), 2, 'SESSION_NOT_FOUND'],
    ['empty', () => file('s-empty.json', ''), 2, 'SESSION_CORRUPT'],
    ['corrupt (half a file)', () => file('s-half.json', sessionText.slice(0, 100)), 2, 'SESSION_CORRUPT'],
    ['a key file instead', () => file('s-key.json', serializeRouterKeyFile(routerKey)), 2, 'SESSION_WRONG_FORMAT'],
    [
      'from a newer format version (harmony-hpke-session/2)',
      () => file('s-v2.json', sessionText.replace('harmony-hpke-session/1', 'harmony-hpke-session/2')),
      2,
      'SESSION_NEWER_VERSION',
    ],
    [
      'a directory',
      () => {
        const path = session('s-dir.json');
        rmSync(path, { recursive: true, force: true });
        mkdirSync(path, { mode: 0o700 });
        return path;
      },
      2,
      'SESSION_UNREADABLE',
    ],
  ])('%s', async (_name, make, exit, code) => {
    const path = make();
    const result = await run(['decode', join(work, 'answer.sse'), '--session', path]);
    expectError(result, exit, code, path);
  });

  it('a stored session readable by others is never used implicitly: decode without --session finds none', async () => {
    const env = { ...sandbox.env, XDG_STATE_HOME: join(work, 'state-loose') };
    const dir = join(work, 'state-loose', 'harmony-hpke', 'sessions');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stored = join(dir, `${parseSession(sessionText).rid}.json`);
    writeFileSync(stored, sessionText, { mode: 0o644 });
    chmodSync(stored, 0o644);
    const loose = await runCliInProcess(['decode', join(work, 'answer.sse')], { env });
    expectError(loose, 2, 'NO_MATCHING_SESSION');
    chmodSync(stored, 0o600);
    const fixed = await runCliInProcess(['decode', join(work, 'answer.sse')], { env });
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stdout).toBe('2 + 2 = 4.\n');
  });
});

describe('router key files given to serve --key, key configs given to --keys', () => {
  const keyText = () => `${serializeRouterKeyFile(routerKey)}\n`;
  it.each([
    ['readable by others (0644): refused', () => file('k-0644.key', keyText(), 0o644), 4, 'KEY_FILE_PERMISSIONS'],
    ['missing', () => file('k-missing.key', undefined), 2, 'KEY_FILE_NOT_FOUND'],
    ['empty', () => file('k-empty.key', ''), 4, 'KEY_FILE_CORRUPT'],
    ['corrupt', () => file('k-corrupt.key', keyText().slice(0, 60)), 4, 'KEY_FILE_CORRUPT'],
    ['a session file instead', () => file('k-session.key', sessionText), 4, 'KEY_FILE_WRONG_FORMAT'],
    ['from a newer format version (harmony-hpke-key/2)', () => file('k-v2.key', keyText().replace('harmony-hpke-key/1', 'harmony-hpke-key/2')), 4, 'KEY_FILE_NEWER_VERSION'],
  ])('serve --key: %s', async (_name, make, exit, code) => {
    const path = make();
    const result = await run(['serve', '--port', '0', '--key', path]);
    expect(result.stderr).not.toContain(Buffer.from(routerKey.privateKey).toString('base64url'));
    expectError(result, exit, code, path);
  });

  it.each([
    ['missing', () => file('c-missing.keys', undefined), 2, 'KEYS_FILE_NOT_FOUND'],
    ['empty', () => file('c-empty.keys', ''), 4, 'KEY_CONFIG_INVALID'],
    ['truncated', () => file('c-half.keys', encodeKeyConfigList([keyConfigOf(routerKey)]).subarray(0, 20)), 4, 'KEY_CONFIG_INVALID'],
  ])('create-request --keys: %s', async (_name, make, exit, code) => {
    const result = await run(['create-request', 'hi', '--router', router.url, '--keys', make(), '--session', join(work, 'unused.json')]);
    expectError(result, exit, code);
    expect(existsSync(join(work, 'unused.json'))).toBe(false);
  });
});

/** Hidden temp files writeFileAtomic leaves behind in `dir` for target `name`. */
function temps(dir: string, name: string): string[] {
  return readdirSync(dir).filter((entry) => entry.startsWith(`.${name}.`) && entry.endsWith('.tmp'));
}

interface Output {
  readonly what: string;
  readonly args: (target: string) => string[];
  /** Throws unless the bytes are a whole file of this kind. */
  readonly whole: (bytes: Buffer) => void;
}

const OUTPUTS: Output[] = [
  {
    what: 'ask --save',
    args: (target) => ['ask', 'What is 2+2?', '--router', router.url, '--save', target],
    whole: (bytes) => expect(Conversation.fromJson(bytes.toString('utf8')).messages.length).toBeGreaterThanOrEqual(3),
  },
  {
    what: 'create-request --session',
    args: (target) => ['create-request', 'hi', '--router', router.url, '--session', target],
    whole: (bytes) => expect(parseSession(bytes.toString('utf8')).kid).toBe(3),
  },
  {
    what: 'create-request --body-out',
    args: (target) => ['create-request', 'hi', '--router', router.url, '--body-out', target, '--session', `${target}.session`],
    whole: (bytes) => expect(parseSealedRequest(bytes).ciphertext.byteLength % 1024).toBe(16),
  },
  {
    what: 'keys generate --out',
    args: (target) => ['keys', 'generate', '--out', target, '--force'],
    whole: (bytes) => expect(parseRouterKeyFile(bytes.toString('utf8')).keyId).toBe(0),
  },
  {
    what: 'keys fetch --out',
    args: (target) => ['keys', 'fetch', '--router', router.url, '--out', target],
    whole: (bytes) => expect(parseKeyConfigList(bytes)[0]?.keyId).toBe(3),
  },
];

describe('output files are written atomically', () => {
  it.each(OUTPUTS.map((output) => [output.what, output] as const))('%s: a target that cannot be written (a directory) fails with exit 2 and leaves no temp file', async (_what, output) => {
    const dir = join(work, `fail-${output.what.replace(/\W+/g, '-')}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const target = join(dir, 'out.file');
    mkdirSync(target); // rename(temp, target) fails: the temp file was already written
    const result = await run(output.args(target));
    expect(result.code, result.stderr).toBe(2);
    expect(['WRITE_FAILED', 'FILE_EXISTS']).toContain(errorCode(result.stderr));
    expect(statSync(target).isDirectory()).toBe(true);
    expect(readdirSync(target)).toEqual([]);
    expect(temps(dir, 'out.file')).toEqual([]);
    // A parent that is a regular file: nothing can be created at all (two outputs suffice).
    if (output.what !== 'ask --save' && output.what !== 'keys generate --out') return;
    writeFileSync(join(dir, 'plain'), 'x');
    const blocked = await run(output.args(join(dir, 'plain', 'out.file')));
    expect(blocked.code, blocked.stderr).toBe(2);
    expect(errorCode(blocked.stderr)).toBe('WRITE_FAILED');
    expect(readFileSync(join(dir, 'plain'), 'utf8')).toBe('x');
  });

  it.each(OUTPUTS.map((output) => [output.what, output] as const))(
    '%s: killed (SIGKILL, then SIGTERM) the moment its temp file appears: the target is absent or whole, never half',
    async (_what, output) => {
      for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
        const dir = join(work, `kill-${signal}-${output.what.replace(/\W+/g, '-')}`);
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
        const target = join(dir, 'out.file');
        const watcher = watch(dir);
        const child = spawnCli(output.args(target), { env: sandbox.env });
        let killed = false;
        watcher.on('change', (_event, name) => {
          if (!killed && typeof name === 'string' && name.startsWith('.out.file.') && name.endsWith('.tmp')) {
            killed = true;
            child.kill(signal);
          }
        });
        const result = await collect(child, { timeoutMs: 20_000 });
        watcher.close();
        expect(killed, `${output.what}: the temp file was never seen`).toBe(true);
        kills[signal === 'SIGKILL' ? 'sigkill' : 'sigterm'] += 1;
        const leftover = temps(dir, 'out.file');
        if (existsSync(target)) {
          output.whole(readFileSync(target));
          kills.targetWhole += 1;
        } else {
          kills.targetAbsent += 1;
        }
        if (signal === 'SIGTERM') {
          // Not killed outright: the write completes or is undone; nothing is left behind.
          expect(leftover, `${output.what} after SIGTERM: ${result.stderr}`).toEqual([]);
          if (result.signal === 'SIGTERM') {
            // The signal landed as the process was exiting, too late for its handler: the work
            // was done, so the target must be there and whole (checked above).
            expect(existsSync(target), `${output.what}: killed at exit without its target`).toBe(true);
          } else {
            expect([0, 130, 143]).toContain(result.code);
          }
        } else {
          expect(result.signal).toBe('SIGKILL');
          // Nothing can clean up after SIGKILL: at most one hidden temp file is left, never a
          // half-written target; the next write of the same file removes it.
          expect(leftover.length).toBeLessThanOrEqual(1);
          if (leftover.length > 0) kills.tempSeenAfterKill += 1;
          const again = await run(output.args(target));
          expect(again.code, again.stderr).toBe(0);
          output.whole(readFileSync(target));
          expect(temps(dir, 'out.file')).toEqual([]);
          if (leftover.length > 0) kills.cleanedByNextWrite += 1;
        }
      }
    },
  );
});
