/**
 * harmony-hpke/testing: what reproduces fixed bytes (the protocol vectors, differential tests)
 * and must never run in production, where every ephemeral key and response nonce is fresh.
 *
 *   sealRequestWithEphemeralKey     sealRequest with the vector's skE (hpke-js's test-only `ekm`)
 *   ephemeralKeyPairFromPrivateKey  that key pair, for hpke-js directly
 *   encryptedEventStreamWithNonce   createEncryptedEventStream with a given response nonce
 *   createCipherSuite, x25519Implementation   pick the native or the portable DHKEM(X25519)
 */
import { toArrayBuffer } from '../core/bytes.js';
import type { KeyConfig, SuiteId } from '../hpke/key-config.js';
import { x25519PublicKey } from '../hpke/keys.js';
import { sealRequestWith, type SealedRequestResult } from '../hpke/request.js';
import { AEAD_AES_128_GCM, createCipherSuite, x25519Implementation, type KemKeyPair, type X25519Implementation } from '../hpke/suite.js';
import { encryptedEventStreamWithNonce, type OpenedForResponse } from './encode.js';

export { createCipherSuite, encryptedEventStreamWithNonce, x25519Implementation };
export type { KemKeyPair, OpenedForResponse, SealedRequestResult, X25519Implementation };

/**
 * The ephemeral key pair hpke-js's test-only `ekm` option takes, from a raw X25519 private key
 * (the `skE` of a test vector), for the given X25519 implementation (default: the one in use).
 */
export async function ephemeralKeyPairFromPrivateKey(privateKey: Uint8Array, kem?: X25519Implementation): Promise<KemKeyPair> {
  const publicKey = x25519PublicKey(privateKey);
  const suite = await createCipherSuite(AEAD_AES_128_GCM, kem);
  return {
    privateKey: await suite.kem.importKey('raw', toArrayBuffer(privateKey), false),
    publicKey: await suite.kem.importKey('raw', toArrayBuffer(publicKey), true),
  };
}

/** sealRequest with a fixed ephemeral private key (a vector's skE): the same bytes every time. */
export async function sealRequestWithEphemeralKey(
  config: KeyConfig,
  suite: SuiteId,
  plaintext: Uint8Array,
  ephemeralPrivateKey: Uint8Array,
): Promise<SealedRequestResult> {
  return sealRequestWith(config, suite, plaintext, await ephemeralKeyPairFromPrivateKey(ephemeralPrivateKey));
}
