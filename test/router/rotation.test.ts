/**
 * Router keys and rotation with the real CLI: `keys generate` writes 0600 key files, `serve`
 * refuses key files readable by group or others, publishes only the current key, accepts a retired
 * key during the grace period and answers 422 after it (and for unknown key ids).
 */
import { chmodSync, copyFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAll, send } from '../../src/client/http.js';
import { chooseKey, type SelectedKey } from '../../src/client/keys.js';
import { keyConfigOf, parseKeyConfigList, parseRouterKeyFile, publicKeyFingerprint } from '../../src/hpke/index.js';
import { makeSandbox, runCli } from '../helpers/cli.js';
import { startRouterProcess, type RouterProcess } from '../helpers/router-process.js';
import { decode, expectRefusal, finalAnswer, post, seal, TYPES, waitFor } from './helpers.js';

const sandbox = makeSandbox();
const oldKeyFile = join(sandbox.dir, 'router-old.key');
const newKeyFile = join(sandbox.dir, 'router-new.key');
let oldKey: SelectedKey;
let newKey: SelectedKey;

async function generate(file: string, keyId: number): Promise<{ file: string; key_id: number; fingerprint: string }> {
  const result = await runCli(['keys', 'generate', '--out', file, '--key-id', String(keyId), '--json'], { env: sandbox.env });
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as { file: string; key_id: number; fingerprint: string };
}

/** The public half of a key file, as a client that kept the old key config would hold it. */
async function selectedKeyOf(file: string): Promise<SelectedKey> {
  const key = await parseRouterKeyFile(readFileSync(file, 'utf8'));
  return chooseKey([keyConfigOf(key)], undefined);
}

beforeAll(async () => {
  const old = await generate(oldKeyFile, 1);
  const fresh = await generate(newKeyFile, 2);
  expect(old).toMatchObject({ file: oldKeyFile, key_id: 1 });
  expect(fresh).toMatchObject({ file: newKeyFile, key_id: 2 });
  oldKey = await selectedKeyOf(oldKeyFile);
  newKey = await selectedKeyOf(newKeyFile);
  expect(oldKey.fingerprint).toBe(old.fingerprint);
  expect(newKey.fingerprint).toBe(fresh.fingerprint);
});

afterAll(() => sandbox.cleanup());

describe('keys generate', () => {
  it('writes the private key file with mode 0600 and prints its id and fingerprint', async () => {
    expect(statSync(oldKeyFile).mode & 0o777).toBe(0o600);
    expect(statSync(newKeyFile).mode & 0o777).toBe(0o600);
    const file = join(sandbox.dir, 'plain.key');
    const result = await runCli(['keys', 'generate', '--out', file, '--key-id', '9'], { env: sandbox.env });
    expect(result.code, result.stderr).toBe(0);
    const fingerprint = publicKeyFingerprint((await parseRouterKeyFile(readFileSync(file, 'utf8'))).publicKey);
    expect(result.stdout).toBe(`wrote router key ${file} (key id 9, ${fingerprint})\n`);
    // The private key goes to the file only.
    const privateKey = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    for (const value of Object.values(privateKey)) {
      if (typeof value === 'string' && value.length >= 40) expect(result.stdout + result.stderr).not.toContain(value);
    }
  });

  it('refuses to replace a key file without --force; with --force the new file is 0600 again', async () => {
    const file = join(sandbox.dir, 'replace.key');
    await generate(file, 3);
    const before = readFileSync(file, 'utf8');
    const refused = await runCli(['keys', 'generate', '--out', file], { env: sandbox.env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`harmony-hpke: error: ${file} already exists; pass --force to replace it (FILE_EXISTS)\n`);
    expect(readFileSync(file, 'utf8')).toBe(before);
    chmodSync(file, 0o644);
    const forced = await runCli(['keys', 'generate', '--out', file, '--force'], { env: sandbox.env });
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).not.toBe(before);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});

describe('serve refuses unsafe or unusable key files', () => {
  for (const mode of [0o640, 0o604, 0o660]) {
    it(`a key file with mode ${mode.toString(8)}: one error line, exit 4, nothing served`, async () => {
      const file = join(sandbox.dir, `loose-${mode.toString(8)}.key`);
      copyFileSync(oldKeyFile, file);
      chmodSync(file, mode);
      const result = await runCli(['serve', '--port', '0', '--key', file], { env: sandbox.env, timeoutMs: 15_000 });
      expect(result.code).toBe(4);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        `harmony-hpke: error: key file ${file} is readable by group or others (mode ${mode.toString(8)}); run chmod 600 on it (KEY_FILE_PERMISSIONS)\n`,
      );
    });
  }

  it('a missing key file, and two keys with one key id, are usage errors (exit 2)', async () => {
    const missing = join(sandbox.dir, 'missing.key');
    const absent = await runCli(['serve', '--port', '0', '--key', missing], { env: sandbox.env, timeoutMs: 15_000 });
    expect(absent.code).toBe(2);
    expect(absent.stderr).toBe(`harmony-hpke: error: key file not found: ${missing} (KEY_FILE_NOT_FOUND)\n`);
    const twin = join(sandbox.dir, 'twin.key');
    await generate(twin, 1);
    const duplicate = await runCli(['serve', '--port', '0', '--key', oldKeyFile, '--key', twin], { env: sandbox.env, timeoutMs: 15_000 });
    expect(duplicate.code).toBe(2);
    expect(duplicate.stderr).toMatch(/^harmony-hpke: error: two router keys share key id 1; .* \(DUPLICATE_KEY_ID\)\n$/);
  });
});

describe('rotation: serve --key new --key old', () => {
  let router: RouterProcess;
  beforeAll(async () => {
    router = await startRouterProcess(sandbox.dir, ['--key', newKeyFile, '--key', oldKeyFile, '--grace-period', '1h'], sandbox.env);
  });
  afterAll(async () => {
    await router?.stop();
  });

  it('publishes only the current (first) key, and the ready file names it', async () => {
    expect(router.fingerprint).toBe(newKey.fingerprint);
    const response = await send({ method: 'GET', url: `${router.url}/.well-known/hpke-keys` });
    expect(response.headers['content-type']).toBe('application/ohttp-keys');
    const configs = parseKeyConfigList(await readAll(response.body, 64 * 1024));
    expect(configs.map((config) => [config.keyId, publicKeyFingerprint(config.publicKey)])).toEqual([[2, newKey.fingerprint]]);
    expect(router.stdout()).not.toContain('ephemeral');
  });

  it('serves a request sealed to the current key and one sealed to the retired key in its grace period', async () => {
    for (const key of [newKey, oldKey]) {
      const sealed = await seal(router.url, 'What is 6*7?', { key });
      const answer = await decode(await post(sealed), sealed.session);
      expect(answer.header?.kid).toBe(key.config.keyId);
      expect(finalAnswer(answer.ids)).toBe('6 * 7 = 42.');
    }
  });

  it('answers 422 ohttp-key for a key id it does not hold', async () => {
    const unknown = { ...newKey, config: { ...newKey.config, keyId: 200 } };
    const sealed = await seal(router.url, 'What is 6*7?', { key: unknown });
    await expectRefusal(await post(sealed), 422, TYPES.ohttpKey);
  });

  it('answers 422 for a request sealed to the retired key id but another public key', async () => {
    const impostor = { ...oldKey, config: { ...oldKey.config, publicKey: newKey.config.publicKey } };
    const sealed = await seal(router.url, 'What is 6*7?', { key: impostor });
    await expectRefusal(await post(sealed), 422, TYPES.ohttpKey);
  });
});

describe('rotation: after the grace period', () => {
  it('a request sealed to the retired key gets 422 once the grace period ends; the current key still works', async () => {
    const router = await startRouterProcess(sandbox.dir, ['--key', newKeyFile, '--key', oldKeyFile, '--grace-period', '1s'], sandbox.env);
    try {
      // Poll with fresh requests (each one sealed anew) until the retired key is refused.
      const refusal = await waitFor(async () => {
        const sealed = await seal(router.url, 'What is 1+1?', { key: oldKey });
        const response = await post(sealed);
        if (response.status === 200) {
          await decode(response, sealed.session);
          return undefined;
        }
        return expectRefusal(response, 422, TYPES.ohttpKey);
      }, 'the retired key to be refused');
      expect(refusal.problem['type']).toBe(TYPES.ohttpKey);
      const current = await seal(router.url, 'What is 1+1?', { key: newKey });
      expect(finalAnswer((await decode(await post(current), current.session)).ids)).toBe('1 + 1 = 2.');
    } finally {
      await router.stop();
    }
  });
});
