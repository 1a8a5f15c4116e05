/**
 * Hostile input (issue 6): truncations and bit flips at every position, random bytes and framing
 * abuse of real artefacts (a sealed request, key configs, session and key files, an SSE response
 * recorded from a real router). The library decoders and the commands `decode`, `inspect` and
 * `keys show` (run in-process through the real commander program, exhaustively; and a handful of
 * cases through the built binary) either succeed on what is valid or fail with the documented
 * typed error and exit code: never an uncaught exception, never exit 1, never a hang.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HarmonyHpkeError, KeyError, UsageError } from '../../src/core/errors.js';
import {
  encodeKeyConfigList,
  generateRouterKey,
  keyConfigOf,
  openRequest,
  parseKeyConfigList,
  parseRouterKeyFile,
  parseSession,
  requestErrorStatus,
  serializeRouterKeyFile,
  serializeSession,
  toBase64Url,
  type RouterKey,
  type Session,
} from '../../src/hpke/index.js';
import { x25519PublicKey } from '../../src/hpke/keys.js';
import { StreamDecoder, type DecodedEvent } from '../../src/sse/index.js';
import { makeSandbox, runCliInProcess } from '../helpers/cli.js';
import {
  DOCUMENTED_FAILURES,
  ERROR_LINE,
  errorCode,
  exchangeWith,
  flipBit,
  runInProcess,
  useSeed,
  withRouter,
  type InProcessResult,
  type RealExchange,
} from './helpers.js';

const SEED = useSeed();
const sandbox = makeSandbox();
const tried: Record<string, number> = {};
const count = (what: string, n = 1) => {
  tried[what] = (tried[what] ?? 0) + n;
};

let short: RealExchange; // "What is 2+2?": ASCII, ~45 chunks
let tiny: RealExchange; // the same, cut at 12 tokens (finish "length"): for the every-position loops
let long: RealExchange; // echoed multi-byte prompt: text split across tokens
let otherKey: RouterKey;
let sessionPath: string;
let longSessionPath: string;
let expectedShortAnswer: string;
let expectedLongAnswer: string;

function writeSecretFile(path: string, text: string | Uint8Array): string {
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

beforeAll(async () => {
  mkdirSync(join(sandbox.dir, 'work'), { recursive: true });
  await withRouter(async (router, key) => {
    short = await exchangeWith(router, key, 'What is 2+2?');
    tiny = await exchangeWith(router, key, 'What is 2+2?', 12);
    long = await exchangeWith(router, key, 'Grüße aus 東京 😀 — wie spät ist es? ½ · ∑ · 𝄞');
  });
  otherKey = await generateRouterKey({ keyId: 9 });
  sessionPath = writeSecretFile(join(sandbox.dir, 'work', 'short.session.json'), serializeSession(short.session));
  longSessionPath = writeSecretFile(join(sandbox.dir, 'work', 'long.session.json'), serializeSession(long.session));
  const a = await decodeCommand(short.sse, sessionPath);
  const b = await decodeCommand(long.sse, longSessionPath);
  expect(a.code, a.stderr).toBe(0);
  expect(b.code, b.stderr).toBe(0);
  expectedShortAnswer = a.stdout;
  expectedLongAnswer = b.stdout;
  expect(expectedShortAnswer).toBe('2 + 2 = 4.\n');
  expect(expectedLongAnswer).toContain('東京 😀');
}, 60_000);

afterAll(() => {
  console.log(`[hardening] hostile input (seed ${SEED}): ${JSON.stringify(tried)}`);
  sandbox.cleanup();
});

/** The outcome any hostile input must have: success, or one documented typed failure. */
function expectDocumented(result: InProcessResult, what: string): void {
  if (result.uncaught !== undefined) throw new Error(`${what}: uncaught ${String(result.uncaught)}`);
  if (result.code === 0) return;
  expect(DOCUMENTED_FAILURES.has(result.code), `${what}: exit ${result.code}\n${result.stderr}`).toBe(true);
  const lines = result.stderr.split('\n').filter((line) => line.startsWith('harmony-hpke: error:'));
  expect(lines, `${what}: ${result.stderr}`).toHaveLength(1);
  expect(lines[0]).toMatch(ERROR_LINE);
  expect(result.stderr, what).not.toMatch(/\n\s+at /);
}

function decodeCommand(sse: Uint8Array | readonly Uint8Array[], session: string, extra: string[] = []): Promise<InProcessResult> {
  const parts = sse instanceof Uint8Array ? [sse] : sse;
  return runInProcess(['decode', '-', '--session', session, ...extra], { stdin: parts, env: sandbox.env });
}

/** Decodes with the library decoder; returns the events delivered and the typed error, if any. */
function decodeLibrary(session: Session, parts: readonly (string | Uint8Array)[]): { events: DecodedEvent[]; error?: HarmonyHpkeError } {
  const decoder = new StreamDecoder({ ...session, responseNonce: undefined } as Session);
  const events: DecodedEvent[] = [];
  try {
    for (const part of parts) decoder.pushInto(part, events);
    decoder.endInto(events);
    return { events };
  } catch (error) {
    if (!(error instanceof HarmonyHpkeError)) throw new Error(`decoder threw an untyped ${String(error)}`);
    return { events, error };
  }
}

function chunkEvents(events: readonly DecodedEvent[]): DecodedEvent[] {
  return events.filter((event) => event.type === 'chunk');
}

const lookupFor = (key: RouterKey) => (id: number) => (id === key.keyId ? key : undefined);

describe(`sealed requests (fast-check seed ${SEED})`, () => {
  it('truncations and flipped bits are refused with a 400/422 code, never opened', async () => {
    const body = short.body;
    const lookup = lookupFor(short.key);
    expect((await openRequest(body, lookup)).plaintext.byteLength).toBe(1024);
    const codes = new Set<string>();
    const refuse = async (input: Uint8Array, what: string) => {
      try {
        await openRequest(input, lookup);
      } catch (error) {
        expect(error, what).toBeInstanceOf(HarmonyHpkeError);
        expect(requestErrorStatus(error), what).toBeDefined();
        codes.add((error as HarmonyHpkeError).code);
        return;
      }
      throw new Error(`${what} opened`);
    };
    // Each open costs an X25519 decapsulation (milliseconds): every length up to hdr + enc + tag
    // and every header and enc byte exhaustively; ciphertext positions seeded, the tag's all.
    const lengths = [...Array.from({ length: 7 + 32 + 17 }, (_, i) => i), ...fc.sample(fc.integer({ min: 56, max: body.byteLength - 1 }), { seed: SEED, numRuns: 40 })];
    for (const length of lengths) await refuse(body.subarray(0, length), `truncated to ${length}`);
    count('sealed request truncations (open)', lengths.length);
    const bits = fc.sample(fc.integer({ min: 0, max: 7 }), { seed: SEED, numRuns: body.byteLength });
    const positions = [
      ...Array.from({ length: 7 + 32 }, (_, i) => i),
      ...fc.sample(fc.integer({ min: 39, max: body.byteLength - 17 }), { seed: SEED, numRuns: 120 }),
      ...Array.from({ length: 16 }, (_, i) => body.byteLength - 16 + i),
    ];
    for (const index of positions) {
      for (const bit of index < 7 ? [0, 1, 2, 3, 4, 5, 6, 7] : [bits[index]!]) await refuse(flipBit(body, index, bit), `bit ${bit} of byte ${index}`);
    }
    count('sealed request bit flips (open)', positions.length + 7 * 7);
    expect([...codes].sort()).toEqual(['REQUEST_KEY_UNKNOWN', 'REQUEST_MALFORMED', 'REQUEST_OPEN_FAILED', 'REQUEST_SUITE_UNSUPPORTED']);
  });

  it('inspect describes or refuses every truncation, any flipped bit and random bytes', async () => {
    const file = join(sandbox.dir, 'work', 'body.bin');
    const inspect = async (bytes: Uint8Array, what: string) => {
      writeFileSync(file, bytes);
      const result = await runInProcess(['inspect', file, '--json'], { env: sandbox.env });
      expectDocumented(result, what);
      return result;
    };
    const whole = await inspect(short.body, 'the body');
    expect(JSON.parse(whole.stdout)).toMatchObject({ kind: 'sealed-request', key_id: 7, total_bytes: short.body.byteLength });
    for (let length = 0; length < short.body.byteLength; length += 7) await inspect(short.body.subarray(0, length), `truncated to ${length}`);
    count('inspect sealed request truncations', Math.ceil(short.body.byteLength / 7));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({ index: fc.nat({ max: short.body.byteLength - 1 }), bit: fc.integer({ min: 0, max: 7 }) }).map(({ index, bit }) => flipBit(short.body, index, bit)),
          fc.uint8Array({ maxLength: 300 }),
        ),
        async (bytes) => {
          count('inspect sealed request flips/random');
          await inspect(bytes, 'mutated body');
        },
      ),
      { numRuns: 150, timeout: 5_000 },
    );
  });
});

describe(`key configs and router key files (fast-check seed ${SEED})`, () => {
  const list = () => encodeKeyConfigList([keyConfigOf(short.key), keyConfigOf(otherKey)]);

  it('every truncation of a two-config list: KEY_CONFIG_INVALID, or exactly the first config at the boundary', () => {
    const bytes = list();
    const boundary = 2 + (bytes[0]! << 8) + bytes[1]!;
    for (let length = 0; length < bytes.byteLength; length += 1) {
      const prefix = bytes.subarray(0, length);
      if (length === boundary) {
        expect(parseKeyConfigList(prefix)).toEqual([keyConfigOf(short.key)]);
        continue;
      }
      expect(() => parseKeyConfigList(prefix), `length ${length}`).toThrow(KeyError);
      try {
        parseKeyConfigList(prefix);
      } catch (error) {
        expect((error as KeyError).code).toBe('KEY_CONFIG_INVALID');
      }
    }
    count('key config truncations', bytes.byteLength);
  });

  it('every flipped bit: refused, or parsed to exactly the configs the bytes hold', () => {
    const bytes = list();
    let accepted = 0;
    for (let index = 0; index < bytes.byteLength; index += 1) {
      for (let bit = 0; bit < 8; bit += 1) {
        const mutated = flipBit(bytes, index, bit);
        let configs;
        try {
          configs = parseKeyConfigList(mutated);
        } catch (error) {
          expect(error).toBeInstanceOf(KeyError);
          continue;
        }
        accepted += 1;
        // Accepted: the same bytes again (a flipped key id, public key bit or suite), or one config
        // fewer when the flip turned its KEM into one this client skips.
        if (configs.length === 2) expect(Buffer.from(encodeKeyConfigList(configs)).equals(mutated)).toBe(true);
        else expect(configs).toHaveLength(1);
      }
    }
    count('key config bit flips', bytes.byteLength * 8);
    expect(accepted).toBeGreaterThan(0);
  });

  it('inspect, keys show and create-request --keys on mutated key configs: success or a documented code', async () => {
    const file = join(sandbox.dir, 'work', 'router.keys');
    const bytes = list();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.nat({ max: bytes.byteLength }).map((length) => bytes.subarray(0, length)),
          fc.record({ index: fc.nat({ max: bytes.byteLength - 1 }), bit: fc.integer({ min: 0, max: 7 }) }).map(({ index, bit }) => flipBit(bytes, index, bit)),
          fc.uint8Array({ maxLength: 120 }),
        ),
        fc.constantFrom('inspect', 'keys show', 'create-request'),
        async (mutated, command) => {
          count(`${command} on mutated key configs`);
          writeFileSync(file, mutated);
          const args =
            command === 'inspect'
              ? ['inspect', file]
              : command === 'keys show'
                ? ['keys', 'show', file]
                : ['create-request', 'hi', '--router', 'http://127.0.0.1:9', '--keys', file, '--session', join(sandbox.dir, 'work', 'cr.session.json')];
          expectDocumented(await runInProcess(args, { env: sandbox.env }), `${command} on ${Buffer.from(mutated).toString('hex')}`);
        },
      ),
      { numRuns: 200, timeout: 5_000 },
    );
  });

  it('router key files: every truncation and a flipped bit at every position is refused with a KeyError or parses to a usable key', () => {
    const text = `${serializeRouterKeyFile(short.key)}\n`;
    const bytes = Buffer.from(text);
    const check = (candidate: Buffer, what: string) => {
      let key: RouterKey;
      try {
        key = parseRouterKeyFile(candidate.toString('utf8'));
      } catch (error) {
        expect(error, what).toBeInstanceOf(KeyError);
        return false;
      }
      // Accepted (a flip in "created", the key id or a suite): the public key is still the private key's.
      expect(Buffer.from(x25519PublicKey(key.privateKey)).equals(Buffer.from(key.publicKey)), what).toBe(true);
      const { created: _created, ...rest } = parseRouterKeyFile(serializeRouterKeyFile(key));
      expect({ ...rest, ...(key.created !== undefined ? { created: key.created } : {}) }).toEqual(key);
      return true;
    };
    let accepted = 0;
    for (let length = 0; length < bytes.byteLength; length += 1) if (check(bytes.subarray(0, length), `length ${length}`)) accepted += 1;
    expect(accepted).toBe(1); // only the text without its trailing newline
    // Each parse derives a public key (X25519): one seeded bit per position.
    const bits = fc.sample(fc.integer({ min: 0, max: 7 }), { seed: SEED + 2, numRuns: bytes.byteLength });
    for (let index = 0; index < bytes.byteLength; index += 1) check(flipBit(bytes, index, bits[index]!), `bit ${bits[index]} of byte ${index}`);
    count('key file truncations', bytes.byteLength);
    count('key file bit flips', bytes.byteLength);
  });
});

describe(`session files (fast-check seed ${SEED})`, () => {
  const text = () => `${serializeSession(short.session)}\n`;

  it('every truncation: SESSION_CORRUPT (only the text without its newline is whole)', () => {
    const bytes = Buffer.from(text());
    for (let length = 0; length < bytes.byteLength; length += 1) {
      const prefix = bytes.subarray(0, length).toString('utf8');
      if (length === bytes.byteLength - 1) {
        expect(parseSession(prefix)).toEqual(short.session);
        continue;
      }
      let code: string | undefined;
      try {
        parseSession(prefix);
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        code = (error as UsageError).code;
      }
      expect(code, `length ${length}`).toBe('SESSION_CORRUPT');
    }
    count('session truncations', bytes.byteLength);
  });

  it('every flipped bit: a UsageError, or a session that round-trips', () => {
    const bytes = Buffer.from(text());
    const codes = new Set<string>();
    for (let index = 0; index < bytes.byteLength; index += 1) {
      for (let bit = 0; bit < 8; bit += 1) {
        let session: Session;
        try {
          session = parseSession(flipBit(bytes, index, bit).toString('utf8'));
        } catch (error) {
          expect(error).toBeInstanceOf(UsageError);
          codes.add((error as UsageError).code);
          continue;
        }
        expect(parseSession(serializeSession(session))).toEqual(session);
      }
    }
    count('session bit flips', bytes.byteLength * 8);
    expect([...codes].sort()).toEqual(['SESSION_CORRUPT', 'SESSION_FIELD_INVALID', 'SESSION_NEWER_VERSION', 'SESSION_WRONG_FORMAT']);
  });

  it('non-canonical base64url in any binary field is SESSION_FIELD_INVALID', () => {
    const file: Record<string, unknown> = { ...(JSON.parse(text()) as Record<string, unknown>), response_nonce: toBase64Url(Buffer.alloc(16, 9)) };
    expect(parseSession(JSON.stringify(file)).responseNonce).toBeDefined();
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const variants = (value: string) => {
      const last = alphabet.indexOf(value.at(-1)!);
      // The unused low bits of the last character set (16 bytes leave 4 unused bits, 32 bytes 2).
      const spare = alphabet[(last & (value.length % 4 === 2 ? 0b110000 : 0b111100)) | 1]!;
      return [
        `${value}=`,
        `${value}==`,
        Buffer.from(value, 'base64url').toString('base64'),
        ` ${value}`,
        `${value}\n`,
        `${value.slice(0, 4)} ${value.slice(4)}`,
        `+${value.slice(1)}`,
        `${value.slice(0, -1)}${spare}`,
        value.slice(0, -1),
      ];
    };
    let n = 0;
    for (const field of ['enc', 'secret', 'rid', 'response_nonce']) {
      for (const variant of variants(file[field] as string)) {
        let code: string | undefined;
        try {
          parseSession(JSON.stringify({ ...file, [field]: variant }));
        } catch (error) {
          code = (error as UsageError).code;
        }
        expect(code, `${field} = ${JSON.stringify(variant)}`).toBe('SESSION_FIELD_INVALID');
        n += 1;
      }
    }
    count('session non-canonical base64', n);
  });

  it('decode with a mutated session file: the same answer, or a documented code', async () => {
    const bytes = Buffer.from(text());
    const file = join(sandbox.dir, 'work', 'mutated.session.json');
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({ index: fc.nat({ max: bytes.byteLength - 1 }), bit: fc.integer({ min: 0, max: 7 }) }).map(({ index, bit }) => flipBit(bytes, index, bit)),
          fc.nat({ max: bytes.byteLength }).map((length) => bytes.subarray(0, length)),
          fc.uint8Array({ maxLength: 64 }),
        ),
        async (mutated) => {
          count('decode with mutated sessions');
          writeSecretFile(file, mutated);
          const result = await decodeCommand(short.sse, file);
          expectDocumented(result, `session ${mutated.toString('utf8')}`);
          if (result.code === 0) expect(result.stdout).toBe(expectedShortAnswer);
        },
      ),
      { numRuns: 150, timeout: 5_000 },
    );
  });
});

describe(`SSE streams recorded from a router (fast-check seed ${SEED})`, () => {
  it('every truncation: STREAM_TRUNCATED, and what was delivered is a prefix of the answer', () => {
    const full = decodeLibrary(tiny.session, [tiny.sse]);
    expect(full.error).toBeUndefined();
    const fullChunks = chunkEvents(full.events);
    for (let length = 0; length < tiny.sse.byteLength; length += 1) {
      const { events, error } = decodeLibrary(tiny.session, [tiny.sse.subarray(0, length)]);
      expect(error?.code, `length ${length}`).toBe('STREAM_TRUNCATED');
      const chunks = chunkEvents(events);
      expect(chunks).toEqual(fullChunks.slice(0, chunks.length));
    }
    count('SSE truncations (library)', tiny.sse.byteLength);
  });

  it('a flipped bit at every position is refused (integrity or truncation)', () => {
    const bits = fc.sample(fc.integer({ min: 0, max: 7 }), { seed: SEED + 1, numRuns: tiny.sse.byteLength });
    const fullChunks = chunkEvents(decodeLibrary(tiny.session, [tiny.sse]).events);
    const families = new Set<string>();
    for (let index = 0; index < tiny.sse.byteLength; index += 1) {
      const { events, error } = decodeLibrary(tiny.session, [flipBit(tiny.sse, index, bits[index]!)]);
      if (error === undefined) {
        // Only a flip that leaves the meaning intact may pass (none does in a stream without
        // comments); the decoded chunks must then be exactly the original ones.
        expect(chunkEvents(events)).toEqual(fullChunks);
        families.add('unchanged');
        continue;
      }
      families.add(error.family);
    }
    count('SSE bit flips (library)', tiny.sse.byteLength);
    expect(families.has('integrity')).toBe(true);
    expect(families.has('truncated')).toBe(true);
  });

  it('the long stream (multi-byte text): every event boundary and sampled byte positions truncate cleanly', () => {
    const full = decodeLibrary(long.session, [long.sse]);
    expect(full.error).toBeUndefined();
    const text = long.sse.toString('utf8');
    const boundaries = [...text.matchAll(/\n\n/g)].map((match) => match.index + 2);
    const positions = [...boundaries.slice(0, -1), ...fc.sample(fc.nat({ max: long.sse.byteLength - 1 }), { seed: SEED, numRuns: 300 })];
    for (const length of positions) {
      const { error } = decodeLibrary(long.session, [long.sse.subarray(0, length)]);
      expect(error?.code, `length ${length}`).toBe('STREAM_TRUNCATED');
    }
    count('SSE truncations (long stream)', positions.length);
  });

  it('decode: meaning-preserving framing (splits, CR/LF/CRLF, BOM, pings, NUL in comments) gives the same answer', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.boolean(),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 30 }),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(': ping', ':', ': \u0000 nul', ': caf\u00e9 \u{1F600}', 'retry: 1000')), { maxLength: 4 }),
        fc.boolean(),
        async (eol, bom, cuts, comments, useLong) => {
          count('decode framing (in-process)');
          const exchange = useLong ? long : short;
          const events = exchange.sse.toString('utf8').split(/(?<=\n\n)/);
          for (const [at, comment] of comments) events.splice(at % (events.length + 1), 0, `${comment}\n\n`);
          const text = `${bom ? '\uFEFF' : ''}${events.join('').replace(/\n/g, eol)}`;
          const bytes = Buffer.from(text, 'utf8');
          const points = [...new Set(cuts.map((cut) => Math.floor(cut * bytes.byteLength)))].sort((a, b) => a - b);
          const parts = [0, ...points, bytes.byteLength].slice(1).map((end, i, ends) => bytes.subarray(i === 0 ? 0 : ends[i - 1]!, end));
          const result = await decodeCommand(parts, useLong ? longSessionPath : sessionPath);
          expect(result.code, result.stderr).toBe(0);
          expect(result.stdout).toBe(useLong ? expectedLongAnswer : expectedShortAnswer);
        },
      ),
      { numRuns: 120, timeout: 5_000 },
    );
  });

  it('decode: oversized lines, invalid UTF-8 and non-canonical base64 get their own codes', async () => {
    const text = short.sse.toString('utf8');
    const lineStarts = [0, ...[...text.matchAll(/\n/g)].map((match) => match.index + 1)].filter((at) => at < text.length);
    const dataLines = [...text.matchAll(/^data: ([A-Za-z0-9_-]+)$/gm)].filter((match) => match.index > 0);
    const cases = fc.oneof(
      fc.record({
        kind: fc.constant('long-line' as const),
        at: fc.constantFrom(...lineStarts),
        line: fc.constantFrom(`: ${'x'.repeat(40_000)}\n`, `data: ${'A'.repeat(40_000)}\n`, `${'z'.repeat(70_000)}`),
      }),
      fc.record({
        kind: fc.constant('bad-utf8' as const),
        at: fc.nat({ max: short.sse.byteLength }),
        bytes: fc.constantFrom([0xff], [0xc3], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]),
      }),
      fc.record({
        kind: fc.constant('base64' as const),
        which: fc.nat({ max: dataLines.length - 1 }),
        how: fc.constantFrom('pad', 'standard', 'space', 'bits'),
      }),
    );
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        count(`decode ${c.kind} (in-process)`);
        let bytes: Buffer;
        let expected: string;
        if (c.kind === 'long-line') {
          bytes = Buffer.from(text.slice(0, c.at) + c.line + text.slice(c.at));
          expected = 'LINE_TOO_LONG';
        } else if (c.kind === 'bad-utf8') {
          bytes = Buffer.concat([short.sse.subarray(0, c.at), Buffer.from(c.bytes), short.sse.subarray(c.at)]);
          expected = 'SSE_NOT_UTF8';
        } else {
          const match = dataLines[c.which]!;
          const data = match[1]!;
          const raw = Buffer.from(data, 'base64url');
          const replaced =
            c.how === 'pad'
              ? `${data}=`
              : c.how === 'standard'
                ? raw.toString('base64')
                : c.how === 'space'
                  ? `${data.slice(0, 4)} ${data.slice(4)}`
                  : // A canonical last character has zero unused bits: +1 sets one (no spare bits when length % 4 == 0).
                    `${data.slice(0, -1)}${String.fromCharCode(data.charCodeAt(data.length - 1) + (data.length % 4 === 0 ? 0 : 1))}`;
          if (replaced === data) return;
          bytes = Buffer.from(text.slice(0, match.index + 6) + replaced + text.slice(match.index + 6 + data.length));
          expected = 'MALFORMED_EVENT';
        }
        const result = await decodeCommand(bytes, sessionPath);
        expectDocumented(result, c.kind);
        expect(errorCode(result.stderr), `${c.kind}: ${result.stderr}`).toBe(expected);
        expect(result.code).toBe(6);
        seen.add(c.kind);
      }),
      { numRuns: 90, timeout: 5_000 },
    );
    expect([...seen].sort()).toEqual(['bad-utf8', 'base64', 'long-line']);
  });

  it('decode and inspect: NUL bytes, random truncations, random bytes and spliced streams end in a documented way', async () => {
    const otherText = long.sse.toString('utf8').split(/(?<=\n\n)/);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.tuple(fc.nat({ max: short.sse.byteLength }), fc.constantFrom('\u0000', 'id: 1\u0000\n', 'event: chunk\u0000\n', '\u0000\n\n')).map(([at, nul]) =>
            Buffer.concat([short.sse.subarray(0, at), Buffer.from(nul), short.sse.subarray(at)]),
          ),
          fc.nat({ max: short.sse.byteLength - 1 }).map((length) => short.sse.subarray(0, length)),
          fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes)),
          fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => {
            // An event of another response spliced into this one.
            const events = short.sse.toString('utf8').split(/(?<=\n\n)/);
            events.splice(a % events.length, 0, otherText[b % otherText.length]!);
            return Buffer.from(events.join(''));
          }),
        ),
        fc.constantFrom('decode', 'decode --buffer', 'decode --json', 'inspect'),
        async (bytes, command) => {
          count(`${command} on NUL/truncated/random/spliced streams`);
          const result =
            command === 'inspect'
              ? await runInProcess(['inspect', '-', '--session', sessionPath, '--json'], { stdin: [bytes], env: sandbox.env })
              : await decodeCommand(bytes, sessionPath, command.split(' ').slice(1));
          expectDocumented(result, `${command} on ${JSON.stringify(bytes.toString('latin1').slice(0, 80))}`);
          if (command !== 'inspect' && result.code === 0) expect(result.stdout).toContain(command === 'decode' ? expectedShortAnswer : '4');
        },
      ),
      { numRuns: 200, timeout: 5_000 },
    );
  });

  it('decode without --session: the stored session is found, and hostile streams still end in a documented way', async () => {
    const sessionsDir = join(sandbox.dir, 'state', 'harmony-hpke', 'sessions');
    mkdirSync(sessionsDir, { recursive: true, mode: 0o700 });
    writeSecretFile(join(sessionsDir, `${short.session.rid}.json`), serializeSession(short.session));
    const found = await runInProcess(['decode', '-'], { stdin: [short.sse], env: sandbox.env });
    expect(found.code, found.stderr).toBe(0);
    expect(found.stdout).toBe(expectedShortAnswer);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.nat({ max: short.sse.byteLength - 1 }).map((length) => short.sse.subarray(0, length)),
          fc.record({ index: fc.nat({ max: short.sse.byteLength - 1 }), bit: fc.integer({ min: 0, max: 7 }) }).map(({ index, bit }) => flipBit(short.sse, index, bit)),
          fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
        ),
        async (bytes) => {
          count('decode (session discovery) on hostile streams');
          const result = await runInProcess(['decode', '-'], { stdin: [bytes], env: sandbox.env });
          expectDocumented(result, 'discovery');
          if (result.code === 0) expect(result.stdout).toBe(expectedShortAnswer);
        },
      ),
      { numRuns: 100, timeout: 5_000 },
    );
  });
});

describe(`the built binary, a handful of generated cases (fast-check seed ${SEED})`, () => {
  it('decode and inspect exit with the documented code and one error line', async () => {
    const file = join(sandbox.dir, 'work', 'binary-case.sse');
    const cases: Array<{ bytes: Buffer; args: string[]; expect: number[] }> = [];
    const [cut] = fc.sample(fc.nat({ max: short.sse.byteLength - 1 }), { seed: SEED, numRuns: 1 });
    cases.push({ bytes: short.sse.subarray(0, cut), args: ['decode', file, '--session', sessionPath], expect: [7] });
    for (const [index, bit] of fc.sample(fc.tuple(fc.nat({ max: short.sse.byteLength - 1 }), fc.integer({ min: 0, max: 7 })), { seed: SEED, numRuns: 2 })) {
      cases.push({ bytes: flipBit(short.sse, index, bit), args: ['decode', file, '--session', sessionPath], expect: [0, 6, 7] });
    }
    cases.push({ bytes: Buffer.concat([short.sse.subarray(0, 100), Buffer.of(0xff), short.sse.subarray(100)]), args: ['decode', file, '--session', sessionPath], expect: [6] });
    for (const random of fc.sample(fc.uint8Array({ minLength: 1, maxLength: 200 }), { seed: SEED, numRuns: 2 })) {
      cases.push({ bytes: Buffer.from(random), args: ['inspect', file], expect: [0, 2, 4, 9] });
    }
    cases.push({ bytes: short.sse, args: ['inspect', file, '--session', sessionPath, '--json'], expect: [0] });
    for (const c of cases) {
      writeFileSync(file, c.bytes);
      const result = await runCliInProcess(c.args, { env: sandbox.env, timeoutMs: 15_000 });
      count('binary runs');
      expect(c.expect, `${c.args.join(' ')}: exit ${result.code}\n${result.stderr}`).toContain(result.code);
      if (result.code !== 0) {
        expect(result.stderr.split('\n').filter((line) => ERROR_LINE.test(line)), result.stderr).toHaveLength(1);
        expect(result.stderr).not.toMatch(/\n\s+at /);
      }
    }
  }, 60_000);
});
