/**
 * BENCH ONLY: the unencrypted baseline of the router, for `npm run bench` to measure what
 * encryption costs. Enabled only by the library option `startRouter({ plaintextBaselinePath })`,
 * which the CLI never sets; never enable it in a deployment: it accepts the request plaintext
 * unsealed and streams the answer in the clear.
 *
 * On that path the request body is the padded request plaintext itself (what would be sealed),
 * and every chunk message is written as plain JSON in place of its ciphertext:
 *
 *   event: baseline           once, first (where `event: hpke` would be)
 *   data: {"v":1}
 *
 *   id: <i>                   chunks 0 .. N-1, then one `event: final`
 *   event: chunk
 *   data: {"t":"tokens",...}
 *
 * Everything else (payload checks, iat window, replay store, rendering, engine, back-pressure,
 * heartbeats, logs) runs through the same server code as a sealed request.
 */
import { randomBytes } from 'node:crypto';
import type { ChunkMessage, RequestHeader, RouterKey } from '../hpke/index.js';
import type { EncryptedEventStream } from '../sse/index.js';

/** What the server needs of an event writer: EncryptedEventStream, or the baseline's. */
export type ChunkEventWriter = Pick<EncryptedEventStream, 'hpkeEvent' | 'chunk' | 'final' | 'ping' | 'chunksWritten'>;

/** Stands in for openRequest on the baseline path: no HPKE, the body is the plaintext. */
export function openPlaintextBaseline(
  body: Uint8Array,
  key: RouterKey,
): { header: RequestHeader; enc: Uint8Array; plaintext: Uint8Array; secret: Uint8Array; key: RouterKey } {
  const suite = key.suites[0];
  return {
    header: { keyId: key.keyId, kemId: key.kemId, kdfId: suite?.kdfId ?? 0, aeadId: suite?.aeadId ?? 0 },
    // A fresh value per request, so the replay store does the same work as for a sealed request.
    enc: new Uint8Array(randomBytes(32)),
    plaintext: body,
    secret: new Uint8Array(0),
    key,
  };
}

/** The baseline's event writer: chunk messages as plain JSON, same framing as the encrypted one. */
export class PlaintextEventStream implements ChunkEventWriter {
  #next = 0;

  hpkeEvent(): string {
    return 'event: baseline\ndata: {"v":1}\n\n';
  }

  chunk(msg: ChunkMessage): string {
    return `id: ${this.#next++}\nevent: chunk\ndata: ${JSON.stringify(msg)}\n\n`;
  }

  final(msg: ChunkMessage): string {
    return `id: ${this.#next++}\nevent: final\ndata: ${JSON.stringify(msg)}\n\n`;
  }

  ping(): string {
    return ': ping\n\n';
  }

  get chunksWritten(): number {
    return this.#next;
  }
}
