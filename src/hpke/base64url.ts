/**
 * base64url (RFC 4648 section 5) without padding, as used everywhere in harmony-hpke/1.
 *
 * Encoding never pads. Strict decoding accepts exactly the strings this encoder produces: only the
 * alphabet `A-Z a-z 0-9 - _`, no `=`, no whitespace, no length of 1 mod 4, and zero unused bits in
 * the last character. Node's own decoder silently skips invalid characters, which would let a
 * modified text decode to the same bytes; every protocol field goes through the strict decoder.
 */
import { UsageError } from '../errors.js';

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
  if (typeof text !== 'string' || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  // Canonical iff re-encoding gives the same text: rejects skipped characters, padding,
  // whitespace and non-zero unused bits in one comparison.
  if (bytes.byteLength !== (text.length * 3) >>> 2 || bytes.toString('base64url') !== text) return undefined;
  return bytes;
}

/** Strict decode that throws a UsageError (code BASE64URL_INVALID) naming `what`. */
export function fromBase64Url(text: string, what = 'value'): Uint8Array {
  const bytes = tryFromBase64Url(text);
  if (bytes === undefined) throw new UsageError('BASE64URL_INVALID', `${what} is not canonical unpadded base64url`);
  return new Uint8Array(bytes);
}
