/**
 * Whole-response decoding on top of StreamDecoder (src/sse/decrypt.ts): an async source of SSE
 * strings or bytes in, the verified events out (one by one, or one batch per input read), with
 * `buffer` holding the answer until the final chunk verified; and the check of which stored
 * session opens a stream.
 */
import { UsageError } from '../core/errors.js';
import type { Session } from '../hpke/session.js';
import { StreamDecoder, type DecodedEvent, type StreamDecoderOptions } from './decrypt.js';

export interface DecryptStreamOptions extends StreamDecoderOptions {
  /** Release nothing of the answer until the final chunk verified and the input ended. */
  buffer?: boolean;
  /** With `buffer`: most answer held, in characters of text (default DEFAULT_MAX_BUFFERED_CHARS). */
  maxBufferedChars?: number;
}

/** With `buffer`, the largest answer held before the final chunk: 64 Mi characters. */
export const DEFAULT_MAX_BUFFERED_CHARS = 64 * 1024 * 1024;

/**
 * Decodes a whole response from an async source of SSE strings or bytes. Events are yielded as
 * they verify (an authenticated prefix), or, with `buffer`, all at once after the final chunk
 * verified and the source ended. Throws the decoder's typed errors.
 */
export async function* decryptStream(
  source: AsyncIterable<string | Uint8Array>,
  session: Session,
  opts: DecryptStreamOptions = {},
): AsyncGenerator<DecodedEvent, void, undefined> {
  // Plain loops rather than `yield*` over a sync iterable, which adds a promise per event.
  for await (const batch of decryptStreamBatches(source, session, opts)) {
    for (const event of batch) yield event;
  }
}

/**
 * decryptStream, one array of events per piece of input (never empty): the same events in the
 * same order, with one promise per input read instead of one per event, for consumers on a hot
 * path. On a failure, the events verified before it are yielded first, then the error is thrown.
 */
export async function* decryptStreamBatches(
  source: AsyncIterable<string | Uint8Array>,
  session: Session,
  opts: DecryptStreamOptions = {},
): AsyncGenerator<readonly DecodedEvent[], void, undefined> {
  const decoder = new StreamDecoder(session, opts);
  const held: DecodedEvent[] = [];
  const maxBuffered = opts.maxBufferedChars ?? DEFAULT_MAX_BUFFERED_CHARS;
  let heldChars = 0;
  let pending: DecodedEvent[] = [];
  const take = (): DecodedEvent[] => {
    const batch = pending;
    pending = [];
    return batch;
  };
  // With `buffer`, only the answer is held: heartbeats and unauthenticated diagnostics are not part
  // of it and pass through at once (a stream of pings must not fill memory), and the held answer
  // is capped.
  const hold = (): void => {
    const events = pending;
    pending = [];
    for (const event of events) {
      if (event.type === 'ping' || event.type === 'diagnostic') {
        pending.push(event);
        continue;
      }
      heldChars += event.type === 'chunk' && event.message.t === 'tokens' ? event.message.text.length + 8 * event.message.ids.length + 32 : 64;
      if (heldChars > maxBuffered) {
        throw new UsageError('BUFFER_LIMIT', `the answer is larger than --buffer holds (${maxBuffered} characters); decode without --buffer`);
      }
      held.push(event);
    }
  };
  for await (const part of source) {
    try {
      decoder.pushInto(part, pending);
    } finally {
      if (opts.buffer) hold();
      if (pending.length > 0) yield take();
    }
  }
  try {
    decoder.endInto(pending);
  } finally {
    if (opts.buffer) hold();
    if (pending.length > 0) yield take();
  }
  if (opts.buffer && held.length > 0) yield held;
}

/**
 * Whether `session` opens the first chunk of the stream whose beginning is `sseHeadText`: the hpke
 * event matches the session's key and suite, and chunk 0 authenticates and names the session's
 * rid. Ignores the session's stored response nonce (a second response of the same request still
 * belongs to it; decoding then reports SECOND_RESPONSE). Never throws.
 */
export function sessionOpensStream(session: Session, sseHeadText: string): boolean {
  try {
    const { responseNonce: _ignored, ...rest } = session;
    const decoder = new StreamDecoder(rest as Session);
    try {
      decoder.push(sseHeadText);
    } catch {
      // A failure after chunk 0 (or a truncated head) does not matter here.
    }
    return decoder.nextIndex > 0;
  } catch {
    return false;
  }
}
