/**
 * The response key schedule and chunk AEAD of harmony-hpke/1, as in
 * draft-ietf-ohai-chunked-ohttp-08 section 6.2:
 *
 *   response_nonce = random(max(Nn, Nk))
 *   prk        = HKDF-Extract(salt = enc || response_nonce, ikm = secret)
 *   key        = HKDF-Expand(prk, "key", Nk)
 *   base_nonce = HKDF-Expand(prk, "nonce", Nn)
 *   nonce_i    = base_nonce XOR I2OSP(i, Nn)
 *   chunk i    = Seal(key, nonce_i, aad = "" (or "final" for the last chunk), plaintext)
 *
 * HKDF (on the backend's HMAC-SHA-256) and the chunk AEAD go through the crypto backend
 * (src/core/crypto.ts; node:crypto on Node.js): hpke-js's KDF wants a 32-byte salt, and WebCrypto
 * is asynchronous and slow per chunk.
 */
import { utf8Encode } from '../core/bytes.js';
import { cryptoBackend, type AeadKey } from '../core/crypto.js';
import { IntegrityError, UsageError } from '../core/errors.js';
import { aeadParams, type AeadParams, X25519_KEY_LENGTH } from './suite.js';

export interface ResponseKeys {
  readonly key: Uint8Array;
  readonly baseNonce: Uint8Array;
  readonly aeadId: number;
}

/** AAD of the last chunk (the five ASCII bytes "final"); other chunks have an empty AAD. */
export const FINAL_AAD: Uint8Array = utf8Encode('final');
const FINAL_AAD_BYTES = utf8Encode('final');

/** Largest chunk index: nonces are unique for every index below 2^53. */
export const MAX_CHUNK_INDEX = Number.MAX_SAFE_INTEGER;

/** max(Nn, Nk) random bytes. */
export function newResponseNonce(aeadId: number): Uint8Array {
  const { nn, nk } = aeadParams(aeadId);
  return cryptoBackend().randomBytes(Math.max(nn, nk));
}

/** HKDF-Extract (RFC 5869) with SHA-256: HMAC(salt, ikm). */
export function hkdfExtract(salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  return cryptoBackend().hmacSha256(salt, [ikm]);
}

/** HKDF-Expand (RFC 5869) with SHA-256. */
export function hkdfExpand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > 255 * 32) {
    throw new UsageError('KEY_SCHEDULE_INPUT_INVALID', 'HKDF-Expand length out of range');
  }
  const backend = cryptoBackend();
  const out = new Uint8Array(length);
  let previous: Uint8Array = new Uint8Array(0);
  for (let counter = 1, at = 0; at < length; counter += 1) {
    previous = backend.hmacSha256(prk, [previous, info, Uint8Array.of(counter)]);
    out.set(previous.subarray(0, Math.min(previous.byteLength, length - at)), at);
    at += previous.byteLength;
  }
  return out;
}

const LABEL_KEY = utf8Encode('key');
const LABEL_NONCE = utf8Encode('nonce');

/** The response PRK: HKDF-Extract(enc || response_nonce, secret). */
export function responsePrk(secret: Uint8Array, enc: Uint8Array, responseNonce: Uint8Array): Uint8Array {
  const salt = new Uint8Array(enc.byteLength + responseNonce.byteLength);
  salt.set(enc);
  salt.set(responseNonce, enc.byteLength);
  return hkdfExtract(salt, secret);
}

/**
 * Derives the response AEAD key and base nonce. The secret and response nonce must be
 * max(Nn, Nk) bytes and enc 32 bytes (UsageError KEY_SCHEDULE_INPUT_INVALID otherwise).
 */
export function deriveResponseKeys(input: {
  secret: Uint8Array;
  enc: Uint8Array;
  responseNonce: Uint8Array;
  aeadId: number;
}): ResponseKeys {
  const { secret, enc, responseNonce, aeadId } = input;
  const params = aeadParams(aeadId);
  const length = Math.max(params.nn, params.nk);
  if (!(secret instanceof Uint8Array) || secret.byteLength !== length) {
    throw new UsageError('KEY_SCHEDULE_INPUT_INVALID', `the response secret must be ${length} bytes`);
  }
  if (!(responseNonce instanceof Uint8Array) || responseNonce.byteLength !== length) {
    throw new UsageError('KEY_SCHEDULE_INPUT_INVALID', `the response nonce must be ${length} bytes`);
  }
  if (!(enc instanceof Uint8Array) || enc.byteLength !== X25519_KEY_LENGTH) {
    throw new UsageError('KEY_SCHEDULE_INPUT_INVALID', `enc must be ${X25519_KEY_LENGTH} bytes`);
  }
  const prk = responsePrk(secret, enc, responseNonce);
  return Object.freeze({
    key: hkdfExpand(prk, LABEL_KEY, params.nk),
    baseNonce: hkdfExpand(prk, LABEL_NONCE, params.nn),
    aeadId,
  });
}

/** UsageError CHUNK_INDEX_INVALID unless `index` is a chunk index (a non-negative safe integer). */
export function checkChunkIndex(index: number): void {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new UsageError('CHUNK_INDEX_INVALID', 'a chunk index must be a non-negative safe integer');
  }
}

/** nonce_i = base_nonce XOR I2OSP(i, Nn). */
export function chunkNonce(baseNonce: Uint8Array, index: number): Uint8Array {
  checkChunkIndex(index);
  const nonce = new Uint8Array(baseNonce);
  xorIndex(nonce, index);
  return nonce;
}

function xorIndex(nonce: Uint8Array, index: number): void {
  const n = nonce.byteLength;
  let low = index >>> 0;
  let high = Math.floor(index / 0x1_0000_0000);
  for (let i = 0; i < 4 && low !== 0; i += 1) {
    nonce[n - 1 - i]! ^= low & 0xff;
    low >>>= 8;
  }
  for (let i = 4; i < 8 && high !== 0; i += 1) {
    nonce[n - 1 - i]! ^= high & 0xff;
    high >>>= 8;
  }
}

/**
 * Per-key state for the chunk AEAD: the backend's key is set up once, nonces are built in a
 * reused buffer. Used by sealChunk/openChunk, the sealer and the stream decoder.
 */
export class ChunkCipher {
  readonly params: AeadParams;
  readonly #key: AeadKey;
  readonly #baseNonce: Uint8Array;
  readonly #nonce: Uint8Array;

  constructor(keys: ResponseKeys) {
    this.params = aeadParams(keys.aeadId);
    if (keys.key.byteLength !== this.params.nk || keys.baseNonce.byteLength !== this.params.nn) {
      throw new UsageError('KEY_SCHEDULE_INPUT_INVALID', 'response key or base nonce has the wrong length');
    }
    this.#key = cryptoBackend().aeadKey(this.params.algorithm, keys.key, this.params.nt);
    this.#baseNonce = new Uint8Array(keys.baseNonce);
    this.#nonce = new Uint8Array(this.params.nn);
  }

  #nonceFor(index: number): Uint8Array {
    checkChunkIndex(index);
    this.#nonce.set(this.#baseNonce);
    xorIndex(this.#nonce, index);
    return this.#nonce;
  }

  seal(index: number, plaintext: Uint8Array, final: boolean): Uint8Array {
    return this.#key.seal(this.#nonceFor(index), plaintext, final ? FINAL_AAD_BYTES : undefined);
  }

  /** The plaintext, or undefined if the ciphertext does not authenticate at this index and AAD. */
  tryOpen(index: number, ciphertext: Uint8Array, final: boolean): Uint8Array | undefined {
    if (ciphertext.byteLength < this.params.nt) return undefined;
    return this.#key.open(this.#nonceFor(index), ciphertext, final ? FINAL_AAD_BYTES : undefined);
  }
}

const ciphers = new WeakMap<ResponseKeys, ChunkCipher>();

function cipherFor(keys: ResponseKeys): ChunkCipher {
  let cipher = ciphers.get(keys);
  if (cipher === undefined) {
    cipher = new ChunkCipher(keys);
    ciphers.set(keys, cipher);
  }
  return cipher;
}

/** Seals chunk `index` (AAD "final" if `final`), returning ciphertext || tag. */
export function sealChunk(keys: ResponseKeys, index: number, plaintext: Uint8Array, final: boolean): Uint8Array {
  return cipherFor(keys).seal(index, plaintext, final);
}

/** Opens chunk `index`; IntegrityError CHUNK_AUTH_FAILED if it does not authenticate. */
export function openChunk(keys: ResponseKeys, index: number, ciphertext: Uint8Array, final: boolean): Uint8Array {
  const plaintext = cipherFor(keys).tryOpen(index, ciphertext, final);
  if (plaintext === undefined) {
    throw new IntegrityError('CHUNK_AUTH_FAILED', `chunk ${index} does not authenticate`);
  }
  return plaintext;
}

/** Seals chunks 0, 1, 2, ... in order; refuses any use after the final chunk. */
export class ResponseSealer {
  readonly #cipher: ChunkCipher;
  #next = 0;
  #finished = false;

  constructor(keys: ResponseKeys) {
    this.#cipher = new ChunkCipher(keys);
  }

  /** Index the next sealed chunk gets. */
  get nextIndex(): number {
    return this.#next;
  }

  get finished(): boolean {
    return this.#finished;
  }

  seal(plaintext: Uint8Array, final: boolean): Uint8Array {
    if (this.#finished) throw new UsageError('SEALER_FINISHED', 'the response was already sealed with its final chunk');
    const ciphertext = this.#cipher.seal(this.#next, plaintext, final);
    this.#next += 1;
    if (final) this.#finished = true;
    return ciphertext;
  }
}
