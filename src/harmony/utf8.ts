/**
 * UTF-8 helpers that reproduce Rust's `std::str::from_utf8` error reporting, because the reference
 * streaming parser's deltas depend on exactly where it stops (`valid_up_to`) and how many bytes one
 * error covers (`error_len`, or none when the input merely ends mid-character).
 */
import { web } from './web-globals.js';

export interface Utf8Check {
  /** Bytes from `start` that form complete, valid UTF-8. */
  readonly validUpTo: number;
  /** Length of the invalid sequence at validUpTo; undefined when valid or merely incomplete. */
  readonly errorLen: number | undefined;
  /** True when the whole range is valid. */
  readonly ok: boolean;
}

const OK_END = (n: number): Utf8Check => ({ validUpTo: n, errorLen: undefined, ok: true });

/** Validates bytes[start, end) like Rust's run_utf8_validation. */
export function checkUtf8(bytes: Uint8Array, start = 0, end = bytes.length): Utf8Check {
  let i = start;
  const fail = (errorLen: number | undefined): Utf8Check => ({ validUpTo: i - start, errorLen, ok: false });
  while (i < end) {
    const first = bytes[i]!;
    if (first < 0x80) {
      i += 1;
      continue;
    }
    const width = first >= 0xc2 && first <= 0xdf ? 2 : first >= 0xe0 && first <= 0xef ? 3 : first >= 0xf0 && first <= 0xf4 ? 4 : 0;
    if (width === 0) return fail(1);
    if (i + 1 >= end) return fail(undefined);
    const second = bytes[i + 1]!;
    if (width === 2) {
      if ((second & 0xc0) !== 0x80) return fail(1);
      i += 2;
      continue;
    }
    const secondOk =
      width === 3
        ? (first === 0xe0 && second >= 0xa0 && second <= 0xbf) ||
          (first >= 0xe1 && first <= 0xec && second >= 0x80 && second <= 0xbf) ||
          (first === 0xed && second >= 0x80 && second <= 0x9f) ||
          (first >= 0xee && second >= 0x80 && second <= 0xbf)
        : (first === 0xf0 && second >= 0x90 && second <= 0xbf) ||
          (first >= 0xf1 && first <= 0xf3 && second >= 0x80 && second <= 0xbf) ||
          (first === 0xf4 && second >= 0x80 && second <= 0x8f);
    if (!secondOk) return fail(1);
    if (i + 2 >= end) return fail(undefined);
    if ((bytes[i + 2]! & 0xc0) !== 0x80) return fail(2);
    if (width === 3) {
      i += 3;
      continue;
    }
    if (i + 3 >= end) return fail(undefined);
    if ((bytes[i + 3]! & 0xc0) !== 0x80) return fail(3);
    i += 4;
  }
  return OK_END(end - start);
}

const strictDecoder = new web.TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lossyDecoder = new web.TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** Decodes valid UTF-8 (callers check first); keeps a leading BOM like Rust does. */
export function utf8DecodeValid(bytes: Uint8Array): string {
  return strictDecoder.decode(bytes);
}

/**
 * Lossy decoding: one U+FFFD per maximal invalid subpart, as Rust's from_utf8_lossy and Python's
 * errors="replace" do (the WHATWG decoder follows the same Unicode recommendation).
 */
export function utf8DecodeLossy(bytes: Uint8Array): string {
  return lossyDecoder.decode(bytes);
}

const encoder = new web.TextEncoder();

export function utf8Encode(text: string): Uint8Array {
  return encoder.encode(text);
}

const SURROGATE = /[\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Replaces lone surrogates with U+FFFD (what Python's wrapper does before encoding). */
export function toWellFormed(text: string): string {
  return SURROGATE.test(text) ? text.replace(LONE_SURROGATE, '\uFFFD') : text;
}
