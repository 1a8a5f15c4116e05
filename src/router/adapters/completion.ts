/**
 * The shared run loop of the completion-style adapters (vLLM, SGLang, llama.cpp, generic
 * OpenAI-compatible completions): send the rendered prompt's token ids, read the upstream stream,
 * relay token ids (or, from text-only upstreams, ids encoded from the text), and end with exactly
 * one `done` event, after the closing token the finish reason implies.
 */
import type { EngineEvent, EngineRequest } from '../engine.js';
import { badStream, UpstreamError, UPSTREAM_ERROR_CODES } from './errors.js';
import { endpointUrl, UpstreamCall } from './http.js';
import { HARMONY_IDS } from './special-tokens.js';
import {
  closingTokenFor,
  IdDeltaTracker,
  IncrementalEncoder,
  isClosingToken,
  ndjsonMessages,
  sseMessages,
  type DeltaMode,
} from './stream.js';
import { DEFAULT_TIMEOUT_MS, type UpstreamOptions } from './types.js';

export interface UpstreamFinish {
  readonly reason: 'stop' | 'length';
  /** The stop token id the upstream says it stopped on, when it says. */
  readonly matched?: number | undefined;
}

/** What one upstream message holds, in the adapter-neutral shape. */
export interface Interpreted {
  /** Token ids carried by this message (incremental or cumulative, per the adapter's `idMode`). */
  readonly ids?: readonly number[] | undefined;
  /** The upstream's count of completion tokens so far (helps tell cumulative from incremental). */
  readonly idsTotal?: number | undefined;
  /** Text carried by this message, used only when the upstream sends no ids at all. */
  readonly text?: string | undefined;
  readonly finish?: UpstreamFinish | undefined;
  readonly promptTokens?: number | undefined;
  readonly completionTokens?: number | undefined;
  /** Nothing useful follows this message: stop reading (the connection is then closed). */
  readonly last?: boolean | undefined;
}

export interface CompletionAdapter {
  readonly kind: string;
  readonly path: string;
  readonly format: 'sse' | 'ndjson';
  readonly idMode: DeltaMode;
  body(request: EngineRequest, options: UpstreamOptions): unknown;
  /** Reads one upstream message; throws UpstreamError for error objects and malformed shapes. */
  interpret(value: unknown): Interpreted;
}

/** The stop ids always sent: the request's plus `<|return|>` and `<|call|>`. */
export function stopIds(request: EngineRequest): number[] {
  return [...new Set([...request.stopTokens, HARMONY_IDS.return, HARMONY_IDS.call])];
}

/** Model name sent upstream. */
export function modelName(request: EngineRequest, options: UpstreamOptions): string {
  return options.model ?? request.model;
}

/** gpt-oss's recommended sampling temperature, sent when the request names none. */
export const DEFAULT_TEMPERATURE = 1.0;

export function truncated(message: string): UpstreamError {
  return new UpstreamError(UPSTREAM_ERROR_CODES.truncated, message);
}

export async function* runCompletion(
  adapter: CompletionAdapter,
  request: EngineRequest,
  options: UpstreamOptions,
): AsyncGenerator<EngineEvent> {
  const call = new UpstreamCall({
    url: endpointUrl(options.url, adapter.path),
    body: adapter.body(request, options),
    accept: adapter.format === 'sse' ? 'text/event-stream' : 'application/x-ndjson',
    apiKey: options.apiKey,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    signal: request.signal,
  });
  const tracker = new IdDeltaTracker(adapter.idMode);
  const encoder = new IncrementalEncoder(options.tokenizer);
  const emitted: number[] = [];
  let source: 'ids' | 'text' | undefined;
  let finish: UpstreamFinish | undefined;
  let promptTokens: number | undefined;
  let completionTokens: number | undefined;
  let sawDoneMarker = false;

  try {
    await call.open();
    const messages = adapter.format === 'sse' ? sseMessages(call.text()) : ndjsonMessages(call.text());
    for await (const message of messages) {
      call.throwIfCancelled();
      if (message.type === 'done') {
        sawDoneMarker = true;
        break;
      }
      const event = adapter.interpret(message.value);
      let batch: number[] = [];
      if (event.ids !== undefined && event.ids.length > 0) {
        if (source === 'text') throw badStream('the upstream mixed token ids and text-only events');
        source = 'ids';
        batch = tracker.next(event.ids, event.idsTotal);
      } else if (event.ids === undefined && event.text !== undefined && event.text !== '') {
        if (source === 'ids') throw badStream('the upstream sent text without token ids after sending ids');
        source = 'text';
        batch = encoder.push(event.text);
      }
      if (batch.length > 0) {
        if (finish !== undefined) throw badStream('the upstream sent tokens after its finish reason');
        emitted.push(...batch);
        yield { type: 'tokens', ids: batch };
      }
      if (event.promptTokens !== undefined) promptTokens = event.promptTokens;
      if (event.completionTokens !== undefined) completionTokens = event.completionTokens;
      if (event.finish !== undefined) finish = event.finish;
      if (event.last === true) break;
    }
    if (finish === undefined) {
      throw truncated(
        sawDoneMarker
          ? 'the upstream ended the stream without a finish reason'
          : 'the upstream stream ended without a finish reason',
      );
    }
  } catch (error) {
    if (error instanceof UpstreamError) throw error;
    throw request.signal.aborted ? call.failure(error, 'read') : error;
  } finally {
    // Release the upstream before the last events (the router stops pulling after `done`), and
    // also when the consumer stops iterating early.
    call.close();
  }

  const tail = encoder.flush();
  emitted.push(...tail);
  const closing = closingFor(finish, emitted, options);
  if (closing.synthesized !== undefined) tail.push(closing.synthesized);
  if (tail.length > 0) yield { type: 'tokens', ids: tail };
  yield {
    type: 'done',
    finish: closing.finish,
    promptTokens: promptTokens ?? request.promptTokens.length,
    completionTokens: completionTokens ?? emitted.length + (closing.synthesized !== undefined ? 1 : 0),
  };
}

/**
 * The finish reason, and the closing token to add when the upstream omitted it: a stop finish
 * ends with `<|return|>` or `<|call|>` (the one the upstream says matched, else the one the last
 * message's header implies); a length finish gets none.
 */
export function closingFor(
  finish: UpstreamFinish,
  emitted: readonly number[],
  options: UpstreamOptions,
): { finish: 'stop' | 'length' | 'tool_call'; synthesized?: number } {
  const last = emitted.at(-1);
  if (isClosingToken(last)) return { finish: last === HARMONY_IDS.call ? 'tool_call' : 'stop' };
  if (finish.reason === 'length') return { finish: 'length' };
  const closer = isClosingToken(finish.matched)
    ? (finish.matched as number)
    : closingTokenFor(emitted, options.tokenizer);
  return { finish: closer === HARMONY_IDS.call ? 'tool_call' : 'stop', synthesized: closer };
}

// ---------------------------------------------------------------------------------------------
// Small readers for the adapters' message shapes

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A token id array, or undefined when absent/null; anything else is a malformed stream. */
export function idArray(value: unknown, what: string): number[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((id) => Number.isSafeInteger(id) && (id as number) >= 0)) {
    throw badStream(`the upstream sent ${what} that is not an array of token ids`);
  }
  return value as number[];
}

export function optionalString(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badStream(`the upstream sent ${what} that is not a string`);
  return value;
}

export function optionalCount(value: unknown): number | undefined {
  return Number.isSafeInteger(value) && (value as number) >= 0 ? (value as number) : undefined;
}

/** A finish reason word safe to quote in an error message. */
export function quoteReason(value: unknown): string {
  return typeof value === 'string' && /^[A-Za-z_-]{1,32}$/.test(value) ? `'${value}'` : 'an unknown value';
}

export function stopStringId(value: unknown): number | undefined {
  if (value === '<|return|>') return HARMONY_IDS.return;
  if (value === '<|call|>') return HARMONY_IDS.call;
  return undefined;
}
