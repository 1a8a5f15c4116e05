/**
 * base64url (RFC 4648 section 5) without padding, as used everywhere in harmony-hpke/1.
 *
 * Encoding never pads. Strict decoding accepts exactly the strings this encoder produces: only the
 * alphabet `A-Z a-z 0-9 - _`, no `=`, no whitespace, no length of 1 mod 4, and zero unused bits in
 * the last character. Node's own decoder silently skips invalid characters, which would let a
 * modified text decode to the same bytes; every protocol field goes through the strict decoder.
 */
import { UsageError } from '../core/errors.js';

export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** Canonical unpadded base64url length of `n` bytes. */
export function base64UrlLength(n: number): number {
  return Math.ceil((n * 4) / 3);
}

/**
 * Strict decode; `undefined` for anything that is not canonical unpadded base64url.
 * Returns a Buffer (a Uint8Array) so hot paths can hand it to node:crypto without copying.
 */
export function tryFromBase64Url(text: string): Buffer | undefined {
  if (typeof text !== 'string') return undefined;
  const rest = text.length % 4;
  // Only the alphabet (no padding, no whitespace, nothing Node's decoder would skip), no length
  // of 1 mod 4, and zero unused bits in the last character: 4 of its 6 bits when the length is
  // 2 mod 4, 2 bits when it is 3 mod 4. (Checked directly: re-encoding to compare costs a string
  // per chunk on the decode path.)
  if (rest === 1 || !ALPHABET_ONLY.test(text)) return undefined;
  if (rest !== 0 && (sextet(text.charCodeAt(text.length - 1)) & (rest === 2 ? 0x0f : 0x03)) !== 0) return undefined;
  return Buffer.from(text, 'base64url');
}

const ALPHABET_ONLY = /^[A-Za-z0-9_-]*$/;

/** The 6-bit value of a base64url character (the caller has checked the alphabet). */
function sextet(code: number): number {
  if (code >= 0x61) return code - 0x61 + 26; // a-z
  if (code >= 0x41) return code === 0x5f ? 63 : code - 0x41; // A-Z, '_'
  if (code >= 0x30) return code - 0x30 + 52; // 0-9
  return 62; // '-'
}

/** Strict decode that throws a UsageError (code BASE64URL_INVALID) naming `what`. */
export function fromBase64Url(text: string, what = 'value'): Uint8Array {
  const bytes = tryFromBase64Url(text);
  if (bytes === undefined) throw new UsageError('BASE64URL_INVALID', `${what} is not canonical unpadded base64url`);
  return new Uint8Array(bytes);
}
