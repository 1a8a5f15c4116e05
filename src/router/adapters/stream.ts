/**
 * Shared normalisation of upstream streams into one internal token stream.
 *
 * - `sseMessages` / `ndjsonMessages`: the decoded text of an HTTP body to upstream messages (SSE
 *   through eventsource-parser: `[DONE]`, comment lines as pings, `error` events and fields;
 *   NDJSON: one JSON value per line).
 * - `DeltaTracker`: cumulative or incremental token ids (or text) to increments.
 * - `IncrementalEncoder`: streamed text to token ids that never change afterwards (holds back the
 *   text whose tokenization could still change: a partial special token, the last word).
 * - `closingTokenFor`: which closing token (`<|return|>` or `<|call|>`) a stop finish implies.
 */
import { createParser, type EventSourceMessage, type ParseError } from 'eventsource-parser';

import { badStream, UpstreamError, UPSTREAM_ERROR_CODES } from './errors.js';
import { HARMONY_IDS, HARMONY_SPECIAL_TEXTS } from './special-tokens.js';
import type { HarmonyTokenizer } from './types.js';

/** One message read from an upstream body. */
export type UpstreamMessage =
  | { readonly type: 'json'; readonly value: unknown }
  /** SSE `data: [DONE]`: the upstream's end-of-stream marker. */
  | { readonly type: 'done' };

/** Largest SSE line or event we buffer before calling the stream malformed. */
const MAX_SSE_BUFFER = 8 * 1024 * 1024;

function streamError(): UpstreamError {
  return new UpstreamError(UPSTREAM_ERROR_CODES.streamError, 'the upstream reported an error in the stream');
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // The JSON error's message quotes the text, which may hold plaintext: never pass it on.
    throw badStream(`the upstream sent a malformed ${what} (not JSON)`);
  }
}

/**
 * SSE text chunks to messages. Comment lines (`: ping`) are keep-alives and produce nothing; an
 * `event: error` event or a non-standard `error:` field (llama.cpp) is an upstream error; any other
 * unknown field means the body is not SSE.
 */
export async function* sseMessages(chunks: AsyncIterable<string>): AsyncGenerator<UpstreamMessage> {
  const queue: UpstreamMessage[] = [];
  let failure: UpstreamError | undefined;
  const parser = createParser({
    maxBufferSize: MAX_SSE_BUFFER,
    onEvent(event: EventSourceMessage) {
      if (failure !== undefined) return;
      if (event.event === 'error') {
        failure = streamError();
        return;
      }
      const data = event.data.trim();
      if (data === '') return;
      if (data === '[DONE]') {
        queue.push({ type: 'done' });
        return;
      }
      try {
        queue.push({ type: 'json', value: parseJson(data, 'SSE event') });
      } catch (error) {
        failure = error as UpstreamError;
      }
    },
    onError(error: ParseError) {
      if (failure !== undefined) return;
      if (error.type === 'invalid-retry') return;
      if (error.type === 'unknown-field' && error.field === 'error') {
        failure = streamError();
        return;
      }
      failure = badStream(
        error.type === 'max-buffer-size-exceeded'
          ? 'the upstream sent an SSE line or event over the size limit'
          : 'the upstream sent a line that is not SSE',
      );
    },
  });
  for await (const chunk of chunks) {
    parser.feed(chunk);
    while (queue.length > 0) {
      // Messages parsed before a failure in the same chunk are still delivered, in order.
      yield queue.shift() as UpstreamMessage;
    }
    if (failure !== undefined) throw failure;
  }
}

/** NDJSON text chunks to messages: one JSON value per line, blank lines ignored. */
export async function* ndjsonMessages(chunks: AsyncIterable<string>): AsyncGenerator<UpstreamMessage> {
  let buffer = '';
  for await (const chunk of chunks) {
    buffer += chunk;
    let newline = buffer.indexOf('\n');
    while (newline !== -1) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line !== '') yield { type: 'json', value: parseJson(line, 'NDJSON line') };
      newline = buffer.indexOf('\n');
    }
    if (buffer.length > MAX_SSE_BUFFER) throw badStream('the upstream sent an NDJSON line over the size limit');
  }
  const last = buffer.trim();
  if (last !== '') yield { type: 'json', value: parseJson(last, 'NDJSON line') };
}

// ---------------------------------------------------------------------------------------------
// Cumulative or incremental values

export type DeltaMode = 'incremental' | 'cumulative' | 'auto';

function startsWith(whole: readonly number[], prefix: readonly number[]): boolean {
  if (prefix.length > whole.length) return false;
  for (let i = 0; i < prefix.length; i += 1) if (whole[i] !== prefix[i]) return false;
  return true;
}

/**
 * Turns the token ids of successive events into increments, whether the upstream sends each
 * event's new ids (incremental) or everything generated so far (cumulative, e.g. SGLang without
 * `--incremental-streaming-output`). In `auto` mode the first event that can tell decides: a total
 * count from the upstream (`totalHint`) when it has one, else whether the event repeats what came
 * before as a prefix.
 */
export class IdDeltaTracker {
  private mode: DeltaMode;
  private readonly seen: number[] = [];

  constructor(mode: DeltaMode = 'incremental') {
    this.mode = mode;
  }

  get total(): number {
    return this.seen.length;
  }

  get all(): readonly number[] {
    return this.seen;
  }

  /** The resolved mode (`auto` until an event decided it). */
  get resolvedMode(): DeltaMode {
    return this.mode;
  }

  next(ids: readonly number[], totalHint?: number): number[] {
    if (this.mode === 'auto' && this.seen.length > 0) this.mode = this.decide(ids, totalHint);
    let delta: number[];
    if (this.mode === 'cumulative') {
      if (!startsWith(ids, this.seen)) {
        throw badStream('the upstream sent cumulative token ids that do not extend the previous ones');
      }
      delta = ids.slice(this.seen.length);
    } else {
      delta = [...ids];
    }
    this.seen.push(...delta);
    return delta;
  }

  private decide(ids: readonly number[], totalHint: number | undefined): DeltaMode {
    if (totalHint !== undefined) {
      if (ids.length === totalHint && totalHint !== this.seen.length + ids.length) return 'cumulative';
      if (this.seen.length + ids.length === totalHint) return 'incremental';
    }
    return ids.length >= this.seen.length && startsWith(ids, this.seen) ? 'cumulative' : 'incremental';
  }
}

/** The same for text (cumulative text must extend what came before). */
export class TextDeltaTracker {
  private mode: DeltaMode;
  private seen = '';

  constructor(mode: DeltaMode = 'incremental') {
    this.mode = mode;
  }

  next(text: string): string {
    if (this.mode === 'auto' && this.seen.length > 0) {
      this.mode = text.length >= this.seen.length && text.startsWith(this.seen) ? 'cumulative' : 'incremental';
    }
    let delta: string;
    if (this.mode === 'cumulative') {
      if (!text.startsWith(this.seen)) {
        throw badStream('the upstream sent cumulative text that does not extend the previous text');
      }
      delta = text.slice(this.seen.length);
    } else {
      delta = text;
    }
    this.seen += delta;
    return delta;
  }
}

// ---------------------------------------------------------------------------------------------
// Streamed text to token ids

const SPECIAL_TOKEN_RE = new RegExp(
  HARMONY_SPECIAL_TEXTS.map((text) => text.replace(/[|]/g, '\\|')).join('|'),
  'g',
);

/** The index where a trailing prefix of a special token (`<`, `<|cha`, `<|call|`) starts, or -1. */
function partialSpecialStart(text: string): number {
  const at = text.lastIndexOf('<');
  if (at === -1) return -1;
  const tail = text.slice(at);
  return HARMONY_SPECIAL_TEXTS.some((special) => special.length > tail.length && special.startsWith(tail)) ? at : -1;
}

/**
 * The length of the longest prefix of `text` whose token ids cannot change whatever text follows.
 *
 * Harmony's tokenizer splits out special tokens first, then cuts the rest into pieces with the
 * o200k pre-tokenizer regex and byte-pair-encodes each piece on its own. So a prefix is final when
 * it ends (a) right after a complete special token, or (b) right before a space or tab that follows
 * a non-whitespace character: no o200k piece can end with a space or tab after a non-space (only
 * newlines and `/` trail punctuation), so a new piece always starts there. Anything later (the last
 * word, trailing whitespace, a partial special token) is held back until more text or the end.
 */
export function stableLength(text: string): number {
  let limit = text.length;
  const partial = partialSpecialStart(text);
  if (partial !== -1) limit = partial;

  let cut = 0;
  SPECIAL_TOKEN_RE.lastIndex = 0;
  for (let match = SPECIAL_TOKEN_RE.exec(text); match !== null; match = SPECIAL_TOKEN_RE.exec(text)) {
    const end = match.index + match[0].length;
    if (end <= limit) cut = end;
  }
  for (let p = limit - 1; p > cut; p -= 1) {
    const here = text.charCodeAt(p);
    if ((here === 0x20 || here === 0x09) && !/\s/.test(text.charAt(p - 1))) {
      cut = p;
      break;
    }
  }
  return cut;
}

/**
 * Encodes streamed text (which may hold Harmony special tokens as text, split anywhere across
 * events) into token ids as soon as they are final, so that the ids emitted over the whole stream
 * equal `tokenizer.encode(allText)`. Call `flush()` at the end of the text.
 */
export class IncrementalEncoder {
  private pending = '';

  constructor(private readonly tokenizer: HarmonyTokenizer) {}

  push(text: string): number[] {
    if (text === '') return [];
    this.pending += text;
    const cut = stableLength(this.pending);
    if (cut === 0) return [];
    const head = this.pending.slice(0, cut);
    this.pending = this.pending.slice(cut);
    return this.tokenizer.encode(head, { allowedSpecial: 'all' });
  }

  flush(): number[] {
    const rest = this.pending;
    this.pending = '';
    return rest === '' ? [] : this.tokenizer.encode(rest, { allowedSpecial: 'all' });
  }
}

// ---------------------------------------------------------------------------------------------
// Closing tokens

/** True for the ids that end an assistant turn (`<|return|>`, `<|call|>`). */
export function isClosingToken(id: number | undefined): boolean {
  return id === HARMONY_IDS.return || id === HARMONY_IDS.call;
}

/**
 * The closing token a stop finish implies when the upstream did not say which stop token matched:
 * `<|call|>` when the last message's header names a recipient (`to=functions.x`, a tool call),
 * else `<|return|>`.
 */
export function closingTokenFor(completion: readonly number[], tokenizer: HarmonyTokenizer): number {
  const lastStart = completion.lastIndexOf(HARMONY_IDS.start);
  const headerFrom = lastStart === -1 ? 0 : lastStart + 1;
  let headerTo = completion.indexOf(HARMONY_IDS.message, headerFrom);
  if (headerTo === -1) headerTo = completion.length;
  const header = tokenizer.decode(completion.slice(headerFrom, headerTo));
  return /(^|\s|>)to=\S/.test(header) ? HARMONY_IDS.call : HARMONY_IDS.return;
}
