/**
 * OHTTP key configurations (RFC 9458 section 3) and the application/ohttp-keys list
 * (section 3.2: every config prefixed by its 2-byte length), public-key fingerprints and pins.
 *
 *   key_config = key_id(1) kem_id(2) public_key(Npk) suites_len(2) (kdf_id(2) aead_id(2))*
 */
import { timingSafeEqual, toHex, utf8Encode } from '../core/bytes.js';
import { cryptoBackend } from '../core/crypto.js';
import { KeyError, UsageError } from '../core/errors.js';
import { isSupportedSuite, KEM_X25519_HKDF_SHA256, hex16 } from './suite.js';

export interface SuiteId {
  kdfId: number;
  aeadId: number;
}

export interface KeyConfig {
  keyId: number;
  kemId: number;
  publicKey: Uint8Array;
  suites: SuiteId[];
}

/** Npk of the KEMs registered with HPKE (RFC 9180 section 7.1); used to split a config. */
const KEM_PUBLIC_KEY_LENGTH: ReadonlyMap<number, number> = new Map([
  [0x0010, 65], // DHKEM(P-256)
  [0x0011, 97], // DHKEM(P-384)
  [0x0012, 133], // DHKEM(P-521)
  [KEM_X25519_HKDF_SHA256, 32],
  [0x0021, 56], // DHKEM(X448)
]);

/** The public key length of a KEM, or undefined if this library does not know the KEM. */
export function kemPublicKeyLength(kemId: number): number | undefined {
  return KEM_PUBLIC_KEY_LENGTH.get(kemId);
}

function checkU8(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xff) {
    throw new KeyError('KEY_CONFIG_INVALID', `${what} must be an integer 0..255`);
  }
  return value;
}

function checkU16(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new KeyError('KEY_CONFIG_INVALID', `${what} must be an integer 0..65535`);
  }
  return value;
}

/** One key config, without the list's length prefix. */
export function encodeKeyConfig(config: KeyConfig): Uint8Array {
  checkU8(config.keyId, 'key id');
  checkU16(config.kemId, 'KEM id');
  const npk = kemPublicKeyLength(config.kemId);
  if (!(config.publicKey instanceof Uint8Array) || (npk !== undefined && config.publicKey.byteLength !== npk)) {
    throw new KeyError('PUBLIC_KEY_INVALID', `the public key must be ${npk ?? 'a byte string'} bytes long`);
  }
  if (!Array.isArray(config.suites) || config.suites.length === 0 || config.suites.length > 0x3fff) {
    throw new KeyError('KEY_CONFIG_INVALID', 'a key config needs 1..16383 suites');
  }
  const pk = config.publicKey;
  const out = new Uint8Array(1 + 2 + pk.byteLength + 2 + 4 * config.suites.length);
  const view = new DataView(out.buffer);
  let at = 0;
  out[at] = config.keyId;
  at += 1;
  view.setUint16(at, config.kemId);
  at += 2;
  out.set(pk, at);
  at += pk.byteLength;
  view.setUint16(at, 4 * config.suites.length);
  at += 2;
  for (const suite of config.suites) {
    view.setUint16(at, checkU16(suite.kdfId, 'KDF id'));
    view.setUint16(at + 2, checkU16(suite.aeadId, 'AEAD id'));
    at += 4;
  }
  return out;
}

/** The application/ohttp-keys body: each config prefixed by its length (2 bytes, big-endian). */
export function encodeKeyConfigList(configs: readonly KeyConfig[]): Uint8Array {
  if (configs.length === 0) throw new KeyError('KEY_CONFIG_INVALID', 'a key config list needs at least one config');
  const parts = configs.map((config) => encodeKeyConfig(config));
  const out = new Uint8Array(parts.reduce((sum, part) => sum + 2 + part.byteLength, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const part of parts) {
    if (part.byteLength > 0xffff) throw new KeyError('KEY_CONFIG_INVALID', 'a key config is longer than 65535 bytes');
    view.setUint16(at, part.byteLength);
    out.set(part, at + 2);
    at += 2 + part.byteLength;
  }
  return out;
}

function invalid(message: string): KeyError {
  return new KeyError('KEY_CONFIG_INVALID', `key config list: ${message}`);
}

/**
 * Strict parser of an application/ohttp-keys body. Refuses: an empty body, a truncated length
 * prefix or config, a public key of the wrong length, suites_len zero or not a multiple of 4,
 * bytes left over inside a config or after the last one, and a key id used twice.
 * Configs of KEMs this library does not know (their Npk is unknown) are skipped, so a router can
 * announce a newer KEM first without breaking this client.
 */
export function parseKeyConfigList(bytes: Uint8Array): KeyConfig[] {
  if (!(bytes instanceof Uint8Array)) throw invalid('not a byte string');
  if (bytes.byteLength === 0) throw invalid('empty');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const configs: KeyConfig[] = [];
  const seen = new Set<number>();
  let at = 0;
  let index = 0;
  while (at < bytes.byteLength) {
    if (bytes.byteLength - at < 2) throw invalid(`config ${index}: truncated length prefix`);
    const length = view.getUint16(at);
    at += 2;
    const end = at + length;
    if (end > bytes.byteLength) throw invalid(`config ${index}: length ${length} runs past the end`);
    if (length < 3) throw invalid(`config ${index}: too short`);
    const keyId = bytes[at]!;
    const kemId = view.getUint16(at + 1);
    const npk = kemPublicKeyLength(kemId);
    if (npk !== undefined) {
      const pkStart = at + 3;
      const suitesLenAt = pkStart + npk;
      if (suitesLenAt + 2 > end) throw invalid(`config ${index}: too short for a KEM 0x${hex16(kemId)} public key`);
      const suitesLen = view.getUint16(suitesLenAt);
      if (suitesLen === 0) throw invalid(`config ${index}: no suites`);
      if (suitesLen % 4 !== 0) throw invalid(`config ${index}: suites length ${suitesLen} is not a multiple of 4`);
      if (suitesLenAt + 2 + suitesLen !== end) {
        throw invalid(`config ${index}: suites length ${suitesLen} does not match the config length ${length}`);
      }
      const suites: SuiteId[] = [];
      for (let s = suitesLenAt + 2; s < end; s += 4) {
        suites.push({ kdfId: view.getUint16(s), aeadId: view.getUint16(s + 2) });
      }
      if (seen.has(keyId)) throw invalid(`key id ${keyId} appears twice`);
      seen.add(keyId);
      configs.push({ keyId, kemId, publicKey: bytes.slice(pkStart, suitesLenAt), suites });
    }
    at = end;
    index += 1;
  }
  return configs;
}

/** The first config (in list order) with a suite this library supports, and that suite. */
export function selectKeyConfig(list: readonly KeyConfig[]): { config: KeyConfig; kdfId: number; aeadId: number } {
  for (const config of list) {
    for (const suite of config.suites) {
      if (isSupportedSuite(config.kemId, suite.kdfId, suite.aeadId)) {
        return { config, kdfId: suite.kdfId, aeadId: suite.aeadId };
      }
    }
  }
  throw new KeyError(
    'NO_SUPPORTED_SUITE',
    'no key config offers DHKEM(X25519, HKDF-SHA256) with HKDF-SHA256 and AES-128-GCM, AES-256-GCM or ChaCha20-Poly1305',
  );
}

function sha256Hex(bytes: Uint8Array): string {
  return toHex(cryptoBackend().sha256(bytes));
}

/** "sha256:<hex>" of the raw public key. */
export function publicKeyFingerprint(publicKey: Uint8Array): string {
  return `sha256:${sha256Hex(publicKey)}`;
}

/** Hex SHA-256 of the encoded key config (no length prefix), as stored in session files. */
export function keyConfigSha256(config: KeyConfig): string {
  return sha256Hex(encodeKeyConfig(config));
}

/**
 * Validates and normalises a pin: "sha256:" (any case) and 64 hex digits (any case) →
 * "sha256:<64 lower-case hex>". Surrounding whitespace is ignored. UsageError KEY_PIN_INVALID else.
 */
export function parseKeyPin(text: string): string {
  if (typeof text !== 'string') throw new UsageError('KEY_PIN_INVALID', 'a key pin must be a string');
  const match = /^sha256:([0-9a-f]{64})$/i.exec(text.trim());
  if (match === null) {
    throw new UsageError('KEY_PIN_INVALID', 'a key pin must be "sha256:" followed by 64 hex digits');
  }
  return `sha256:${match[1]!.toLowerCase()}`;
}

/** Whether the public key's fingerprint equals the pin (pin normalised first; constant time). */
export function matchesPin(publicKey: Uint8Array, pin: string): boolean {
  return timingSafeEqual(utf8Encode(parseKeyPin(pin)), utf8Encode(publicKeyFingerprint(publicKey)));
}
