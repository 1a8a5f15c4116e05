/**
 * base64url (RFC 4648 section 5) without padding, as used everywhere in harmony-hpke/1.
 *
 * Encoding never pads. Strict decoding accepts exactly the strings the encoder produces: only the
 * alphabet `A-Z a-z 0-9 - _`, no `=`, no whitespace, no length of 1 mod 4, and zero unused bits in
 * the last character (lenient decoders skip invalid characters, which would let a modified text
 * decode to the same bytes); every protocol field goes through the strict decoder. The codec
 * itself is src/core/bytes.ts.
 */
import { base64UrlLength, toBase64Url, tryFromBase64Url } from '../core/bytes.js';
import { UsageError } from '../core/errors.js';

export { base64UrlLength, toBase64Url, tryFromBase64Url };

/** Strict decode that throws a UsageError (code BASE64URL_INVALID) naming `what`. */
export function fromBase64Url(text: string, what = 'value'): Uint8Array {
  const bytes = tryFromBase64Url(text);
  if (bytes === undefined) throw new UsageError('BASE64URL_INVALID', `${what} is not canonical unpadded base64url`);
  return bytes;
}
