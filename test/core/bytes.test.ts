/**
 * src/core/bytes.ts, portable and with Node's native codecs installed: both give the same results
 * as Buffer (the reference here) on arbitrary input, and the strict base64url decoder refuses
 * every non-canonical text either way.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  bytesEqual,
  concatBytes,
  setNativeByteCodecs,
  timingSafeEqual,
  toBase64Url,
  toHex,
  tryFromBase64Url,
  tryFromHex,
  tryUtf8Decode,
  utf8EncodePadded,
} from '../../src/core/bytes.js';
import { nodeCryptoBackend } from '../../src/node/crypto-backend.js';

const SEED = Number(process.env.FC_SEED ?? 20260101);
const modes = [
  ['portable', undefined],
  ['native', nodeCryptoBackend.codecs],
] as const;

afterEach(() => setNativeByteCodecs(nodeCryptoBackend.codecs));

describe.each(modes)('bytes (%s codecs)', (_name, codecs) => {
  it('base64url round-trips and matches Buffer', () => {
    setNativeByteCodecs(codecs);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const text = toBase64Url(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64url'));
        expect(tryFromBase64Url(text)).toEqual(new Uint8Array(bytes));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('base64url refuses whatever the encoder would not produce', () => {
    setNativeByteCodecs(codecs);
    for (const bad of ['-_8B=', '+/8B', '-_9', 'A', '-_ 8B', '-_8B\n', 'AA==', 'é', 'AB', 'AAB', 'ÿÿÿÿ', '\u0100AAA']) {
      expect(tryFromBase64Url(bad), bad).toBeUndefined();
    }
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), (text) => {
        const decoded = tryFromBase64Url(text);
        if (decoded !== undefined) expect(toBase64Url(decoded)).toBe(text);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('UTF-8 decoding is strict (no overlongs, surrogates or truncated sequences) and matches TextDecoder', () => {
    setNativeByteCodecs(codecs);
    const fatal = new TextDecoder('utf-8', { fatal: true });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        let expected: string | undefined;
        try {
          expected = fatal.decode(bytes);
        } catch {
          expected = undefined;
        }
        expect(tryUtf8Decode(bytes)).toBe(expected);
      }),
      { seed: SEED, numRuns: 2000 },
    );
    for (const bad of [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xff]]) expect(tryUtf8Decode(Uint8Array.from(bad))).toBeUndefined();
    expect(tryUtf8Decode(new TextEncoder().encode('h\u00e9llo \u{1f600}'))).toBe('h\u00e9llo \u{1f600}');
  });
});

describe('bytes', () => {
  it('pads UTF-8 to a block with a fill byte, long and short', () => {
    for (const text of ['', 'a', 'x'.repeat(64), 'é'.repeat(40), 'z'.repeat(5000)]) {
      const padded = utf8EncodePadded(text, 64, 0x20);
      const bytes = Buffer.from(text, 'utf8');
      expect(padded.byteLength % 64).toBe(0);
      expect(padded.byteLength).toBe(Math.ceil(bytes.byteLength / 64) * 64);
      expect(Buffer.from(padded.subarray(0, bytes.byteLength)).equals(bytes)).toBe(true);
      expect(padded.subarray(bytes.byteLength).every((b) => b === 0x20)).toBe(true);
    }
  });

  it('concatenates, compares and converts hex', () => {
    expect(concatBytes(Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3))).toEqual(Uint8Array.of(1, 2, 3));
    expect(timingSafeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(timingSafeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(timingSafeEqual(Uint8Array.of(1), Uint8Array.of(1, 2))).toBe(false);
    expect(bytesEqual(Uint8Array.of(9), Uint8Array.of(9))).toBe(true);
    expect(bytesEqual(Uint8Array.of(9), Uint8Array.of(8))).toBe(false);
    expect(toHex(Uint8Array.of(0, 15, 255))).toBe('000fff');
    expect(tryFromHex('000fFF')).toEqual(Uint8Array.of(0, 15, 255));
    expect(tryFromHex('0')).toBeUndefined();
    expect(tryFromHex('zz')).toBeUndefined();
  });
});
