/**
 * Byte helpers on plain Uint8Array, runtime-neutral (no Buffer, no Node built-ins): concatenation,
 * equality (constant time where secrets are compared), hex, base64url (RFC 4648 section 5, no
 * padding) and UTF-8.
 *
 * The base64url and UTF-8 paths run once per chunk on the decoder's hot path, so they are written
 * for short inputs: table lookups, no intermediate strings, and an ASCII fast path for UTF-8.
 */

/** The text codecs every supported runtime has (WHATWG Encoding); typed here so core needs no DOM or Node types. */
interface Utf8Encoder {
  encode(text: string): Uint8Array;
  encodeInto(text: string, into: Uint8Array): { read: number; written: number };
}
interface Utf8Decoder {
  decode(bytes?: Uint8Array, options?: { stream?: boolean }): string;
}
interface TextCodecs {
  TextEncoder: new () => Utf8Encoder;
  TextDecoder: new (label: 'utf-8', options: { fatal: boolean }) => Utf8Decoder;
}
const codecs = globalThis as unknown as TextCodecs;

/**
 * Native codecs a runtime may supply (Node.js: Buffer's, installed with its crypto backend): the
 * same results as the portable code below, several times faster per call on the chunk hot path.
 * `decodeBase64Url` is only ever given text that already passed the strict check.
 */
export interface NativeByteCodecs {
  toBase64Url(bytes: Uint8Array): string;
  decodeBase64Url(text: string): Uint8Array;
  /** The text of strictly valid UTF-8, or undefined. */
  tryUtf8Decode(bytes: Uint8Array): string | undefined;
}

let native: NativeByteCodecs | undefined;

/** Installs (or with undefined, removes) native codecs; see NativeByteCodecs. */
export function setNativeByteCodecs(codecs: NativeByteCodecs | undefined): void {
  native = codecs;
}
const encoder = new codecs.TextEncoder();
const fatalDecoder = new codecs.TextDecoder('utf-8', { fatal: true });

/** One array holding the parts in order. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.byteLength;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/**
 * Whether two byte strings are equal, in time that depends only on their lengths (for secrets,
 * MACs and fingerprints: no early exit on the first difference).
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i += 1) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Whether two byte strings are equal (not constant time: for public values). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

/** A fresh ArrayBuffer holding exactly the bytes (for APIs that want an ArrayBuffer, such as hpke-js). */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(out).set(bytes);
  return out;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lower-case hex. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.byteLength; i += 1) out += HEX[bytes[i]!];
  return out;
}

/** Bytes of an even-length hex string (either case); undefined for anything else. */
export function tryFromHex(text: string): Uint8Array | undefined {
  if (typeof text !== 'string' || text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.byteLength; i += 1) out[i] = Number.parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const B64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64_CHARS = [...B64_ALPHABET];
/** Character code -> 6-bit value, -1 outside the base64url alphabet. */
const B64_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i += 1) B64_VALUE[B64_ALPHABET.charCodeAt(i)] = i;

/** Unpadded base64url. */
export function toBase64Url(bytes: Uint8Array): string {
  return native === undefined ? portableToBase64Url(bytes) : native.toBase64Url(bytes);
}

function portableToBase64Url(bytes: Uint8Array): string {
  const n = bytes.byteLength;
  const full = n - (n % 3);
  const chars = B64_CHARS;
  let out = '';
  let i = 0;
  for (; i < full; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += chars[v >>> 18]! + chars[(v >>> 12) & 63]! + chars[(v >>> 6) & 63]! + chars[v & 63]!;
  }
  if (n - full === 1) {
    const v = bytes[i]!;
    out += chars[v >>> 2]! + chars[(v & 3) << 4]!;
  } else if (n - full === 2) {
    const v = (bytes[i]! << 8) | bytes[i + 1]!;
    out += chars[v >>> 10]! + chars[(v >>> 4) & 63]! + chars[(v & 15) << 2]!;
  }
  return out;
}

/** Canonical unpadded base64url length of `n` bytes. */
export function base64UrlLength(n: number): number {
  return Math.ceil((n * 4) / 3);
}

/**
 * Strict unpadded base64url decode: undefined for anything this encoder would not produce (a
 * character outside `A-Z a-z 0-9 - _`, padding, whitespace, a length of 1 mod 4, or unused bits
 * set in the last character), so a modified text never decodes to the same bytes.
 */
export function tryFromBase64Url(text: string): Uint8Array | undefined {
  if (typeof text !== 'string') return undefined;
  if (native === undefined) return portableFromBase64Url(text);
  const rest = text.length % 4;
  // The alphabet only, no length of 1 mod 4, and zero unused bits in the last character: 4 of its
  // 6 bits when the length is 2 mod 4, 2 bits when it is 3 mod 4.
  if (rest === 1 || !ALPHABET_ONLY.test(text)) return undefined;
  if (rest !== 0 && ((B64_VALUE[text.charCodeAt(text.length - 1)] ?? 0) & (rest === 2 ? 0x0f : 0x03)) !== 0) return undefined;
  return native.decodeBase64Url(text);
}

const ALPHABET_ONLY = /^[A-Za-z0-9_-]*$/;

function portableFromBase64Url(text: string): Uint8Array | undefined {
  const length = text.length;
  const rest = length % 4;
  if (rest === 1) return undefined;
  const out = new Uint8Array((length * 3) >> 2);
  const values = B64_VALUE;
  const full = length - rest;
  let at = 0;
  for (let i = 0; i < full; i += 4) {
    const a = text.charCodeAt(i);
    const b = text.charCodeAt(i + 1);
    const c = text.charCodeAt(i + 2);
    const d = text.charCodeAt(i + 3);
    // A code of 128 or more reads as undefined, and `| 0x80` makes any negative value fail.
    const va = values[a] ?? -1;
    const vb = values[b] ?? -1;
    const vc = values[c] ?? -1;
    const vd = values[d] ?? -1;
    if ((va | vb | vc | vd) < 0) return undefined;
    const v = (va << 18) | (vb << 12) | (vc << 6) | vd;
    out[at] = v >>> 16;
    out[at + 1] = (v >>> 8) & 0xff;
    out[at + 2] = v & 0xff;
    at += 3;
  }
  if (rest !== 0) {
    const va = values[text.charCodeAt(full)] ?? -1;
    const vb = values[text.charCodeAt(full + 1)] ?? -1;
    const vc = rest === 3 ? (values[text.charCodeAt(full + 2)] ?? -1) : 0;
    if ((va | vb | vc) < 0) return undefined;
    if (rest === 2) {
      if ((vb & 0x0f) !== 0) return undefined;
      out[at] = (va << 2) | (vb >>> 4);
    } else {
      if ((vc & 0x03) !== 0) return undefined;
      out[at] = (va << 2) | (vb >>> 4);
      out[at + 1] = ((vb & 0x0f) << 4) | (vc >>> 2);
    }
  }
  return out;
}

/** UTF-8 bytes of a string. */
export function utf8Encode(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * UTF-8 `text` followed by `fill` bytes up to the next multiple of `block` (none if aligned): one
 * allocation, the text encoded straight into it.
 */
export function utf8EncodePadded(text: string, block: number, fill: number): Uint8Array {
  // At most 3 bytes per UTF-16 unit; for long texts, measure first rather than over-allocate.
  if (text.length <= 4096) {
    const room = new Uint8Array(Math.ceil((text.length * 3) / block) * block || block);
    const { written } = encoder.encodeInto(text, room);
    const length = Math.ceil(written / block) * block;
    room.fill(fill, written, length);
    return length === room.byteLength ? room : room.subarray(0, length);
  }
  const bytes = encoder.encode(text);
  const out = new Uint8Array(Math.ceil(bytes.byteLength / block) * block).fill(fill, bytes.byteLength);
  out.set(bytes);
  return out;
}

/**
 * The text of strictly valid UTF-8 (no overlongs, surrogates or truncated sequences), or undefined.
 * ASCII, the common case for JSON, is decoded without the TextDecoder.
 */
export function tryUtf8Decode(bytes: Uint8Array): string | undefined {
  if (native !== undefined) return native.tryUtf8Decode(bytes);
  const n = bytes.byteLength;
  if (n <= 1024) {
    let ascii = true;
    for (let i = 0; i < n; i += 1) {
      if (bytes[i]! > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  }
  try {
    return fatalDecoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** A streaming strict UTF-8 decoder: `decode(bytes, { stream: true })` then `decode()` at the end; throws on invalid input. */
export function createUtf8StreamDecoder(): Utf8Decoder {
  return new codecs.TextDecoder('utf-8', { fatal: true });
}
