import { describe, expect, it } from 'vitest';
import { deriveResponseKeys, parseChunkPlaintext, type ChunkMessage } from '../../src/hpke/index.js';
import { EncryptedEventStream, StreamDecoder, formatComment } from '../../src/sse/index.js';
import { encryptedEventStreamWithNonce } from '../../src/sse/testing.js';
import { hex, utf8, vectors } from '../hpke/vectors-data.js';
import { aes128, decodeAll, sessionFor, splitEvents } from './helpers.js';

describe.each(vectors.vectors)('SSE of vector $name', (v) => {
  const messages = (): ChunkMessage[] => v.chunk_plaintexts.map((text) => parseChunkPlaintext(utf8(text)));

  it('decodes to the header and the chunk plaintexts', () => {
    const { events, error } = decodeAll(sessionFor(v), v.sse);
    expect(error).toBeUndefined();
    const [header, ...chunks] = events;
    expect(header).toEqual({
      type: 'header',
      header: { v: 1, kid: v.key_id, kem: v.kem_id, kdf: v.kdf_id, aead: v.aead_id, nonce: hex(v.response_nonce) },
    });
    expect(chunks).toEqual(
      messages().map((message, index) => ({
        type: 'chunk',
        index,
        final: index === v.chunk_plaintexts.length - 1,
        message,
      })),
    );
  });

  it('re-encrypting the chunk plaintexts with the same response nonce gives `sse` byte for byte', () => {
    const keys = deriveResponseKeys({
      secret: hex(v.secret),
      enc: hex(v.enc),
      responseNonce: hex(v.response_nonce),
      aeadId: v.aead_id,
    });
    const stream = new EncryptedEventStream(keys, {
      kid: v.key_id,
      kem: v.kem_id,
      kdf: v.kdf_id,
      aead: v.aead_id,
      nonce: hex(v.response_nonce),
    });
    const all = messages();
    let text = stream.hpkeEvent();
    all.forEach((message, i) => {
      text += i === all.length - 1 ? stream.final(message) : stream.chunk(message);
    });
    expect(text).toBe(v.sse);
    expect(stream.chunksWritten).toBe(all.length);
    expect(stream.done).toBe(true);

    const again = encryptedEventStreamWithNonce(
      { secret: hex(v.secret), enc: hex(v.enc), header: { keyId: v.key_id, kemId: v.kem_id, kdfId: v.kdf_id, aeadId: v.aead_id } },
      hex(v.response_nonce),
    );
    const [hpkeEvent, firstChunk] = splitEvents(v.sse);
    expect(again.hpkeEvent()).toBe(hpkeEvent);
    expect(again.chunk(all[0]!)).toBe(firstChunk);
  });

  it('decodes byte by byte, as bytes', () => {
    const bytes = utf8(v.sse);
    const decoder = new StreamDecoder(sessionFor(v));
    let chunks = 0;
    for (let i = 0; i < bytes.byteLength; i += 1) {
      chunks += decoder.push(bytes.subarray(i, i + 1)).filter((e) => e.type === 'chunk').length;
    }
    decoder.end();
    expect(chunks).toBe(v.chunk_plaintexts.length);
    expect(decoder.done).toBe(true);
  });
});

const EXPECTED_CODE: Record<string, string> = {
  'bit-flip': 'CHUNK_AUTH_FAILED',
  'swap-chunks-2-3': 'CHUNK_OUT_OF_ORDER',
  'drop-chunk-2': 'CHUNK_MISSING',
  'duplicate-chunk-2': 'CHUNK_DUPLICATE',
  'truncated-no-final': 'STREAM_TRUNCATED',
  'middle-chunk-relabelled-final': 'CHUNK_RELABELLED_FINAL',
  'data-after-final': 'DATA_AFTER_FINAL',
  'second-hpke-event': 'DUPLICATE_HPKE_EVENT',
  'missing-hpke-event': 'MISSING_HPKE_EVENT',
  'stream-of-another-request': 'STREAM_NOT_FOR_SESSION',
  'plaintext-error-event-then-eof': 'STREAM_TRUNCATED',
};

describe('negative streams', () => {
  it('are all against the AES-128-GCM vector and all have an expected code here', () => {
    expect(vectors.negative_streams.against).toBe('aes-128-gcm');
    expect(vectors.negative_streams.cases.map((c) => c.name).sort()).toEqual(Object.keys(EXPECTED_CODE).sort());
  });

  it.each(vectors.negative_streams.cases)('$name is refused ($expect)', (c) => {
    const { events, error } = decodeAll(sessionFor(aes128()), c.sse);
    expect(error?.family).toBe(c.expect);
    expect(error?.code).toBe(EXPECTED_CODE[c.name]);
    // Whatever was delivered before the failure is an authenticated prefix of the real response.
    const chunks = events.filter((e) => e.type === 'chunk');
    const good = decodeAll(sessionFor(aes128()), aes128().sse).events.filter((e) => e.type === 'chunk');
    expect(good.slice(0, chunks.length)).toEqual(chunks);
  });

  it('the plaintext error event is delivered as an untrusted diagnostic, never as the end', () => {
    const c = vectors.negative_streams.cases.find((x) => x.name === 'plaintext-error-event-then-eof')!;
    const seen: string[] = [];
    const { events, error } = decodeAll(sessionFor(aes128()), c.sse, { onDiagnostic: (text) => seen.push(text) });
    expect(seen).toEqual(['{"message":"upstream died"}']);
    expect(events.at(-1)).toEqual({ type: 'diagnostic', text: '{"message":"upstream died"}' });
    expect(error?.code).toBe('STREAM_TRUNCATED');
    expect(error?.message).toContain('unauthenticated error');
  });

  it('comments are pings', () => {
    const v = aes128();
    const { events, error } = decodeAll(sessionFor(v), formatComment() + v.sse.replace('\n\nid: 3\n', `\n\n${formatComment()}id: 3\n`));
    expect(error).toBeUndefined();
    expect(events.filter((e) => e.type === 'ping')).toHaveLength(2);
  });
});
