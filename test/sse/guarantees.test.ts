/**
 * One test per decoder guarantee of harmony-hpke/1, each asserting its own error code, so that
 * removing a check makes its test fail (the stream would then decode, or fail with another code).
 */
import { describe, expect, it } from 'vitest';
import {
  deriveResponseKeys,
  sealChunk,
  toBase64Url,
  type Session,
} from '../../src/hpke/index.js';
import {
  decryptStream,
  formatChunkEvent,
  formatFinalEvent,
  formatHpkeEvent,
  sessionOpensStream,
  StreamDecoder,
  type DecodedEvent,
} from '../../src/sse/index.js';
import { utf8 } from '../hpke/vectors-data.js';
import { aes128, buildEvents, codeOf, decodeAll, decodeError, sessionFor, splitEvents } from './helpers.js';

const session = (overrides: Partial<Session> = {}): Session => sessionFor(aes128(), overrides);
const chunksOf = (events: DecodedEvent[]) => events.filter((e) => e.type === 'chunk');
const NONCE = new Uint8Array(16).fill(7);

async function* source(parts: (string | Uint8Array)[]): AsyncGenerator<string | Uint8Array> {
  for (const part of parts) yield part;
}

async function collect(iterable: AsyncIterable<DecodedEvent>): Promise<{ events: DecodedEvent[]; error?: { code: string } }> {
  const events: DecodedEvent[] = [];
  try {
    for await (const event of iterable) events.push(event);
    return { events };
  } catch (error) {
    return { events, error: error as { code: string } };
  }
}

describe('the happy path of a constructed stream', () => {
  it('decodes', () => {
    const { events, error } = decodeAll(session(), buildEvents(session()).join(''));
    expect(error).toBeUndefined();
    expect(chunksOf(events).map((e) => (e.type === 'chunk' ? e.message.t : ''))).toEqual([
      'start',
      'tokens',
      'tokens',
      'tokens',
      'end',
    ]);
  });
});

describe('tampering', () => {
  it('a flipped bit in a chunk ciphertext: CHUNK_AUTH_FAILED', () => {
    const events = buildEvents(session());
    const data = /data: (.*)\n/.exec(events[2]!)![1]!;
    const bytes = Buffer.from(data, 'base64url');
    bytes[3]! ^= 0x10;
    events[2] = events[2]!.replace(data, bytes.toString('base64url'));
    expect(codeOf(session(), events.join(''))).toBe('CHUNK_AUTH_FAILED');
  });

  it('any single flipped bit anywhere in the SSE bytes is refused', () => {
    const s = session();
    const bytes = Buffer.from(buildEvents(s, { tokens: ['Hi'] }).join(''), 'utf8');
    const families = new Set<string>();
    for (let i = 0; i < bytes.byteLength; i += 1) {
      for (let bit = 0; bit < 8; bit += 1) {
        const copy = Buffer.from(bytes);
        copy[i]! ^= 1 << bit;
        const { error } = decodeAll(s, [copy]);
        if (error === undefined) throw new Error(`flipping bit ${bit} of byte ${i} went unnoticed`);
        families.add(error.family);
      }
    }
    expect([...families].sort()).toEqual(['integrity', 'truncated']);
  });

  it('non-canonical base64url (padding, stray characters) is refused before decryption: MALFORMED_EVENT', () => {
    const events = buildEvents(session());
    const padded = events.map((e, i) => (i === 2 ? e.replace(/\n\n$/, '==\n\n') : e));
    expect(codeOf(session(), padded.join(''))).toBe('MALFORMED_EVENT');
  });
});

describe('reordering, drops and duplicates', () => {
  it('swapped chunks: CHUNK_OUT_OF_ORDER', () => {
    const e = buildEvents(session());
    expect(codeOf(session(), [e[0], e[1], e[3], e[2], e[4], e[5]].join(''))).toBe('CHUNK_OUT_OF_ORDER');
  });

  it('a dropped chunk: CHUNK_MISSING (mid-stream and just before the final)', () => {
    const e = buildEvents(session());
    expect(codeOf(session(), [e[0], e[1], e[3], e[4], e[5]].join(''))).toBe('CHUNK_MISSING');
    expect(codeOf(session(), [e[0], e[1], e[2], e[3], e[5]].join(''))).toBe('CHUNK_MISSING');
  });

  it('a chunk arriving after a gap that does not authenticate at the missing index: CHUNK_AUTH_FAILED', () => {
    const e = buildEvents(session());
    const forged = e[4]!.replace('id: 3', 'id: 1');
    expect(codeOf(session(), [e[0], e[1], e[3], forged].join(''))).toBe('CHUNK_AUTH_FAILED');
  });

  it('a duplicated chunk: CHUNK_DUPLICATE', () => {
    const e = buildEvents(session());
    expect(codeOf(session(), [e[0], e[1], e[2], e[2], e[3], e[4], e[5]].join(''))).toBe('CHUNK_DUPLICATE');
  });

  it('ids are checked against the authenticated index: a relabelled id does not authenticate', () => {
    const e = buildEvents(session());
    expect(codeOf(session(), [e[0], e[1], e[3]!.replace('id: 2', 'id: 1')].join(''))).toBe('CHUNK_AUTH_FAILED');
  });

  it('a missing or non-canonical id: MALFORMED_EVENT', () => {
    const e = buildEvents(session());
    expect(codeOf(session(), [e[0], e[1]!.replace('id: 0\n', '')].join(''))).toBe('MALFORMED_EVENT');
    expect(codeOf(session(), [e[0], e[1]!.replace('id: 0\n', 'id: 00\n')].join(''))).toBe('MALFORMED_EVENT');
  });
});

describe('the final chunk', () => {
  it('an ordinary chunk relabelled final: CHUNK_RELABELLED_FINAL', () => {
    const e = buildEvents(session());
    expect(codeOf(session(), [e[0], e[1], e[2]!.replace('event: chunk', 'event: final')].join(''))).toBe(
      'CHUNK_RELABELLED_FINAL',
    );
  });

  it('the final chunk relabelled as an ordinary one: FINAL_RELABELLED_CHUNK', () => {
    const e = buildEvents(session());
    e[5] = e[5]!.replace('event: final', 'event: chunk');
    expect(codeOf(session(), e.join(''))).toBe('FINAL_RELABELLED_CHUNK');
  });

  it('truncation anywhere: STREAM_TRUNCATED, with only an authenticated prefix delivered', () => {
    const s = session();
    const text = buildEvents(s, { tokens: ['a', 'b'] }).join('');
    const full = chunksOf(decodeAll(s, text).events);
    for (let cut = 0; cut < text.length - 1; cut += 1) {
      const { events, error } = decodeAll(s, text.slice(0, cut));
      expect(error?.code, `cut at ${cut}`).toBe('STREAM_TRUNCATED');
      expect(error?.family).toBe('truncated');
      const got = chunksOf(events);
      expect(full.slice(0, got.length)).toEqual(got);
    }
  });

  it('data after the final chunk: DATA_AFTER_FINAL (also an unterminated event or a plaintext error)', () => {
    const e = buildEvents(session());
    expect(codeOf(session(), [...e, e[2]].join(''))).toBe('DATA_AFTER_FINAL');
    expect(codeOf(session(), [...e, 'event: error\ndata: late\n\n'].join(''))).toBe('DATA_AFTER_FINAL');
    expect(codeOf(session(), [...e, 'id: 9\nevent: chunk\ndata: AAAA'].join(''))).toBe('DATA_AFTER_FINAL');
    // Comments and blank lines after the final chunk are fine.
    expect(decodeAll(session(), [...e, ': bye\n\n\n'].join('')).error).toBeUndefined();
  });

  it('done turns true at the verified final chunk; end() then completes', () => {
    const decoder = new StreamDecoder(session());
    const e = buildEvents(session());
    decoder.push(e.slice(0, -1).join(''));
    expect(decoder.done).toBe(false);
    decoder.push(e.at(-1)!);
    expect(decoder.done).toBe(true);
    expect(decoder.end()).toEqual([]);
    expect(() => decoder.push('')).toThrow(expect.objectContaining({ code: 'DECODER_CLOSED' }));
  });
});

describe('the hpke event', () => {
  it('missing: MISSING_HPKE_EVENT', () => {
    expect(codeOf(session(), buildEvents(session()).slice(1).join(''))).toBe('MISSING_HPKE_EVENT');
  });

  it('a second one: DUPLICATE_HPKE_EVENT', () => {
    const e = buildEvents(session());
    expect(codeOf(session(), [e[0], e[1], e[0], e[2]].join(''))).toBe('DUPLICATE_HPKE_EVENT');
  });

  it('another key id or suite than the session: HPKE_HEADER_MISMATCH', () => {
    const e = buildEvents(session());
    expect(codeOf(session(), [e[0]!.replace('"kid":7', '"kid":8'), e[1]].join(''))).toBe('HPKE_HEADER_MISMATCH');
    expect(codeOf(session(), [e[0]!.replace('"aead":1', '"aead":2'), e[1]].join(''))).toBe('HPKE_HEADER_MISMATCH');
  });

  it('malformed data or another version: MALFORMED_HPKE_EVENT, RESPONSE_VERSION_UNSUPPORTED', () => {
    const s = session();
    const fields = { kid: s.kid, kem: s.kem, kdf: s.kdf, aead: s.aead };
    expect(codeOf(s, 'event: hpke\ndata: {"v":1\n\n')).toBe('MALFORMED_HPKE_EVENT');
    expect(codeOf(s, formatHpkeEvent({ ...fields, nonce: new Uint8Array(12) }))).toBe('MALFORMED_HPKE_EVENT');
    expect(codeOf(s, formatHpkeEvent({ ...fields, nonce: NONCE }).replace('"v":1', '"v":2'))).toBe(
      'RESPONSE_VERSION_UNSUPPORTED',
    );
  });
});

describe('binding to the request', () => {
  it('a stream of another request: STREAM_NOT_FOR_SESSION', () => {
    const other = session({ secret: new Uint8Array(16).fill(1) });
    expect(codeOf(session(), buildEvents(other).join(''))).toBe('STREAM_NOT_FOR_SESSION');
  });

  it('a start chunk naming another request id: RID_MISMATCH', () => {
    const s = session();
    expect(codeOf(s, buildEvents(s, { rid: 'AAAAAAAAAAAAAAAAAAAAAA' }).join(''))).toBe('RID_MISMATCH');
  });

  it('a second response for one session: SECOND_RESPONSE (the same response decodes again)', () => {
    const first = buildEvents(session(), { nonce: NONCE }).join('');
    const decoded = decodeAll(session(), first);
    const header = decoded.events[0];
    expect(header?.type).toBe('header');
    const stored = session({ responseNonce: header?.type === 'header' ? header.header.nonce : undefined });
    expect(decodeAll(stored, first).error).toBeUndefined();
    const second = buildEvents(session(), { nonce: new Uint8Array(16).fill(8) }).join('');
    expect(codeOf(stored, second)).toBe('SECOND_RESPONSE');
    expect(decodeAll(session(), second).error).toBeUndefined();
  });

  it('sessionOpensStream finds the session of a stream', () => {
    const head = splitEvents(aes128().sse).slice(0, 2).join('');
    expect(sessionOpensStream(session(), head)).toBe(true);
    expect(sessionOpensStream(session(), aes128().sse)).toBe(true);
    expect(sessionOpensStream(session({ responseNonce: new Uint8Array(16) }), head)).toBe(true);
    expect(sessionOpensStream(session({ secret: new Uint8Array(16).fill(1) }), head)).toBe(false);
    expect(sessionOpensStream(session({ rid: 'AAAAAAAAAAAAAAAAAAAAAA' }), head)).toBe(false);
    expect(sessionOpensStream(session({ kid: 9 }), head)).toBe(false);
    expect(sessionOpensStream(session(), head.slice(0, 120))).toBe(false);
    expect(sessionOpensStream(session(), 'garbage')).toBe(false);
  });
});

describe('chunk contents and positions', () => {
  const s = session();
  const keys = deriveResponseKeys({ secret: s.secret, enc: s.enc, responseNonce: NONCE, aeadId: s.aead });
  const hpke = formatHpkeEvent({ kid: s.kid, kem: s.kem, kdf: s.kdf, aead: s.aead, nonce: NONCE });
  const pad = (json: string) => utf8(json.padEnd(Math.ceil(json.length / 64) * 64, ' '));
  const start = formatChunkEvent(0, sealChunk(keys, 0, pad(JSON.stringify({ t: 'start', rid: s.rid, model: 'm', created: 1 })), false));
  const end = (i: number) =>
    formatFinalEvent(i, sealChunk(keys, i, pad('{"t":"end","finish":"stop","usage":{"prompt_tokens":1,"completion_tokens":1}}'), true));

  it('authenticated garbage: MALFORMED_CHUNK; an unknown type: UNKNOWN_CHUNK_TYPE', () => {
    expect(codeOf(s, hpke + start + formatChunkEvent(1, sealChunk(keys, 1, pad('{"t":"tokens"'), false)))).toBe('MALFORMED_CHUNK');
    expect(codeOf(s, hpke + start + formatChunkEvent(1, sealChunk(keys, 1, utf8('{"t":"tokens","ids":[],"text":""}'), false)))).toBe(
      'MALFORMED_CHUNK',
    ); // not padded to 64
    expect(codeOf(s, hpke + start + formatChunkEvent(1, sealChunk(keys, 1, pad('{"t":"mystery"}'), false)))).toBe(
      'UNKNOWN_CHUNK_TYPE',
    );
  });

  it('types out of place: UNEXPECTED_CHUNK_TYPE', () => {
    const tokens = (i: number, final: boolean) =>
      (final ? formatFinalEvent : formatChunkEvent)(i, sealChunk(keys, i, pad('{"t":"tokens","ids":[1],"text":"x"}'), final));
    expect(codeOf(s, hpke + tokens(0, false))).toBe('UNEXPECTED_CHUNK_TYPE'); // chunk 0 must be start
    expect(codeOf(s, hpke + start + formatChunkEvent(1, sealChunk(keys, 1, pad(JSON.stringify({ t: 'start', rid: s.rid, model: 'm', created: 1 })), false)))).toBe(
      'UNEXPECTED_CHUNK_TYPE',
    ); // a second start
    expect(codeOf(s, hpke + start + tokens(1, true))).toBe('UNEXPECTED_CHUNK_TYPE'); // tokens as final
    expect(codeOf(s, hpke + start + formatChunkEvent(1, sealChunk(keys, 1, pad('{"t":"end","finish":"stop","usage":{"prompt_tokens":1,"completion_tokens":1}}'), false)))).toBe(
      'UNEXPECTED_CHUNK_TYPE',
    ); // end not final
    expect(decodeAll(s, hpke + start + tokens(1, false) + end(2)).error).toBeUndefined();
  });

  it('a lone final error chunk is a complete response (router could not read the request)', () => {
    const error = formatFinalEvent(0, sealChunk(keys, 0, pad('{"t":"error","code":"bad_request","message":"no"}'), true));
    const { events, error: failure } = decodeAll(s, hpke + error);
    expect(failure).toBeUndefined();
    expect(chunksOf(events)).toEqual([
      { type: 'chunk', index: 0, final: true, message: { t: 'error', code: 'bad_request', message: 'no' } },
    ]);
  });
});

describe('plaintext router errors', () => {
  it('are untrusted diagnostics and never the end of the stream', () => {
    const e = buildEvents(session());
    const seen: string[] = [];
    const { events, error } = decodeAll(session(), [e[0], e[1], 'event: error\ndata: busy\u001b[31m\n\n', ...e.slice(2)].join(''), {
      onDiagnostic: (text) => seen.push(text),
    });
    expect(error).toBeUndefined();
    expect(seen).toEqual(['busy?[31m']);
    expect(events.filter((x) => x.type === 'diagnostic')).toEqual([{ type: 'diagnostic', text: 'busy?[31m' }]);
    expect(chunksOf(events)).toHaveLength(5);
  });

  it('other unauthenticated event types are refused: UNEXPECTED_EVENT', () => {
    const e = buildEvents(session());
    expect(codeOf(session(), [e[0], 'data: hello\n\n'].join(''))).toBe('UNEXPECTED_EVENT');
    expect(codeOf(session(), [e[0], 'event: message\ndata: hello\n\n'].join(''))).toBe('UNEXPECTED_EVENT');
  });
});

describe('SSE framing', () => {
  const text = () => buildEvents(session()).join('');

  it.each([
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ])('%s line ends decode the same', (_name, eol) => {
    const expected = decodeAll(session(), text()).events;
    const { events, error } = decodeAll(session(), text().replace(/\n/g, eol));
    expect(error).toBeUndefined();
    expect(events).toEqual(expected);
  });

  it('a CR at the very end of the input still ends the final event', () => {
    const { error } = decodeAll(session(), text().replace(/\n/g, '\r').split(''));
    expect(error).toBeUndefined();
  });

  it('a leading BOM is dropped (string and bytes)', () => {
    expect(decodeAll(session(), `\uFEFF${text()}`).error).toBeUndefined();
    expect(decodeAll(session(), [utf8(`\uFEFF${text()}`)]).error).toBeUndefined();
  });

  it('UTF-8 split across pushes; invalid UTF-8 is refused: SSE_NOT_UTF8', () => {
    const bytes = utf8(`: caf\u00e9 \u{1F600}\n\nevent: error\ndata: \u00fc\u{1F600}\n\n${text()}`);
    const parts = Array.from(bytes, (_b, i) => bytes.subarray(i, i + 1));
    const { events, error } = decodeAll(session(), parts);
    expect(error).toBeUndefined();
    expect(events.find((e) => e.type === 'diagnostic')).toEqual({ type: 'diagnostic', text: '\u00fc\u{1F600}' });
    expect(codeOf(session(), [utf8(': ok\n\n'), Uint8Array.of(0xc3, 0x28), utf8(text())])).toBe('SSE_NOT_UTF8');
    expect(codeOf(session(), [utf8(text()), Uint8Array.of(0xf0, 0x9f)])).toBe('SSE_NOT_UTF8');
  });

  it('a line longer than the limit is refused before parsing, even split across pushes: LINE_TOO_LONG', () => {
    const long = `: ${'x'.repeat(200)}\n\n`;
    expect(decodeAll(session(), long + text(), { maxLineLength: 202 }).error).toBeUndefined();
    const { error } = decodeAll(session(), [...long.split(''), text()], { maxLineLength: 201 });
    expect(error?.code).toBe('LINE_TOO_LONG');
  });

  it('an event with too much data is refused: EVENT_TOO_LARGE', () => {
    const many = `event: error\n${'data: 0123456789\n'.repeat(20)}\n`;
    expect(codeOf(session(), [buildEvents(session())[0]!, many].join(''))).toBe('STREAM_TRUNCATED'); // within the default
    // eventsource-parser bounds what it buffers across pushes (within one push the input bounds it).
    const { error } = decodeAll(session(), [buildEvents(session())[0]!, ...many.split(/(?<=\n)/)], {
      maxLineLength: 128,
      maxEventSize: 150,
    });
    expect(error?.code).toBe('EVENT_TOO_LARGE');
  });
});

describe('decryptStream', () => {
  it('yields an authenticated prefix, then throws', async () => {
    const e = buildEvents(session());
    const broken = [e[0]!, e[1]!, e[2]!, e[4]!.replace('id: 3', 'id: 2')];
    const { events, error } = await collect(decryptStream(source(broken), session()));
    expect(error?.code).toBe('CHUNK_AUTH_FAILED');
    expect(chunksOf(events)).toHaveLength(2);
  });

  it('buffered: releases nothing unless the final chunk verifies', async () => {
    const e = buildEvents(session());
    const truncated = await collect(decryptStream(source(e.slice(0, -1)), session(), { buffer: true }));
    expect(truncated.error?.code).toBe('STREAM_TRUNCATED');
    expect(truncated.events).toEqual([]);
    const afterFinal = await collect(decryptStream(source([...e, e[2]!]), session(), { buffer: true }));
    expect(afterFinal.error?.code).toBe('DATA_AFTER_FINAL');
    expect(afterFinal.events).toEqual([]);
    const ok = await collect(decryptStream(source(e.map((x) => utf8(x))), session(), { buffer: true }));
    expect(ok.error).toBeUndefined();
    expect(chunksOf(ok.events)).toHaveLength(5);
  });

  it('stream errors carry no secrets or plaintexts in their messages', () => {
    const s = session();
    const e = buildEvents(s, { tokens: ['SECRET-TOKEN-TEXT'] });
    const error = decodeError(s, [e[0], e[1], e[3]!.replace('event: chunk', 'event: final')].join(''));
    expect(error.message).not.toContain('SECRET');
    expect(error.message).not.toContain(toBase64Url(s.secret));
    expect(error.message).not.toContain(Buffer.from(s.secret).toString('hex'));
  });
});
