/**
 * `keys generate|show|fetch|pin` with the built binary and router processes serving generated
 * keys: files and modes, fingerprints that agree everywhere, trust on first use, and a pinned
 * router that comes back with another key being refused (exit 4) until it is pinned again.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSandbox, runCliInProcess } from '../helpers/cli.js';
import { startRouterProcess, type RouterProcess } from '../helpers/router-process.js';
import { expectOneErrorLine } from './support.js';

const sandbox = makeSandbox();
const env = sandbox.env;
const file = (name: string) => join(sandbox.dir, name);
const routers: RouterProcess[] = [];
let first: { fingerprint: string };
let second: { fingerprint: string };

async function start(args: string[]): Promise<RouterProcess> {
  const started = await startRouterProcess(sandbox.dir, ['--render-workers', '0', ...args], env);
  routers.push(started);
  return started;
}

async function generate(name: string, extra: string[] = []): Promise<{ file: string; key_id: number; fingerprint: string }> {
  const result = await runCliInProcess(['keys', 'generate', '--out', file(name), '--json', ...extra], { env });
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as { file: string; key_id: number; fingerprint: string };
}

beforeAll(async () => {
  [first, second] = await Promise.all([generate('first.key', ['--key-id', '3']), generate('second.key')]);
});

afterAll(async () => {
  await Promise.all(routers.map((router) => router.stop()));
  sandbox.cleanup();
});

describe('keys generate and show', () => {
  it('writes a private key file with mode 0600 and refuses to overwrite it without --force', async () => {
    expect(statSync(file('first.key')).mode & 0o777).toBe(0o600);
    expect(first).toMatchObject({ file: file('first.key'), key_id: 3 });
    expect(first.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);

    const again = await runCliInProcess(['keys', 'generate', '--out', file('first.key')], { env });
    expect(again.code).toBe(2);
    expectOneErrorLine(again.stderr, 'FILE_EXISTS');
    expect(JSON.parse(readFileSync(file('first.key'), 'utf8'))).toMatchObject({ key_id: 3 });

    const forced = await runCliInProcess(['keys', 'generate', '--out', file('scratch.key'), '--force'], { env });
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/^wrote router key .+scratch\.key \(key id 0, sha256:[0-9a-f]{64}\)\n$/);

    const badId = await runCliInProcess(['keys', 'generate', '--out', file('bad-id.key'), '--key-id', '256'], { env });
    expect(badId.code).toBe(2);
    expectOneErrorLine(badId.stderr, 'USAGE_KEY_ID');
  });

  it('show: id, suites and fingerprint, never the private key; --config-out writes the public key config', async () => {
    const privateKey = (JSON.parse(readFileSync(file('first.key'), 'utf8')) as { private_key: string }).private_key;
    const shown = await runCliInProcess(['keys', 'show', file('first.key'), '--config-out', file('first.ohttp-keys')], { env });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toBe(`key id 3  kem 0x0020  ${first.fingerprint}  suites 1/1 1/2 1/3  (private key present, not shown)\n`);
    expect(shown.stdout).not.toContain(privateKey);

    const json = await runCliInProcess(['keys', 'show', file('first.key'), '--json'], { env });
    expect(JSON.parse(json.stdout)).toMatchObject({ kind: 'router-key', keys: [{ key_id: 3, kem_id: 32, fingerprint: first.fingerprint }] });
    expect(json.stdout).not.toContain(privateKey);

    const config = await runCliInProcess(['keys', 'show', file('first.ohttp-keys'), '--json'], { env });
    expect(config.code, config.stderr).toBe(0);
    expect(JSON.parse(config.stdout)).toMatchObject({ kind: 'key-config', keys: [{ key_id: 3, fingerprint: first.fingerprint }] });
  });
});

describe('keys fetch and pin against a router', () => {
  it('fetch: the key the router serves, the same bytes as the key file published; a wrong pin is refused', async () => {
    const router = await start(['--key', file('first.key')]);
    expect(router.fingerprint).toBe(first.fingerprint);
    const fetched = await runCliInProcess(['keys', 'fetch', '--router', router.url, '--out', file('fetched.ohttp-keys')], { env });
    expect(fetched.code, fetched.stderr).toBe(0);
    expect(fetched.stdout).toBe(`key id 3  ${first.fingerprint}\n`);
    expect(readFileSync(file('fetched.ohttp-keys'))).toEqual(readFileSync(file('first.ohttp-keys')));

    const json = await runCliInProcess(['keys', 'fetch', '--router', router.url, '--json', '--key-pin', first.fingerprint], { env });
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ router: router.url, file: null, selected_key_id: 3, keys: [{ key_id: 3, fingerprint: first.fingerprint }] });

    const wrong = await runCliInProcess(['keys', 'fetch', '--router', router.url, '--key-pin', second.fingerprint], { env });
    expect(wrong.code).toBe(4);
    expectOneErrorLine(wrong.stderr, 'PIN_MISMATCH');
  });

  it('pin on first use; the same router with a new key is refused (4) until pinned again', async () => {
    const original = await start(['--key', file('first.key')]);
    const origin = original.url;
    const pinned = await runCliInProcess(['keys', 'pin', '--router', origin], { env });
    expect(pinned.code, pinned.stderr).toBe(0);
    expect(pinned.stdout).toBe(`pinned ${origin} to ${first.fingerprint}\n`);
    const listed = await runCliInProcess(['keys', 'pin', '--list', '--json'], { env });
    expect(JSON.parse(listed.stdout)).toMatchObject({ pins: { [origin]: first.fingerprint } });
    const asked = await runCliInProcess(['ask', 'What is 2+2?', '--router', origin], { env });
    expect(asked.code, asked.stderr).toBe(0);

    // The router restarts on the same address with another key.
    const port = new URL(origin).port;
    await original.stop();
    const replaced = await start(['--port', port, '--key', file('second.key')]);
    expect(replaced.url).toBe(origin);
    for (const args of [
      ['ask', 'What is 2+2?', '--router', origin],
      ['create-request', 'What is 2+2?', '--router', origin],
      ['keys', 'fetch', '--router', origin],
      ['smoke', '--router', origin],
    ]) {
      const refused = await runCliInProcess(args, { env });
      expect(refused.code, args.join(' ')).toBe(4);
      expectOneErrorLine(refused.stderr, 'PIN_MISMATCH');
      // Both fingerprints are named: the pinned one and the one the router now serves.
      expect(`${refused.stdout}${refused.stderr}`).toContain(`the router's key ${second.fingerprint} does not match the pinned fingerprint ${first.fingerprint}`);
    }

    const repinned = await runCliInProcess(['keys', 'pin', '--router', origin], { env });
    expect(repinned.stdout).toBe(`pinned ${origin} to ${second.fingerprint} (was ${first.fingerprint})\n`);
    const again = await runCliInProcess(['ask', 'What is 2+2?', '--router', origin], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe('2 + 2 = 4.\n');

    const removed = await runCliInProcess(['keys', 'pin', '--router', origin, '--remove'], { env });
    expect(removed.stdout).toBe(`removed the pin for ${origin}\n`);
    const removedAgain = await runCliInProcess(['keys', 'pin', '--router', origin, '--remove'], { env });
    expect(removedAgain.stdout).toBe(`no pin for ${origin}\n`);
    const empty = await runCliInProcess(['keys', 'pin', '--list'], { env });
    expect(empty.stdout).not.toContain(origin);
  });

  it('--fingerprint pins a given key without asking the router; a bad one is a usage error', async () => {
    const origin = 'http://127.0.0.1:9/prefix';
    const given = await runCliInProcess(['keys', 'pin', '--router', origin, '--fingerprint', second.fingerprint.toUpperCase().replace('SHA256:', 'sha256:')], {
      env,
    });
    expect(given.code, given.stderr).toBe(0);
    expect(given.stdout).toBe(`pinned ${origin} to ${second.fingerprint}\n`);
    const listed = await runCliInProcess(['keys', 'pin', '--list'], { env });
    expect(listed.stdout).toContain(`${origin}  ${second.fingerprint}\n`);

    const bad = await runCliInProcess(['keys', 'pin', '--router', origin, '--fingerprint', 'md5:1234'], { env });
    expect(bad.code).toBe(2);
    expectOneErrorLine(bad.stderr, 'KEY_PIN_INVALID');
  });
});
