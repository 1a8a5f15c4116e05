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
 * HKDF and the AEADs use node:crypto (hpke-js's KDF wants a 32-byte salt, and WebCrypto is slow
 * per chunk).
 */
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { IntegrityError, UsageError } from '../core/errors.js';
import { aeadParams, type AeadParams, X25519_KEY_LENGTH } from './suite.js';

export interface ResponseKeys {
  readonly key: Uint8Array;
  readonly baseNonce: Uint8Array;
  readonly aeadId: number;
}

/** AAD of the last chunk (the five ASCII bytes "final"); other chunks have an empty AAD. */
export const FINAL_AAD: Uint8Array = new Uint8Array(Buffer.from('final', 'latin1'));
const FINAL_AAD_BUFFER = Buffer.from('final', 'latin1');

/** Largest chunk index: nonces are unique for every index below 2^53. */
export const MAX_CHUNK_INDEX = Number.MAX_SAFE_INTEGER;

/** max(Nn, Nk) random bytes. */
export function newResponseNonce(aeadId: number): Uint8Array {
  const { nn, nk } = aeadParams(aeadId);
  return new Uint8Array(randomBytes(Math.max(nn, nk)));
}

/** HKDF-Extract (RFC 5869) with SHA-256: HMAC(salt, ikm). */
export function hkdfExtract(salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', salt).update(ikm).digest());
}

/** HKDF-Expand (RFC 5869) with SHA-256. */
export function hkdfExpand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > 255 * 32) {
    throw new UsageError('KEY_SCHEDULE_INPUT_INVALID', 'HKDF-Expand length out of range');
  }
  const out = new Uint8Array(length);
  let previous: Uint8Array = new Uint8Array(0);
  for (let counter = 1, at = 0; at < length; counter += 1) {
    previous = createHmac('sha256', prk).update(previous).update(info).update(Uint8Array.of(counter)).digest();
    out.set(previous.subarray(0, Math.min(previous.byteLength, length - at)), at);
    at += previous.byteLength;
  }
  return out;
}

const LABEL_KEY = new TextEncoder().encode('key');
const LABEL_NONCE = new TextEncoder().encode('nonce');

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

function checkIndex(index: number): void {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new UsageError('CHUNK_INDEX_INVALID', 'a chunk index must be a non-negative safe integer');
  }
}

/** nonce_i = base_nonce XOR I2OSP(i, Nn). */
export function chunkNonce(baseNonce: Uint8Array, index: number): Uint8Array {
  checkIndex(index);
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
 * Per-key state for the chunk AEAD: the node:crypto KeyObject is made once, nonces are built in
 * a reused buffer. Used by sealChunk/openChunk, the sealer and the stream decoder.
 */
export class ChunkCipher {
  readonly params: AeadParams;
  readonly #key: KeyObject;
  readonly #baseNonce: Buffer;
  readonly #nonce: Buffer;

  constructor(keys: ResponseKeys) {
    this.params = aeadParams(keys.aeadId);
    if (keys.key.byteLength !== this.params.nk || keys.baseNonce.byteLength !== this.params.nn) {
      throw new UsageError('KEY_SCHEDULE_INPUT_INVALID', 'response key or base nonce has the wrong length');
    }
    this.#key = createSecretKey(keys.key);
    this.#baseNonce = Buffer.from(keys.baseNonce);
    this.#nonce = Buffer.alloc(this.params.nn);
  }

  #nonceFor(index: number): Buffer {
    checkIndex(index);
    this.#baseNonce.copy(this.#nonce);
    xorIndex(this.#nonce, index);
    return this.#nonce;
  }

  seal(index: number, plaintext: Uint8Array, final: boolean): Uint8Array {
    const cipher = createCipheriv(this.params.nodeCipher as 'aes-128-gcm', this.#key, this.#nonceFor(index), {
      authTagLength: this.params.nt,
    });
    if (final) cipher.setAAD(FINAL_AAD_BUFFER);
    const head = cipher.update(plaintext);
    const tail = cipher.final();
    const tag = cipher.getAuthTag();
    const out = new Uint8Array(head.byteLength + tail.byteLength + tag.byteLength);
    out.set(head);
    out.set(tail, head.byteLength);
    out.set(tag, head.byteLength + tail.byteLength);
    return out;
  }

  /** The plaintext, or undefined if the ciphertext does not authenticate at this index and AAD. */
  tryOpen(index: number, ciphertext: Uint8Array, final: boolean): Buffer | undefined {
    const nt = this.params.nt;
    if (ciphertext.byteLength < nt) return undefined;
    const decipher = createDecipheriv(this.params.nodeCipher as 'aes-128-gcm', this.#key, this.#nonceFor(index), {
      authTagLength: nt,
    });
    const split = ciphertext.byteLength - nt;
    decipher.setAuthTag(ciphertext.subarray(split));
    if (final) decipher.setAAD(FINAL_AAD_BUFFER);
    const head = decipher.update(ciphertext.subarray(0, split));
    try {
      const tail = decipher.final();
      return tail.byteLength === 0 ? head : Buffer.concat([head, tail]);
    } catch {
      return undefined;
    }
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
  return new Uint8Array(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
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
