/**
 * Router keys (X25519) and the router key file format harmony-hpke-key/1:
 *
 *   {"format":"harmony-hpke-key/1","key_id":7,"kem":32,"suites":[[1,1],[1,2],[1,3]],
 *    "private_key":"<b64url>","public_key":"<b64url>","created":"2026-01-01T00:00:00.000Z"}
 */
import { bytesEqual, toArrayBuffer, toBase64Url, tryFromBase64Url } from '../core/bytes.js';
import { cryptoBackend } from '../core/crypto.js';
import { KeyError, UsageError } from '../core/errors.js';
import type { KeyConfig, SuiteId } from './key-config.js';
import {
  AEAD_AES_128_GCM,
  AEAD_AES_256_GCM,
  AEAD_CHACHA20_POLY1305,
  createCipherSuite,
  isSupportedSuite,
  type KemKeyPair,
  KDF_HKDF_SHA256,
  KEM_X25519_HKDF_SHA256,
  X25519_KEY_LENGTH,
} from './suite.js';

export interface RouterKey {
  keyId: number;
  kemId: number;
  privateKey: Uint8Array;
  publicKey: Uint8Array;
  suites: SuiteId[];
  /** ISO time the key was generated (kept by key files; optional). */
  created?: string;
}

export interface RouterKeyOptions {
  keyId?: number;
  suites?: SuiteId[];
  created?: string;
}

export const KEY_FILE_FORMAT = 'harmony-hpke-key/1';

/** AES-128-GCM first (mandatory), then AES-256-GCM and ChaCha20-Poly1305. */
export const DEFAULT_SUITES: readonly SuiteId[] = Object.freeze([
  Object.freeze({ kdfId: KDF_HKDF_SHA256, aeadId: AEAD_AES_128_GCM }),
  Object.freeze({ kdfId: KDF_HKDF_SHA256, aeadId: AEAD_AES_256_GCM }),
  Object.freeze({ kdfId: KDF_HKDF_SHA256, aeadId: AEAD_CHACHA20_POLY1305 }),
]);

/** The X25519 public key of a raw 32-byte private key (RFC 7748), via the crypto backend. */
export function x25519PublicKey(privateKey: Uint8Array): Uint8Array {
  if (!(privateKey instanceof Uint8Array) || privateKey.byteLength !== X25519_KEY_LENGTH) {
    throw new KeyError('PRIVATE_KEY_INVALID', `an X25519 private key is ${X25519_KEY_LENGTH} bytes`);
  }
  try {
    return cryptoBackend().x25519PublicKey(privateKey);
  } catch {
    throw new KeyError('PRIVATE_KEY_INVALID', 'the X25519 private key cannot be used');
  }
}

function checkOptions(opts: RouterKeyOptions): { keyId: number; suites: SuiteId[] } {
  const keyId = opts.keyId ?? 0;
  if (!Number.isInteger(keyId) || keyId < 0 || keyId > 255) {
    throw new UsageError('KEY_OPTIONS_INVALID', 'a key id is an integer 0..255');
  }
  const suites = (opts.suites ?? DEFAULT_SUITES).map((suite) => ({ kdfId: suite.kdfId, aeadId: suite.aeadId }));
  if (suites.length === 0) throw new UsageError('KEY_OPTIONS_INVALID', 'a router key needs at least one suite');
  for (const suite of suites) {
    if (!isSupportedSuite(KEM_X25519_HKDF_SHA256, suite.kdfId, suite.aeadId)) {
      throw new UsageError('KEY_OPTIONS_INVALID', `suite (KDF ${suite.kdfId}, AEAD ${suite.aeadId}) is not supported`);
    }
  }
  const unique = new Set(suites.map((suite) => `${suite.kdfId}/${suite.aeadId}`));
  if (unique.size !== suites.length) throw new UsageError('KEY_OPTIONS_INVALID', 'a suite is listed twice');
  return { keyId, suites };
}

/** A fresh X25519 router key (default key id 0, default suites DEFAULT_SUITES). */
export async function generateRouterKey(opts: RouterKeyOptions = {}): Promise<RouterKey> {
  const { keyId, suites } = checkOptions(opts);
  const sk = cryptoBackend().x25519GenerateKey();
  const pk = x25519PublicKey(sk);
  return {
    keyId,
    kemId: KEM_X25519_HKDF_SHA256,
    privateKey: sk,
    publicKey: pk,
    suites,
    created: opts.created ?? new Date().toISOString(),
  };
}

/** A router key from its raw private key (the public key is derived). */
export async function routerKeyFromPrivateKey(privateKey: Uint8Array, opts: RouterKeyOptions = {}): Promise<RouterKey> {
  const { keyId, suites } = checkOptions(opts);
  const publicKey = x25519PublicKey(privateKey);
  const key: RouterKey = {
    keyId,
    kemId: KEM_X25519_HKDF_SHA256,
    privateKey: new Uint8Array(privateKey),
    publicKey,
    suites,
  };
  if (opts.created !== undefined) key.created = opts.created;
  return key;
}

/** The public key config of a router key. */
export function keyConfigOf(key: RouterKey): KeyConfig {
  return {
    keyId: key.keyId,
    kemId: key.kemId,
    publicKey: new Uint8Array(key.publicKey),
    suites: key.suites.map((suite) => ({ kdfId: suite.kdfId, aeadId: suite.aeadId })),
  };
}

/**
 * An ephemeral key pair for hpke-js's test-only `ekm` option, from a raw X25519 private key
 * (the `skE` of a test vector). Never use outside tests: the ephemeral key must be fresh.
 */
export async function ephemeralKeyPairFromPrivateKey(privateKey: Uint8Array): Promise<KemKeyPair> {
  const publicKey = x25519PublicKey(privateKey);
  const suite = await createCipherSuite(AEAD_AES_128_GCM);
  return {
    privateKey: await suite.kem.importKey('raw', toArrayBuffer(privateKey), false),
    publicKey: await suite.kem.importKey('raw', toArrayBuffer(publicKey), true),
  };
}

/** The key file JSON (one line, no trailing newline). */
export function serializeRouterKeyFile(key: RouterKey): string {
  checkOptions({ keyId: key.keyId, suites: key.suites });
  if (key.kemId !== KEM_X25519_HKDF_SHA256) throw new KeyError('PRIVATE_KEY_INVALID', 'only X25519 router keys are supported');
  return JSON.stringify({
    format: KEY_FILE_FORMAT,
    key_id: key.keyId,
    kem: key.kemId,
    suites: key.suites.map((suite) => [suite.kdfId, suite.aeadId]),
    private_key: toBase64Url(key.privateKey),
    public_key: toBase64Url(key.publicKey),
    created: key.created ?? new Date().toISOString(),
  });
}

function corrupt(message: string): KeyError {
  return new KeyError('KEY_FILE_CORRUPT', `router key file: ${message}`);
}

/**
 * Parses a key file. Refuses (KeyError): text that is not a JSON object or lacks a field
 * (KEY_FILE_CORRUPT), another format (KEY_FILE_WRONG_FORMAT), harmony-hpke-key/2 or later
 * (KEY_FILE_NEWER_VERSION), and a public key that is not the private key's (KEY_FILE_KEY_MISMATCH).
 */
export function parseRouterKeyFile(text: string): RouterKey {
  if (typeof text !== 'string') throw corrupt('not text');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw corrupt('not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw corrupt('not a JSON object');
  const file = parsed as Record<string, unknown>;
  const format = file.format;
  if (typeof format !== 'string') throw corrupt('no "format"');
  if (format !== KEY_FILE_FORMAT) {
    const version = /^harmony-hpke-key\/(\d+)$/.exec(format);
    if (version !== null && Number(version[1]) > 1) {
      throw new KeyError('KEY_FILE_NEWER_VERSION', `router key file has format ${format}; this program reads ${KEY_FILE_FORMAT}`);
    }
    throw new KeyError('KEY_FILE_WRONG_FORMAT', `not a router key file (format ${JSON.stringify(format.slice(0, 40))})`);
  }
  const keyId = file.key_id;
  if (typeof keyId !== 'number' || !Number.isInteger(keyId) || keyId < 0 || keyId > 255) throw corrupt('"key_id" must be 0..255');
  if (file.kem !== KEM_X25519_HKDF_SHA256) throw corrupt('"kem" must be 32 (DHKEM(X25519, HKDF-SHA256))');
  if (!Array.isArray(file.suites) || file.suites.length === 0) throw corrupt('"suites" must be a non-empty array');
  const suites: SuiteId[] = [];
  for (const entry of file.suites as unknown[]) {
    if (
      !Array.isArray(entry) ||
      entry.length !== 2 ||
      typeof entry[0] !== 'number' ||
      typeof entry[1] !== 'number' ||
      !isSupportedSuite(KEM_X25519_HKDF_SHA256, entry[0], entry[1])
    ) {
      throw corrupt('"suites" must list supported [kdf, aead] pairs');
    }
    suites.push({ kdfId: entry[0], aeadId: entry[1] });
  }
  if (new Set(suites.map((suite) => `${suite.kdfId}/${suite.aeadId}`)).size !== suites.length) {
    throw corrupt('"suites" lists a suite twice');
  }
  const privateKey = typeof file.private_key === 'string' ? tryFromBase64Url(file.private_key) : undefined;
  if (privateKey === undefined || privateKey.byteLength !== X25519_KEY_LENGTH) {
    throw corrupt('"private_key" must be 32 bytes of base64url');
  }
  const publicKey = typeof file.public_key === 'string' ? tryFromBase64Url(file.public_key) : undefined;
  if (publicKey === undefined || publicKey.byteLength !== X25519_KEY_LENGTH) {
    throw corrupt('"public_key" must be 32 bytes of base64url');
  }
  if (file.created !== undefined && (typeof file.created !== 'string' || Number.isNaN(Date.parse(file.created)))) {
    throw corrupt('"created" must be an ISO date');
  }
  let derived: Uint8Array;
  try {
    derived = x25519PublicKey(new Uint8Array(privateKey));
  } catch {
    throw corrupt('the private key cannot be used');
  }
  if (!bytesEqual(derived, publicKey)) {
    throw new KeyError('KEY_FILE_KEY_MISMATCH', 'router key file: the public key does not belong to the private key');
  }
  const key: RouterKey = {
    keyId,
    kemId: KEM_X25519_HKDF_SHA256,
    privateKey: new Uint8Array(privateKey),
    publicKey: new Uint8Array(publicKey),
    suites,
  };
  if (typeof file.created === 'string') key.created = file.created;
  return key;
}
