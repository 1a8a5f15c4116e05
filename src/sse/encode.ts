/**
 * The SSE text of a harmony-hpke/1 response (router side):
 *
 *   event: hpke                                  once, first
 *   data: {"v":1,"kid":7,"kem":32,"kdf":1,"aead":1,"nonce":"<b64url>"}
 *
 *   id: 0                                        chunks 0 .. N-1
 *   event: chunk
 *   data: <b64url of ciphertext || tag>
 *
 *   id: N                                        exactly one, last
 *   event: final
 *   data: <b64url>
 *
 *   : ping                                       heartbeat comments, any time
 *
 * Lines end with LF; every event ends with an empty line.
 */
import { UsageError } from '../core/errors.js';
import { toBase64Url } from '../hpke/base64url.js';
import { encodeChunkPlaintext, type ChunkMessage } from '../hpke/chunks.js';
import { checkChunkIndex, deriveResponseKeys, newResponseNonce, ResponseSealer, type ResponseKeys } from '../hpke/response.js';

export interface HpkeEventFields {
  kid: number;
  kem: number;
  kdf: number;
  aead: number;
  nonce: Uint8Array;
}

/** `event: hpke` with its JSON (members in the order v, kid, kem, kdf, aead, nonce). */
export function formatHpkeEvent(h: HpkeEventFields): string {
  const data = JSON.stringify({ v: 1, kid: h.kid, kem: h.kem, kdf: h.kdf, aead: h.aead, nonce: toBase64Url(h.nonce) });
  return `event: hpke\ndata: ${data}\n\n`;
}

export function formatChunkEvent(index: number, ciphertext: Uint8Array): string {
  checkChunkIndex(index);
  return `id: ${index}\nevent: chunk\ndata: ${toBase64Url(ciphertext)}\n\n`;
}

export function formatFinalEvent(index: number, ciphertext: Uint8Array): string {
  checkChunkIndex(index);
  return `id: ${index}\nevent: final\ndata: ${toBase64Url(ciphertext)}\n\n`;
}

/** A comment line (heartbeat), followed by an empty line. */
export function formatComment(text = 'ping'): string {
  if (/[\r\n]/.test(text)) throw new UsageError('CHUNK_MESSAGE_INVALID', 'an SSE comment cannot contain a line break');
  return `: ${text}\n\n`;
}

/**
 * The router's writer for one response: seals chunk messages in order and formats the events.
 * `chunk` and `final` refuse to run after the final chunk (SEALER_FINISHED).
 */
export class EncryptedEventStream {
  readonly #sealer: ResponseSealer;
  readonly #header: HpkeEventFields;

  constructor(keys: ResponseKeys, header: HpkeEventFields) {
    if (header.aead !== keys.aeadId) throw new UsageError('KEY_SCHEDULE_INPUT_INVALID', 'the hpke event AEAD differs from the keys');
    this.#sealer = new ResponseSealer(keys);
    this.#header = { ...header, nonce: new Uint8Array(header.nonce) };
  }

  /** The `event: hpke` text (send it first). */
  hpkeEvent(): string {
    return formatHpkeEvent(this.#header);
  }

  /** A non-final chunk (start or tokens). */
  chunk(msg: ChunkMessage): string {
    const index = this.#sealer.nextIndex;
    return formatChunkEvent(index, this.#sealer.seal(encodeChunkPlaintext(msg), false));
  }

  /** The final chunk (end or error); nothing may follow it. */
  final(msg: ChunkMessage): string {
    const index = this.#sealer.nextIndex;
    return formatFinalEvent(index, this.#sealer.seal(encodeChunkPlaintext(msg), true));
  }

  /** A heartbeat comment. */
  ping(): string {
    return formatComment('ping');
  }

  /** Chunk events produced so far (including the final one). */
  get chunksWritten(): number {
    return this.#sealer.nextIndex;
  }

  /** Whether the final chunk was produced. */
  get done(): boolean {
    return this.#sealer.finished;
  }

  get responseNonce(): Uint8Array {
    return new Uint8Array(this.#header.nonce);
  }
}

/**
 * Everything a router does after openRequest in one call: a fresh response nonce, the key
 * schedule, and the event writer.
 */
export function createEncryptedEventStream(input: {
  secret: Uint8Array;
  enc: Uint8Array;
  kid: number;
  kem: number;
  kdf: number;
  aead: number;
  /** Tests only: a fixed response nonce. */
  responseNonce?: Uint8Array;
}): EncryptedEventStream {
  const nonce = input.responseNonce ?? newResponseNonce(input.aead);
  const keys = deriveResponseKeys({ secret: input.secret, enc: input.enc, responseNonce: nonce, aeadId: input.aead });
  return new EncryptedEventStream(keys, { kid: input.kid, kem: input.kem, kdf: input.kdf, aead: input.aead, nonce });
}
