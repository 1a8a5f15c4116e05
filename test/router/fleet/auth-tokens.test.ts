import { mkdtempSync, writeFileSync, chmodSync, readFileSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ApiTokenTable,
  hashApiToken,
  newApiToken,
  parseApiTokenFile,
  tokenFileLine,
  API_TOKEN_PREFIX,
} from '../../../src/router/auth/tokens.js';
import { appendApiToken, readApiTokenFile } from '../../../src/router/auth/token-file.js';
import { TokenLimiter } from '../../../src/router/auth/limits.js';
import { HarmonyHpkeError } from '../../../src/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'hhpke-tokens-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('API tokens', () => {
  it('are 256-bit, prefixed, and distinct', () => {
    const tokens = new Set(Array.from({ length: 200 }, () => newApiToken()));
    expect(tokens.size).toBe(200);
    for (const token of tokens) {
      expect(token.startsWith(API_TOKEN_PREFIX)).toBe(true);
      expect(Buffer.from(token.slice(API_TOKEN_PREFIX.length), 'base64url').byteLength).toBe(32);
    }
  });

  it('authenticate a listed token and refuse missing, unknown and disabled ones alike', () => {
    const good = newApiToken();
    const off = newApiToken();
    const text = [
      '# comment',
      tokenFileLine('team-a', good, { maxStreams: 2 }),
      '',
      JSON.stringify({ ...JSON.parse(tokenFileLine('old', off)), enabled: false }),
    ].join('\n');
    const table = new ApiTokenTable(parseApiTokenFile(text, 'tokens'));
    const ok = table.authenticate(good);
    expect(ok.ok && ok.entry.name).toBe('team-a');
    expect(ok.ok && ok.entry.limits.maxStreams).toBe(2);
    expect(table.authenticate(undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(table.authenticate('')).toEqual({ ok: false, reason: 'missing' });
    expect(table.authenticate(42)).toEqual({ ok: false, reason: 'missing' });
    expect(table.authenticate(newApiToken())).toEqual({ ok: false, reason: 'unknown' });
    expect(table.authenticate(good.slice(0, -1))).toEqual({ ok: false, reason: 'unknown' });
    expect(table.authenticate(off)).toEqual({ ok: false, reason: 'disabled' });
    // An over-long token whose prefix is a real token is still unknown.
    expect(table.authenticate(good + 'x'.repeat(300))).toEqual({ ok: false, reason: 'unknown' });
  });

  it('the file stores only hashes', () => {
    const token = newApiToken();
    const line = tokenFileLine('ci', token);
    expect(line).not.toContain(token.slice(API_TOKEN_PREFIX.length));
    expect(line).toContain(hashApiToken(token).toString('hex'));
  });

  it.each([
    ['not json', 'line 1: not a JSON object'],
    ['{"name":"a b","hash":"sha256:' + '0'.repeat(64) + '"}', '"name"'],
    ['{"name":"a","hash":"md5:00"}', '"hash"'],
    ['{"name":"a","hash":"sha256:' + '0'.repeat(64) + '","enabled":"yes"}', '"enabled"'],
    ['{"name":"a","hash":"sha256:' + '0'.repeat(64) + '","limits":{"max_streams":0}}', 'max_streams'],
    ['{"name":"a","hash":"sha256:' + '0'.repeat(64) + '","limits":{"burst":3}}', "unknown limit 'burst'"],
    [
      '{"name":"a","hash":"sha256:' + '0'.repeat(64) + '"}\n{"name":"a","hash":"sha256:' + '1'.repeat(64) + '"}',
      'used twice',
    ],
  ])('a bad file is refused with the line and what is wrong: %s', (text, message) => {
    try {
      parseApiTokenFile(text, 'tokens.jsonl');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(HarmonyHpkeError);
      expect((error as HarmonyHpkeError).code).toBe('API_TOKENS_INVALID');
      expect((error as Error).message).toContain(message);
    }
  });

  it('append creates the file 0600, keeps earlier lines, refuses a taken name and a group-readable file', async () => {
    const file = join(dir, 'sub', 'api-tokens');
    const first = newApiToken();
    const second = newApiToken();
    await appendApiToken(file, 'one', first);
    await appendApiToken(file, 'two', second, { requestsPerMinute: 5 });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const table = await readApiTokenFile(file);
    expect(table.size).toBe(2);
    expect(table.authenticate(first).ok).toBe(true);
    const two = table.authenticate(second);
    expect(two.ok && two.entry.limits.requestsPerMinute).toBe(5);
    await expect(appendApiToken(file, 'one', newApiToken())).rejects.toMatchObject({ code: 'API_TOKEN_NAME_TAKEN' });
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);
    chmodSync(file, 0o640);
    await expect(readApiTokenFile(file)).rejects.toMatchObject({ code: 'API_TOKENS_PERMISSIONS' });
    await expect(appendApiToken(file, 'three', newApiToken())).rejects.toMatchObject({ code: 'API_TOKENS_PERMISSIONS' });
    await expect(readApiTokenFile(join(dir, 'none'))).rejects.toMatchObject({ code: 'API_TOKENS_NOT_FOUND' });
  });

  it('append leaves a corrupt file alone', async () => {
    const file = join(dir, 'corrupt');
    writeFileSync(file, 'garbage\n', { mode: 0o600 });
    await expect(appendApiToken(file, 'x', newApiToken())).rejects.toMatchObject({ code: 'API_TOKENS_INVALID' });
    expect(readFileSync(file, 'utf8')).toBe('garbage\n');
  });
});

describe('TokenLimiter', () => {
  const entry = (limits: object) => ({ name: 't', hash: Buffer.alloc(32), enabled: true, limits });

  it('caps concurrent streams and frees a slot on release (once)', () => {
    const limiter = new TokenLimiter();
    const e = entry({ maxStreams: 2 });
    const a = limiter.admit(e);
    const b = limiter.admit(e);
    const c = limiter.admit(e);
    expect(a.ok && b.ok).toBe(true);
    expect(c).toEqual({ ok: false, reason: 'streams', retryAfterSeconds: 1 });
    if (a.ok) {
      a.release();
      a.release();
    }
    expect(limiter.admit(e).ok).toBe(true);
    expect(limiter.admit(e).ok).toBe(false);
  });

  it('caps requests per rolling minute with a Retry-After until the oldest leaves the window', () => {
    let now = 1_000_000;
    const limiter = new TokenLimiter(() => now);
    const e = entry({ requestsPerMinute: 3 });
    for (let i = 0; i < 3; i += 1) {
      const admitted = limiter.admit(e);
      expect(admitted.ok).toBe(true);
      if (admitted.ok) admitted.release();
      now += 10_000;
    }
    const refused = limiter.admit(e);
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.reason).toBe('rate');
    // The first was accepted 30 s ago: it leaves the window in 30 s.
    expect(!refused.ok && refused.retryAfterSeconds).toBe(30);
    now += 30_000;
    expect(limiter.admit(e).ok).toBe(true);
  });

  it('limits each token name separately', () => {
    const limiter = new TokenLimiter();
    const a = { ...entry({ maxStreams: 1 }), name: 'a' };
    const b = { ...entry({ maxStreams: 1 }), name: 'b' };
    expect(limiter.admit(a).ok).toBe(true);
    expect(limiter.admit(b).ok).toBe(true);
    expect(limiter.admit(a).ok).toBe(false);
  });
});
