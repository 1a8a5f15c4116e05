/**
 * The crypto seam: the primitives src/hpke and src/sse need beyond HPKE itself (which goes through
 * hpke-js on WebCrypto), as one small synchronous interface that a runtime implements.
 *
 *   random bytes                  response nonces, request ids
 *   SHA-256, HMAC-SHA-256         fingerprints, the response key schedule (HKDF is built on HMAC)
 *   the per-suite AEAD            one key object per response, seal/open per chunk (the hot path)
 *   X25519                        router keys: generate, derive the public key of a private key
 *
 * The libraries never pick an implementation themselves: they call `cryptoBackend()`, which
 * returns the one installed with `setCryptoBackend`. On Node.js, src/node/crypto-backend.ts
 * implements it on node:crypto and the Node entry points install it on import (package.json
 * "exports" conditions; see docs/architecture.md), so Node users never call setCryptoBackend.
 */
import { setNativeByteCodecs, type NativeByteCodecs } from './bytes.js';
import { InternalError } from './errors.js';

/** The AEADs of harmony-hpke/1 (RFC 9180 section 7.3), by their usual lower-case names. */
export type AeadAlgorithm = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';

/** One AEAD key, set up once (per response) and used for every chunk. */
export interface AeadKey {
  /** ciphertext || tag. */
  seal(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array | undefined): Uint8Array;
  /** The plaintext, or undefined if `sealed` (ciphertext || tag) does not authenticate. Never throws for bad input. */
  open(nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array | undefined): Uint8Array | undefined;
}

export interface CryptoBackend {
  /** For diagnostics ("node:crypto"). */
  readonly name: string;
  /** `length` cryptographically random bytes. */
  randomBytes(length: number): Uint8Array;
  sha256(data: Uint8Array): Uint8Array;
  /** HMAC-SHA-256 of the concatenation of `data`. */
  hmacSha256(key: Uint8Array, data: readonly Uint8Array[]): Uint8Array;
  /** An AEAD key; `key` has the algorithm's length and the tag is `tagLength` bytes. */
  aeadKey(algorithm: AeadAlgorithm, key: Uint8Array, tagLength: number): AeadKey;
  /** A fresh raw X25519 private key (32 bytes). */
  x25519GenerateKey(): Uint8Array;
  /** The raw public key of a raw X25519 private key; throws if the key cannot be used. */
  x25519PublicKey(privateKey: Uint8Array): Uint8Array;
  /** Native base64url and UTF-8 codecs for src/core/bytes.ts, if the runtime has faster ones. */
  readonly codecs?: NativeByteCodecs;
}

let installed: CryptoBackend | undefined;

/**
 * Installs the backend the libraries use from now on (the Node entry points install node:crypto's);
 * undefined uninstalls it.
 */
export function setCryptoBackend(backend: CryptoBackend | undefined): void {
  installed = backend;
  setNativeByteCodecs(backend?.codecs);
}

/** The installed backend; InternalError CRYPTO_BACKEND_MISSING if none was installed. */
export function cryptoBackend(): CryptoBackend {
  if (installed === undefined) {
    throw new InternalError(
      'CRYPTO_BACKEND_MISSING',
      'no crypto backend is installed: import harmony-hpke on Node.js, or call setCryptoBackend() first',
    );
  }
  return installed;
}
