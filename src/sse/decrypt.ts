/**
 * The verifying decoder of a harmony-hpke/1 response stream (client side).
 *
 * Input is the SSE text (strings or UTF-8 bytes, split anywhere). Lines are limited in length
 * before they reach eventsource-parser, which does the SSE parsing (CR, LF and CRLF line ends;
 * a leading BOM is dropped). Every chunk is authenticated at its expected index before anything
 * is released, so the delivered chunks are always an authenticated prefix of the response; the
 * stream is complete only when `end()` returns after a verified `final` chunk.
 *
 * Each guarantee has its own error code (see src/hpke/errors.ts): tampering CHUNK_AUTH_FAILED,
 * reordering CHUNK_OUT_OF_ORDER, a dropped chunk CHUNK_MISSING, a duplicated chunk
 * CHUNK_DUPLICATE, a chunk relabelled final CHUNK_RELABELLED_FINAL (and the reverse
 * FINAL_RELABELLED_CHUNK), truncation STREAM_TRUNCATED, data after final DATA_AFTER_FINAL,
 * MISSING_HPKE_EVENT, DUPLICATE_HPKE_EVENT, a stream of another request STREAM_NOT_FOR_SESSION or
 * HPKE_HEADER_MISMATCH, RID_MISMATCH, and a second response for one session SECOND_RESPONSE.
 */
import { createParser, type EventSourceMessage, type EventSourceParser, type ParseError } from 'eventsource-parser';
import { bytesEqual, createUtf8StreamDecoder } from '../core/bytes.js';
import { HarmonyHpkeError, IntegrityError, InternalError, TruncatedError, UsageError, type CodeOf } from '../core/errors.js';
import { base64UrlLength, toBase64Url, tryFromBase64Url } from '../hpke/base64url.js';
import {
  MAX_CHUNK_PLAINTEXT,
  parseChunkPlaintext,
  sanitizeText,
  type ChunkMessage,
} from '../hpke/chunks.js';
import { ChunkCipher, deriveResponseKeys } from '../hpke/response.js';
import type { Session } from '../hpke/session.js';
import { AEAD_TAG_LENGTH, responseSecretLength } from '../hpke/suite.js';

/** The `hpke` event, checked against the session. */
export interface ResponseHeader {
  v: 1;
  kid: number;
  kem: number;
  kdf: number;
  aead: number;
  /** The response nonce (store it in the session as response_nonce). */
  nonce: Uint8Array;
}

export type DecodedEvent =
  | { type: 'header'; header: ResponseHeader }
  | { type: 'chunk'; index: number; final: boolean; message: ChunkMessage }
  /** A plaintext `event: error` (or other router text): unauthenticated, shown as a diagnostic only. */
  | { type: 'diagnostic'; text: string }
  | { type: 'ping' };

export interface StreamDecoderOptions {
  /** Longest SSE line accepted, in characters (default DEFAULT_MAX_LINE_LENGTH). */
  maxLineLength?: number;
  /** Most data one event may buffer, in characters (default twice the line limit). */
  maxEventSize?: number;
  /** Called at once for every diagnostic (it is also returned as a `diagnostic` event). */
  onDiagnostic?: (text: string) => void;
}

/** Room for the longest legitimate line: "data: " and a maximal chunk in base64url, with slack. */
export const DEFAULT_MAX_LINE_LENGTH = 32 * 1024;

const MAX_DATA_LENGTH = base64UrlLength(MAX_CHUNK_PLAINTEXT + AEAD_TAG_LENGTH);
const CANONICAL_INDEX = /^(?:0|[1-9][0-9]{0,15})$/;

type State = 'header' | 'streaming' | 'gap' | 'final' | 'ended';

function integrity(code: CodeOf<'integrity'>, message: string): IntegrityError {
  return new IntegrityError(code, message);
}

export class StreamDecoder {
  readonly #session: Session;
  readonly #maxLine: number;
  readonly #onDiagnostic: ((text: string) => void) | undefined;
  readonly #parser: EventSourceParser;
  readonly #utf8 = createUtf8StreamDecoder();
  #out: DecodedEvent[] = [];
  #state: State = 'header';
  #failure: HarmonyHpkeError | undefined;
  #header: ResponseHeader | undefined;
  #cipher: ChunkCipher | undefined;
  #next = 0;
  #missing = 0;
  #started = false;
  #lineLength = 0;
  #endsWithCR = false;
  #diagnostics = 0;

  constructor(session: Session, opts: StreamDecoderOptions = {}) {
    this.#session = session;
    this.#maxLine = opts.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
    if (!Number.isSafeInteger(this.#maxLine) || this.#maxLine < 64) {
      throw new UsageError('DECODER_OPTIONS_INVALID', 'maxLineLength must be an integer of at least 64');
    }
    this.#onDiagnostic = opts.onDiagnostic;
    this.#parser = createParser({
      onEvent: (event) => this.#onEvent(event),
      onComment: () => {
        if (this.#state !== 'final' && this.#state !== 'gap') this.#out.push({ type: 'ping' });
      },
      onError: (error: ParseError) => {
        if (error.type === 'max-buffer-size-exceeded') {
          throw integrity('EVENT_TOO_LARGE', 'an SSE event is larger than the decoder accepts');
        }
        // Unknown fields and bad `retry` values are ignored, as the SSE specification says.
      },
      maxBufferSize: opts.maxEventSize ?? 2 * this.#maxLine,
    });
  }

  /** The verified `hpke` event, once seen. */
  get header(): ResponseHeader | undefined {
    return this.#header;
  }

  /** True once the final chunk verified (call end() to check that nothing follows it). */
  get done(): boolean {
    return this.#state === 'final' || (this.#state === 'ended' && this.#failure === undefined);
  }

  /** Index of the next chunk expected (= number of chunks verified so far). */
  get nextIndex(): number {
    return this.#next;
  }

  /** Feeds SSE input; returns the events it completed. Throws the typed error of a failed check. */
  push(chunk: string | Uint8Array): DecodedEvent[] {
    const out: DecodedEvent[] = [];
    this.pushInto(chunk, out);
    return out;
  }

  /**
   * Like push, but appends to `out` as it goes: when it throws, `out` still holds the events
   * verified before the failure (all of them authenticated).
   */
  pushInto(chunk: string | Uint8Array, out: DecodedEvent[]): void {
    this.#checkOpen();
    this.#out = out;
    try {
      let text: string;
      if (typeof chunk === 'string') {
        text = chunk;
        if (!this.#started && text.length > 0 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      } else {
        try {
          text = this.#utf8.decode(chunk, { stream: true });
        } catch {
          throw integrity('SSE_NOT_UTF8', 'the stream is not valid UTF-8');
        }
      }
      if (chunk.length > 0) this.#started = true;
      if (text.length === 0) return;
      this.#checkLines(text);
      this.#endsWithCR = text.charCodeAt(text.length - 1) === 13;
      this.#parser.feed(text);
    } catch (error) {
      throw this.#fail(error);
    }
  }

  /**
   * Ends the input. Throws STREAM_TRUNCATED unless a final chunk verified, CHUNK_MISSING if a
   * chunk was skipped, DATA_AFTER_FINAL if an (unterminated) event follows the final one.
   */
  end(): DecodedEvent[] {
    const out: DecodedEvent[] = [];
    this.endInto(out);
    return out;
  }

  endInto(out: DecodedEvent[]): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#state === 'ended') return;
    this.#out = out;
    try {
      try {
        const rest = this.#utf8.decode();
        if (rest.length > 0) throw new Error('unreachable: a complete decode leaves nothing');
      } catch {
        throw integrity('SSE_NOT_UTF8', 'the stream ends inside a UTF-8 sequence');
      }
      if (this.#endsWithCR) this.#parser.feed('\n');
      if (this.#state === 'final') {
        // An event still open after the final chunk would be dropped by an SSE parser at EOF;
        // dispatch it so that it is refused as data after final.
        this.#parser.feed('\n\n');
      }
      if (this.#state === 'gap') {
        throw integrity('CHUNK_MISSING', `the stream skipped chunk ${this.#missing}`);
      }
      if (this.#state !== 'final') {
        const seen = this.#header === undefined ? 'before the hpke event' : `after ${this.#next} verified chunks`;
        const note = this.#diagnostics > 0 ? ' (the router sent an unauthenticated error)' : '';
        throw new TruncatedError('STREAM_TRUNCATED', `the stream ended ${seen} without a verified final chunk${note}`);
      }
      this.#state = 'ended';
    } catch (error) {
      throw this.#fail(error);
    }
  }

  #checkOpen(): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#state === 'ended') throw new UsageError('DECODER_CLOSED', 'the decoder was already ended');
  }

  #fail(error: unknown): HarmonyHpkeError {
    const failure =
      error instanceof HarmonyHpkeError ? error : new InternalError('DECODER_INTERNAL', 'the stream decoder failed unexpectedly', { cause: error });
    this.#failure = failure;
    return failure;
  }

  /** Refuses any line longer than the limit, counting across pushes, before the parser sees it. */
  #checkLines(text: string): void {
    const max = this.#maxLine;
    const length = text.length;
    let start = 0;
    let nextLF = text.indexOf('\n');
    let nextCR = text.indexOf('\r');
    for (;;) {
      if (nextLF !== -1 && nextLF < start) nextLF = text.indexOf('\n', start);
      if (nextCR !== -1 && nextCR < start) nextCR = text.indexOf('\r', start);
      const end = nextLF === -1 ? nextCR : nextCR === -1 ? nextLF : Math.min(nextLF, nextCR);
      if (end === -1) {
        this.#lineLength += length - start;
        if (this.#lineLength > max) throw this.#lineTooLong();
        return;
      }
      if (this.#lineLength + (end - start) > max) throw this.#lineTooLong();
      this.#lineLength = 0;
      start = end + 1;
    }
  }

  #lineTooLong(): IntegrityError {
    return integrity('LINE_TOO_LONG', `an SSE line is longer than ${this.#maxLine} characters`);
  }

  #onEvent(event: EventSourceMessage): void {
    if (this.#state === 'final') {
      throw integrity('DATA_AFTER_FINAL', 'an event follows the final chunk');
    }
    switch (event.event) {
      case 'chunk':
        this.#onChunk(event, false);
        return;
      case 'final':
        this.#onChunk(event, true);
        return;
      case 'hpke':
        if (this.#state === 'gap') throw this.#gapDecided(undefined);
        this.#onHeader(event.data);
        return;
      case 'error': {
        if (this.#state === 'gap') throw this.#gapDecided(undefined);
        const text = sanitizeText(event.data);
        this.#diagnostics += 1;
        this.#onDiagnostic?.(text);
        this.#out.push({ type: 'diagnostic', text });
        return;
      }
      default:
        if (this.#state === 'gap') throw this.#gapDecided(undefined);
        throw integrity(
          'UNEXPECTED_EVENT',
          `unexpected SSE event type ${event.event === undefined ? '(none)' : JSON.stringify(sanitizeText(event.event, 32))}`,
        );
    }
  }

  #onHeader(data: string): void {
    if (this.#header !== undefined) throw integrity('DUPLICATE_HPKE_EVENT', 'a second hpke event');
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      throw integrity('MALFORMED_HPKE_EVENT', 'the hpke event data is not JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw integrity('MALFORMED_HPKE_EVENT', 'the hpke event data is not a JSON object');
    }
    const h = parsed as Record<string, unknown>;
    const isInt = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value);
    if (!isInt(h.v) || !isInt(h.kid) || !isInt(h.kem) || !isInt(h.kdf) || !isInt(h.aead) || typeof h.nonce !== 'string') {
      throw integrity('MALFORMED_HPKE_EVENT', 'the hpke event needs integers v, kid, kem, kdf, aead and a string nonce');
    }
    if (h.v !== 1) throw integrity('RESPONSE_VERSION_UNSUPPORTED', `the response has version ${h.v}; this decoder reads 1`);
    const s = this.#session;
    if (h.kid !== s.kid || h.kem !== s.kem || h.kdf !== s.kdf || h.aead !== s.aead) {
      throw integrity('HPKE_HEADER_MISMATCH', 'the hpke event names another key or suite than the session');
    }
    const nonce = tryFromBase64Url(h.nonce);
    if (nonce === undefined || nonce.byteLength !== responseSecretLength(s.aead)) {
      throw integrity('MALFORMED_HPKE_EVENT', `the response nonce must be ${responseSecretLength(s.aead)} bytes of base64url`);
    }
    if (s.responseNonce !== undefined && !bytesEqual(nonce, s.responseNonce)) {
      throw integrity('SECOND_RESPONSE', 'this session already decoded a response with another response nonce');
    }
    this.#cipher = new ChunkCipher(
      deriveResponseKeys({ secret: s.secret, enc: s.enc, responseNonce: nonce, aeadId: s.aead }),
    );
    this.#header = { v: 1, kid: h.kid, kem: h.kem, kdf: h.kdf, aead: h.aead, nonce: new Uint8Array(nonce) };
    this.#state = 'streaming';
    this.#out.push({ type: 'header', header: this.#header });
  }

  #gapDecided(index: number | undefined): IntegrityError {
    return index === this.#missing
      ? integrity('CHUNK_OUT_OF_ORDER', `chunk ${index} arrived after a later chunk`)
      : integrity('CHUNK_MISSING', `the stream skipped chunk ${this.#missing}`);
  }

  #onChunk(event: EventSourceMessage, final: boolean): void {
    const cipher = this.#cipher;
    if (cipher === undefined) throw integrity('MISSING_HPKE_EVENT', 'a chunk arrived before the hpke event');
    const id = event.id;
    if (id === undefined || !CANONICAL_INDEX.test(id)) {
      throw integrity('MALFORMED_EVENT', 'a chunk event needs a decimal id');
    }
    const index = Number(id);
    if (!Number.isSafeInteger(index)) throw integrity('MALFORMED_EVENT', 'a chunk id is too large');
    const data = event.data;
    const ciphertext = data.length <= MAX_DATA_LENGTH ? tryFromBase64Url(data) : undefined;
    if (ciphertext === undefined) {
      throw integrity('MALFORMED_EVENT', `chunk ${index}: data is not base64url of at most ${MAX_CHUNK_PLAINTEXT} bytes`);
    }

    if (this.#state === 'gap') {
      if (index === this.#missing && cipher.tryOpen(index, ciphertext, final) === undefined) {
        throw integrity('CHUNK_AUTH_FAILED', `chunk ${index} does not authenticate`);
      }
      throw this.#gapDecided(index);
    }
    if (index < this.#next) throw integrity('CHUNK_DUPLICATE', `chunk ${index} arrived a second time`);
    if (index > this.#next) {
      // A later chunk than expected: if it is genuine, the one expected was dropped or comes later.
      // The next chunk event decides which (CHUNK_OUT_OF_ORDER or CHUNK_MISSING).
      if (cipher.tryOpen(index, ciphertext, final) === undefined) {
        throw integrity('CHUNK_AUTH_FAILED', `chunk ${index} does not authenticate`);
      }
      this.#missing = this.#next;
      this.#state = 'gap';
      return;
    }

    const plaintext = cipher.tryOpen(index, ciphertext, final);
    if (plaintext === undefined) {
      if (cipher.tryOpen(index, ciphertext, !final) !== undefined) {
        throw final
          ? integrity('CHUNK_RELABELLED_FINAL', `chunk ${index} is an ordinary chunk sent as final`)
          : integrity('FINAL_RELABELLED_CHUNK', `chunk ${index} is the final chunk sent as an ordinary one`);
      }
      throw index === 0
        ? integrity('STREAM_NOT_FOR_SESSION', 'the first chunk does not authenticate with this session')
        : integrity('CHUNK_AUTH_FAILED', `chunk ${index} does not authenticate`);
    }
    const message = parseChunkPlaintext(plaintext);
    this.#checkPosition(index, final, message);
    this.#next = index + 1;
    if (final) this.#state = 'final';
    this.#out.push({ type: 'chunk', index, final, message });
  }

  #checkPosition(index: number, final: boolean, message: ChunkMessage): void {
    const t = message.t;
    if (index === 0) {
      if (t === 'start') {
        if (final) throw integrity('UNEXPECTED_CHUNK_TYPE', 'a start chunk cannot be final');
        if (message.rid !== this.#session.rid) {
          throw integrity('RID_MISMATCH', 'the start chunk names another request id than the session');
        }
        return;
      }
      // A router that could not read the request may answer with a lone final error chunk.
      if (final && t === 'error') return;
      throw integrity('UNEXPECTED_CHUNK_TYPE', `chunk 0 must be start, not ${t}`);
    }
    if (t === 'start') throw integrity('UNEXPECTED_CHUNK_TYPE', `chunk ${index}: start may only be chunk 0`);
    if (final && t === 'tokens') throw integrity('UNEXPECTED_CHUNK_TYPE', `the final chunk must be end or error, not tokens`);
    if (!final && t !== 'tokens') throw integrity('UNEXPECTED_CHUNK_TYPE', `chunk ${index}: ${t} may only be final`);
  }
}

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

/** The base64url response nonce of a decoded header (for the session's response_nonce). */
export function responseNonceOf(header: ResponseHeader): string {
  return toBase64Url(header.nonce);
}
