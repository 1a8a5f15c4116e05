/**
 * Parsers of untrusted input (session files, key files, key config lists, pins, sealed requests,
 * request and chunk plaintexts) give typed errors with stable codes, never TypeErrors.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HarmonyHpkeError, IntegrityError, KeyError, UsageError } from '../../src/core/errors.js';
import {
  chunkNonce,
  deriveResponseKeys,
  describeErrorCode,
  describeSession,
  encodeChunkPlaintext,
  encodeKeyConfig,
  encodeRequestPlaintext,
  fromBase64Url,
  generateRouterKey,
  keyConfigOf,
  keyConfigSha256,
  matchesPin,
  newRequestId,
  newResponseNonce,
  openRequest,
  parseChunkPlaintext,
  parseKeyConfigList,
  parseKeyPin,
  parseRequestPlaintext,
  parseRouterKeyFile,
  parseSealedRequest,
  parseSession,
  PROTOCOL_ERROR_CODES,
  publicKeyFingerprint,
  requestErrorStatus,
  ResponseSealer,
  routerErrorFromChunk,
  routerKeyFromPrivateKey,
  sealRequest,
  selectKeyConfig,
  serializeRouterKeyFile,
  serializeSession,
  toBase64Url,
  tryFromBase64Url,
  type RequestPayload,
  type Session,
} from '../../src/hpke/index.js';
import { hex, repoRoot, utf8, vector } from './vectors-data.js';

const SEED = Number(process.env.FC_SEED ?? 20260101);

function errorOf(fn: () => unknown): HarmonyHpkeError {
  try {
    fn();
  } catch (error) {
    if (error instanceof HarmonyHpkeError) return error;
    throw new Error(`expected a typed error, got ${String(error)}`);
  }
  throw new Error('expected an error');
}

async function asyncErrorOf(fn: () => Promise<unknown>): Promise<HarmonyHpkeError> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof HarmonyHpkeError) return error;
    throw new Error(`expected a typed error, got ${String(error)}`);
  }
  throw new Error('expected an error');
}

const v = vector('aes-128-gcm');

const goodSession = (): Session => ({
  format: 'harmony-hpke-session/1',
  router: 'https://router.example',
  kid: 7,
  kem: 32,
  kdf: 1,
  aead: 1,
  enc: hex(v.enc),
  secret: hex(v.secret),
  rid: 'gUZu481s9E16HEOJLVjwng',
  iat: 1767225600,
  keyConfigSha256: 'a'.repeat(64),
});

describe('base64url', () => {
  it('round-trips and refuses non-canonical input', () => {
    const bytes = Uint8Array.of(0xfb, 0xff, 0x01);
    expect(toBase64Url(bytes)).toBe('-_8B');
    expect(fromBase64Url('-_8B')).toEqual(bytes);
    expect(tryFromBase64Url('-_8')).toEqual(Uint8Array.of(0xfb, 0xff));
    for (const bad of ['-_8B=', '+/8B', '-_9', 'A', '-_ 8B', '-_8B\n', 'AA==', 'é']) {
      expect(tryFromBase64Url(bad), bad).toBeUndefined();
    }
    expect(tryFromBase64Url('AA')).toEqual(Uint8Array.of(0));
    expect(tryFromBase64Url('AB')).toBeUndefined(); // non-zero unused bits
    expect(errorOf(() => fromBase64Url('a=b')).code).toBe('BASE64URL_INVALID');
  });
});

describe('session files', () => {
  it('round-trip, with and without response_nonce, and describe without the secret', () => {
    const s = goodSession();
    const text = serializeSession(s);
    expect(JSON.parse(text)).toEqual({
      format: 'harmony-hpke-session/1',
      router: 'https://router.example',
      kid: 7,
      kem: 32,
      kdf: 1,
      aead: 1,
      enc: toBase64Url(hex(v.enc)),
      secret: toBase64Url(hex(v.secret)),
      rid: 'gUZu481s9E16HEOJLVjwng',
      iat: 1767225600,
      key_config_sha256: 'a'.repeat(64),
    });
    expect(parseSession(`${text}\n`)).toEqual(s);
    const decoded = { ...s, responseNonce: hex(v.response_nonce) };
    expect(JSON.parse(serializeSession(decoded)).response_nonce).toBe(toBase64Url(hex(v.response_nonce)));
    expect(parseSession(serializeSession(decoded))).toEqual(decoded);
    const description = describeSession(decoded);
    expect(JSON.stringify(description)).not.toContain(toBase64Url(hex(v.secret)));
    expect(description).not.toHaveProperty('secret');
    expect(description.suite).toBe('DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM');
    expect(description.response_nonce).toBe(toBase64Url(hex(v.response_nonce)));
  });

  const base = () => JSON.parse(serializeSession(goodSession())) as Record<string, unknown>;
  it.each([
    ['not JSON', '{"format":', 'SESSION_CORRUPT'],
    ['an array', '[]', 'SESSION_CORRUPT'],
    ['null', 'null', 'SESSION_CORRUPT'],
    ['no format', JSON.stringify({ ...base(), format: undefined }), 'SESSION_WRONG_FORMAT'],
    ['another format', JSON.stringify({ ...base(), format: 'harmony-hpke-key/1' }), 'SESSION_WRONG_FORMAT'],
    ['a newer version', JSON.stringify({ ...base(), format: 'harmony-hpke-session/2' }), 'SESSION_NEWER_VERSION'],
    ['a missing field', JSON.stringify({ ...base(), secret: undefined }), 'SESSION_FIELD_INVALID'],
    ['a secret of the wrong length', JSON.stringify({ ...base(), secret: 'AAAA' }), 'SESSION_FIELD_INVALID'],
    ['padded base64', JSON.stringify({ ...base(), enc: `${base().enc as string}=` }), 'SESSION_FIELD_INVALID'],
    ['an unsupported suite', JSON.stringify({ ...base(), aead: 9 }), 'SESSION_FIELD_INVALID'],
    ['a string kid', JSON.stringify({ ...base(), kid: '7' }), 'SESSION_FIELD_INVALID'],
    ['a bad rid', JSON.stringify({ ...base(), rid: 'x' }), 'SESSION_FIELD_INVALID'],
    ['a bad digest', JSON.stringify({ ...base(), key_config_sha256: 'zz' }), 'SESSION_FIELD_INVALID'],
    ['a bad response nonce', JSON.stringify({ ...base(), response_nonce: 'AAAA' }), 'SESSION_FIELD_INVALID'],
  ])('refuses %s', (_name, text, code) => {
    const error = errorOf(() => parseSession(text));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.code).toBe(code);
    expect(error.message).not.toContain(toBase64Url(hex(v.secret)));
  });

  it('never throws anything but typed errors on random input', () => {
    const keys = ['format', 'router', 'kid', 'kem', 'kdf', 'aead', 'enc', 'secret', 'rid', 'iat', 'key_config_sha256', 'response_nonce'];
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((j) => JSON.stringify(j)),
          fc
            .dictionary(fc.constantFrom(...keys), fc.jsonValue())
            .map((d) => JSON.stringify({ ...base(), ...d })),
        ),
        (text) => {
          try {
            parseSession(text);
          } catch (error) {
            expect(error).toBeInstanceOf(UsageError);
          }
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });
});

describe('router key files', () => {
  it('round-trip and check the public key', async () => {
    const key = await generateRouterKey({ keyId: 3 });
    expect(key.suites.map((s) => s.aeadId)).toEqual([1, 2, 3]);
    const text = serializeRouterKeyFile(key);
    const file = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(file)).toEqual(['format', 'key_id', 'kem', 'suites', 'private_key', 'public_key', 'created']);
    expect(file.suites).toEqual([
      [1, 1],
      [1, 2],
      [1, 3],
    ]);
    expect(parseRouterKeyFile(text)).toEqual(key);
    const fromSk = await routerKeyFromPrivateKey(key.privateKey, { keyId: 3 });
    expect(fromSk.publicKey).toEqual(key.publicKey);
  });

  it.each([
    ['not JSON', () => 'nope', 'KEY_FILE_CORRUPT'],
    ['another format', (f: Record<string, unknown>) => ({ ...f, format: 'harmony-hpke-session/1' }), 'KEY_FILE_WRONG_FORMAT'],
    ['a newer version', (f: Record<string, unknown>) => ({ ...f, format: 'harmony-hpke-key/2' }), 'KEY_FILE_NEWER_VERSION'],
    ['a key id out of range', (f: Record<string, unknown>) => ({ ...f, key_id: 256 }), 'KEY_FILE_CORRUPT'],
    ['another KEM', (f: Record<string, unknown>) => ({ ...f, kem: 16 }), 'KEY_FILE_CORRUPT'],
    ['no suites', (f: Record<string, unknown>) => ({ ...f, suites: [] }), 'KEY_FILE_CORRUPT'],
    ['an unsupported suite', (f: Record<string, unknown>) => ({ ...f, suites: [[1, 9]] }), 'KEY_FILE_CORRUPT'],
    ['a short private key', (f: Record<string, unknown>) => ({ ...f, private_key: 'AAAA' }), 'KEY_FILE_CORRUPT'],
    ['a missing public key', (f: Record<string, unknown>) => ({ ...f, public_key: undefined }), 'KEY_FILE_CORRUPT'],
    [
      'a public key of another private key',
      (f: Record<string, unknown>) => ({ ...f, public_key: toBase64Url(hex(v.pkR)) }),
      'KEY_FILE_KEY_MISMATCH',
    ],
  ])('refuses %s', async (_name, edit, code) => {
    const key = await generateRouterKey();
    const file = JSON.parse(serializeRouterKeyFile(key)) as Record<string, unknown>;
    const edited = edit(file);
    const text = typeof edited === 'string' ? edited : JSON.stringify(edited);
    const error = errorOf(() => parseRouterKeyFile(text));
    expect(error).toBeInstanceOf(KeyError);
    expect(error.code).toBe(code);
    expect(error.message).not.toContain(file.private_key as string);
  });

  it('refuses bad options with KEY_OPTIONS_INVALID', async () => {
    expect((await asyncErrorOf(() => generateRouterKey({ keyId: 300 }))).code).toBe('KEY_OPTIONS_INVALID');
    expect((await asyncErrorOf(() => generateRouterKey({ suites: [] }))).code).toBe('KEY_OPTIONS_INVALID');
    expect((await asyncErrorOf(() => routerKeyFromPrivateKey(new Uint8Array(5)))).code).toBe('PRIVATE_KEY_INVALID');
  });

  it('never throws anything but typed errors on random input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.jsonValue().map((j) => JSON.stringify(j))), (text) => {
        try {
          parseRouterKeyFile(text);
        } catch (error) {
          expect(error).toBeInstanceOf(KeyError);
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});

describe('key config lists, fingerprints and pins', () => {
  it('skips configs of unknown KEMs, refuses duplicates and empty lists', () => {
    const known = encodeKeyConfig({ keyId: 1, kemId: 32, publicKey: hex(v.pkR), suites: [{ kdfId: 1, aeadId: 1 }] });
    const unknown = Uint8Array.of(2, 0x64, 0x7a, 9, 9, 9, 9, 9, 0, 4, 0, 1, 0, 1);
    const list = (...parts: Uint8Array[]) =>
      Buffer.concat(parts.flatMap((p) => [Buffer.from([p.byteLength >> 8, p.byteLength & 0xff]), Buffer.from(p)]));
    expect(parseKeyConfigList(list(unknown, known)).map((c) => c.keyId)).toEqual([1]);
    expect(errorOf(() => selectKeyConfig(parseKeyConfigList(list(unknown)))).code).toBe('NO_SUPPORTED_SUITE');
    expect(errorOf(() => parseKeyConfigList(list(known, known))).code).toBe('KEY_CONFIG_INVALID');
    expect(errorOf(() => parseKeyConfigList(new Uint8Array(0))).code).toBe('KEY_CONFIG_INVALID');
    expect(errorOf(() => parseKeyConfigList(Uint8Array.of(0))).code).toBe('KEY_CONFIG_INVALID');
    expect(errorOf(() => parseKeyConfigList(list(known).subarray(0, 20))).code).toBe('KEY_CONFIG_INVALID');
  });

  it('selects the first config with a supported suite', () => {
    const a = { keyId: 1, kemId: 32, publicKey: hex(v.pkR), suites: [{ kdfId: 2, aeadId: 1 }] };
    const b = { keyId: 2, kemId: 32, publicKey: hex(v.pkR), suites: [{ kdfId: 1, aeadId: 9 }, { kdfId: 1, aeadId: 3 }] };
    expect(selectKeyConfig([a, b])).toEqual({ config: b, kdfId: 1, aeadId: 3 });
  });

  it('never throws anything but KeyError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        try {
          parseKeyConfigList(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(KeyError);
        }
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('fingerprints, pins and key config digests', () => {
    const fp = publicKeyFingerprint(hex(v.pkR));
    expect(fp).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(parseKeyPin(`  ${fp.toUpperCase().replace('SHA256', 'sha256')} `)).toBe(fp);
    expect(matchesPin(hex(v.pkR), fp)).toBe(true);
    expect(matchesPin(hex(v.enc), fp)).toBe(false);
    for (const bad of ['', 'sha256:', 'sha256:xyz', `sha1:${'a'.repeat(64)}`, `sha256:${'a'.repeat(63)}`]) {
      expect(errorOf(() => parseKeyPin(bad)).code).toBe('KEY_PIN_INVALID');
    }
    const [config] = parseKeyConfigList(hex(v.key_config_list));
    expect(keyConfigSha256(config!)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('sealed requests', () => {
  it('map to the documented statuses', async () => {
    const key = await routerKeyFromPrivateKey(hex(v.skR), { keyId: 7, suites: [{ kdfId: 1, aeadId: 1 }] });
    const lookup = (id: number) => (id === 7 ? key : undefined);
    const body = hex(v.enc_request);
    const cases: [Uint8Array, string, 400 | 422][] = [
      [body.subarray(0, 5), 'REQUEST_MALFORMED', 400],
      [body.subarray(0, 7 + 32 + 15), 'REQUEST_MALFORMED', 400],
      [Uint8Array.from([...body.subarray(0, 6), 9, ...body.subarray(7)]), 'REQUEST_SUITE_UNSUPPORTED', 422],
      [Uint8Array.from([...body.subarray(0, 6), 2, ...body.subarray(7)]), 'REQUEST_SUITE_UNSUPPORTED', 422],
      [Uint8Array.from([8, ...body.subarray(1)]), 'REQUEST_KEY_UNKNOWN', 422],
      [Uint8Array.from([...body.subarray(0, -1), body.at(-1)! ^ 1]), 'REQUEST_OPEN_FAILED', 422],
      [Uint8Array.from([...body.subarray(0, 8), body[8]! ^ 1, ...body.subarray(9)]), 'REQUEST_OPEN_FAILED', 422],
    ];
    for (const [input, code, status] of cases) {
      const error = await asyncErrorOf(() => openRequest(input, lookup));
      expect(error.code).toBe(code);
      expect(requestErrorStatus(error)).toBe(status);
    }
    expect(requestErrorStatus(new Error('x'))).toBeUndefined();
    expect(parseSealedRequest(body).ciphertext.byteLength).toBe(1024 + 16);
  });

  it('sealing refuses a suite the config does not offer', async () => {
    const [config] = parseKeyConfigList(hex(v.key_config_list));
    const error = await asyncErrorOf(() => sealRequest(config!, { kdfId: 1, aeadId: 2 }, new Uint8Array(1024)));
    expect(error.code).toBe('SUITE_UNSUPPORTED');
  });

  it('random bodies never throw anything but the four request codes', async () => {
    const key = await generateRouterKey({ keyId: 7 });
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 90 }), fc.boolean(), async (bytes, header) => {
        const body = header ? Uint8Array.from([7, 0, 32, 0, 1, 0, 1, ...bytes]) : bytes;
        const error = await asyncErrorOf(() => openRequest(body, (id) => (id === 7 ? key : undefined)));
        expect(requestErrorStatus(error)).toBeDefined();
      }),
      { seed: SEED, numRuns: 100 },
    );
  });
});

describe('request plaintexts', () => {
  const payload = (): RequestPayload => ({
    v: 1,
    rid: newRequestId(),
    iat: 1767225600,
    model: 'gpt-oss-20b',
    conversation: { messages: [] },
    params: { max_tokens: 16, reasoning_effort: 'low' },
  });

  it('pad to 1024 with spaces and round-trip', () => {
    const bytes = encodeRequestPlaintext(payload());
    expect(bytes.byteLength).toBe(1024);
    expect(bytes.at(-1)).toBe(0x20);
    const big = encodeRequestPlaintext({ ...payload(), conversation: { messages: ['x'.repeat(1100)] } });
    expect(big.byteLength).toBe(2048);
    expect(parseRequestPlaintext(big).conversation.messages).toEqual(['x'.repeat(1100)]);
  });

  it.each([
    ['unpadded', (p: RequestPayload) => utf8(JSON.stringify(p)), 'REQUEST_PAYLOAD_INVALID'],
    ['padded with newlines', (p: RequestPayload) => utf8(JSON.stringify(p).padEnd(1024, '\n')), 'REQUEST_PAYLOAD_INVALID'],
    ['not JSON', () => utf8('{'.padEnd(1024, ' ')), 'REQUEST_PAYLOAD_INVALID'],
    ['v 2', (p: RequestPayload) => utf8(JSON.stringify({ ...p, v: 2 }).padEnd(1024, ' ')), 'REQUEST_VERSION_UNSUPPORTED'],
    ['a short rid', (p: RequestPayload) => utf8(JSON.stringify({ ...p, rid: 'abc' }).padEnd(1024, ' ')), 'REQUEST_PAYLOAD_INVALID'],
    ['a bad effort', (p: RequestPayload) => utf8(JSON.stringify({ ...p, params: { reasoning_effort: 'max' } }).padEnd(1024, ' ')), 'REQUEST_PAYLOAD_INVALID'],
    ['no messages', (p: RequestPayload) => utf8(JSON.stringify({ ...p, conversation: {} }).padEnd(1024, ' ')), 'REQUEST_PAYLOAD_INVALID'],
    ['invalid UTF-8', () => Uint8Array.from([0x7b, 0xff, 0x7d, ...new Uint8Array(1021).fill(0x20)]), 'REQUEST_PAYLOAD_INVALID'],
  ])('refuses %s', (_name, make, code) => {
    const error = errorOf(() => parseRequestPlaintext(make(payload())));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.code).toBe(code);
  });
});

describe('chunk plaintexts, keys and sealers', () => {
  it('encode refuses oversize and invalid messages', () => {
    expect(errorOf(() => encodeChunkPlaintext({ t: 'tokens', ids: [], text: 'x'.repeat(16_400) })).code).toBe('CHUNK_TOO_LARGE');
    expect(encodeChunkPlaintext({ t: 'tokens', ids: [], text: 'x'.repeat(16_300) }).byteLength).toBe(16_384);
    expect(errorOf(() => encodeChunkPlaintext({ t: 'tokens', ids: [-1], text: '' })).code).toBe('CHUNK_MESSAGE_INVALID');
    expect(errorOf(() => encodeChunkPlaintext({ t: 'nope' } as never)).code).toBe('CHUNK_MESSAGE_INVALID');
  });

  it('parse refuses bad bytes with integrity errors, keeps extra members', () => {
    const pad = (s: string) => utf8(s.padEnd(Math.ceil(s.length / 64) * 64, ' '));
    expect(parseChunkPlaintext(pad('{"t":"tokens","ids":[1],"text":"a","extra":true}'))).toEqual({
      t: 'tokens',
      ids: [1],
      text: 'a',
      extra: true,
    });
    for (const [bytes, code] of [
      [pad('{"t":"end","finish":"done","usage":{"prompt_tokens":1,"completion_tokens":1}}'), 'MALFORMED_CHUNK'],
      [pad('{"t":"start","rid":1,"model":"m","created":1}'), 'MALFORMED_CHUNK'],
      [pad('{"t":"error","code":"x"}'), 'MALFORMED_CHUNK'],
      [pad('[1]'), 'MALFORMED_CHUNK'],
      [new Uint8Array(0), 'MALFORMED_CHUNK'],
      [pad('{"t":42}'), 'UNKNOWN_CHUNK_TYPE'],
    ] as const) {
      const error = errorOf(() => parseChunkPlaintext(bytes));
      expect(error).toBeInstanceOf(IntegrityError);
      expect(error.code).toBe(code);
    }
  });

  it('the router error chunk becomes a sanitised RouterError', () => {
    const error = routerErrorFromChunk({ t: 'error', code: 'busy\n', message: 'try\u001b[2J later' });
    expect(error.code).toBe('ROUTER_ERROR');
    expect(error.routerCode).toBe('busy ');
    expect(error.message).not.toMatch(/[\u0000-\u001f]/);
  });

  it('key schedule inputs, nonces and the sealer', () => {
    expect(newResponseNonce(1).byteLength).toBe(16);
    expect(newResponseNonce(3).byteLength).toBe(32);
    expect(errorOf(() => newResponseNonce(7)).code).toBe('AEAD_UNSUPPORTED');
    const input = { secret: hex(v.secret), enc: hex(v.enc), responseNonce: hex(v.response_nonce), aeadId: 1 };
    expect(errorOf(() => deriveResponseKeys({ ...input, secret: new Uint8Array(32) })).code).toBe('KEY_SCHEDULE_INPUT_INVALID');
    expect(errorOf(() => deriveResponseKeys({ ...input, enc: new Uint8Array(31) })).code).toBe('KEY_SCHEDULE_INPUT_INVALID');
    const keys = deriveResponseKeys(input);
    expect(Buffer.from(chunkNonce(keys.baseNonce, 0)).equals(Buffer.from(keys.baseNonce))).toBe(true);
    const n = chunkNonce(new Uint8Array(12), 2 ** 40 + 258);
    expect(Buffer.from(n).toString('hex')).toBe('000000000000010000000102');
    expect(errorOf(() => chunkNonce(keys.baseNonce, -1)).code).toBe('CHUNK_INDEX_INVALID');
    const sealer = new ResponseSealer(keys);
    sealer.seal(new Uint8Array(64), false);
    sealer.seal(new Uint8Array(64), true);
    expect(sealer.nextIndex).toBe(2);
    expect(errorOf(() => sealer.seal(new Uint8Array(64), false)).code).toBe('SEALER_FINISHED');
  });
});

describe('the error code table', () => {
  it('has unique codes, each with a family and a meaning', () => {
    const codes = PROTOCOL_ERROR_CODES.map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const entry of PROTOCOL_ERROR_CODES) {
      expect(entry.code).toMatch(/^[A-Z][A-Z0-9_]+$/);
      expect(entry.meaning.length).toBeGreaterThan(10);
    }
  });

  it('lists every code raised in src/hpke and src/sse, with the class used there', () => {
    const familyOf: Record<string, string> = {
      UsageError: 'usage',
      KeyError: 'key',
      IntegrityError: 'integrity',
      TruncatedError: 'truncated',
      InternalError: 'internal',
    };
    const found = new Map<string, string>();
    for (const dir of ['src/hpke', 'src/sse']) {
      for (const file of readdirSync(resolve(repoRoot, dir))) {
        const source = readFileSync(resolve(repoRoot, dir, file), 'utf8');
        for (const m of source.matchAll(/new (UsageError|KeyError|IntegrityError|TruncatedError|InternalError)\(\s*'([A-Z0-9_]+)'/g)) {
          found.set(m[2]!, familyOf[m[1]!]!);
        }
        for (const m of source.matchAll(/integrity\(\s*'([A-Z0-9_]+)'/g)) found.set(m[1]!, 'integrity');
      }
    }
    expect(found.size).toBeGreaterThan(40);
    for (const [code, family] of found) {
      expect(describeErrorCode(code)?.family, code).toBe(family);
    }
  });

  it('is reproduced in docs/protocol.md, row for row', () => {
    const doc = readFileSync(resolve(repoRoot, 'docs', 'protocol.md'), 'utf8');
    for (const entry of PROTOCOL_ERROR_CODES) {
      expect(doc, entry.code).toContain(`| \`${entry.code}\` | ${entry.family} | ${entry.meaning} |`);
    }
  });

  it('keyConfigOf and fingerprints of a generated key agree', async () => {
    const key = await generateRouterKey({ keyId: 5 });
    const config = keyConfigOf(key);
    expect(publicKeyFingerprint(config.publicKey)).toBe(publicKeyFingerprint(key.publicKey));
  });
});
