/**
 * One stream, from an admitted (opened, fresh) request to the end of its SSE response: render the
 * conversation (in the render pool, off the event loop), run the engine, relay its tokens as
 * encrypted chunks, end with `end` or an authenticated `error` chunk.
 *
 * Every path ends: a client that is gone (close before, during or after the stream) is noticed at
 * once; a client that stops reading gets `writeTimeoutMs` to take what was written, then the stream
 * is cut; the engine is cut at max_tokens (finish `length`) however much more it would send.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  EVENT_STREAM_MEDIA_TYPE,
  isRequestId,
  STREAM_PATH,
} from '../hpke/index.js';
import { REQUEST_PADDING_BLOCK, unpadJson } from '../hpke/request.js';
import { createEncryptedEventStream, type EncryptedEventStream } from '../sse/index.js';
import { EngineError, type Engine, type EngineFault, type FinishReason } from './engine.js';
import { DisconnectFault } from './engines/echo.js';
import type { Admitted, OpenedRequest } from './admission.js';
import type { RequestLog, Settings } from './options.js';
import { PlaintextEventStream, type ChunkEventWriter } from './plaintext-baseline.js';
import { losslessSource, RenderError, TokenTextDecoder, type RenderedPrompt } from './render.js';
import type { RenderPool } from './render-pool.js';
import { AnalysisFilter } from './analysis-filter.js';
import type { RouterMetrics } from './metrics.js';
import type { RouterHarmonyOptions } from './options.js';

/** Tokens per chunk at most: keeps every chunk plaintext far below the 16 KiB limit. */
const MAX_TOKENS_PER_CHUNK = 256;
/**
 * Longest run of one stream's work without letting the event loop turn. An engine whose events
 * are already buffered (an upstream that sent a large body at once) and a client that takes every
 * write resolve each step in a microtask: without a yield one stream ran for seconds with nothing
 * else served, not /healthz, not the SIGTERM handler or close()'s deadline (measured: 5 such
 * streams of 32,000 tokens kept /healthz from answering within 10 s on a loaded machine).
 */
const YIELD_AFTER_MS = 10;

export class AbortReason extends Error {
  constructor(readonly why: 'client-gone' | 'shutdown' | 'upstream-timeout' | 'write-timeout') {
    super(why);
  }
}

export class StreamFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface StreamContext {
  readonly settings: Settings;
  readonly engine: Engine;
  readonly renderPool: RenderPool;
  readonly now: () => number;
  readonly log: (record: RequestLog) => void;
  readonly fault: (req: IncomingMessage) => EngineFault | undefined;
  readonly metrics?: RouterMetrics | undefined;
  readonly harmony?: RouterHarmonyOptions | undefined;
}

/** Serves one admitted request on `res`; resolves once the response is over (ended, cut or gone), never earlier. */
export async function serveStream(
  ctx: StreamContext,
  req: IncomingMessage,
  res: ServerResponse,
  admitted: Admitted,
  controller: AbortController,
  started: number,
  baseline: boolean,
): Promise<void> {
  const { settings } = ctx;
  const { opened, payload, payloadError, serverTime } = admitted;
  const events: ChunkEventWriter = baseline ? new PlaintextEventStream() : encryptedEvents(opened);
  // An invalid payload still names its rid if it can: the client's decoder checks the start
  // chunk's rid against its session before it shows the authenticated error.
  const rid = payload?.rid ?? ridOfInvalidPayload(opened.plaintext);
  const withhold = ctx.harmony?.includeAnalysis === false ? new AnalysisFilter() : undefined;
  let firstChunk = true;

  res.writeHead(200, {
    'content-type': EVENT_STREAM_MEDIA_TYPE,
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();

  let lastWrite = performance.now();
  let waitingForDrain = 0;
  const gone = () => res.destroyed || res.writableEnded;
  const write = async (text: string): Promise<void> => {
    if (gone()) return;
    lastWrite = performance.now();
    if (res.write(text)) return;
    waitingForDrain += 1;
    try {
      await drained(res, settings.writeTimeoutMs, () => {
        controller.abort(new AbortReason('write-timeout'));
        res.destroy();
      });
    } finally {
      waitingForDrain -= 1;
    }
  };
  const heartbeat = setInterval(
    () => {
      // No pings pile up behind a client that is not reading.
      if (waitingForDrain === 0 && performance.now() - lastWrite >= settings.heartbeatMs) void write(events.ping());
    },
    Math.max(10, Math.floor(settings.heartbeatMs / 2)),
  );

  let finish: FinishReason | undefined;
  let errorCode: string | undefined;
  let promptTokens = 0;
  let completionTokens = 0;
  let dropConnection = false;

  try {
    await write(events.hpkeEvent());
    const model = payload?.model ?? 'unknown';
    await write(events.chunk({ t: 'start', rid: rid ?? '', model, created: serverTime, ...(withhold ? { analysis: 'withheld' } : {}) }));
    if (!payload) throw new StreamFailure('bad_request', `the request payload is invalid (${payloadError?.code ?? 'INVALID'})`);

    // The router's default reasoning effort, for requests that set none.
    const effort = payload.params.reasoning_effort ?? ctx.harmony?.reasoningEffort;
    const rendered = effort === payload.params.reasoning_effort ? payload : { ...payload, params: { ...payload.params, reasoning_effort: effort } };
    let prompt: RenderedPrompt;
    try {
      prompt = await ctx.renderPool.render(rendered, ctx.now(), controller.signal, opened.plaintext.byteLength, losslessSource(opened.plaintext));
    } catch (error) {
      if (controller.signal.aborted) throw error;
      if (error instanceof RenderError) throw new StreamFailure(error.code, error.message);
      throw new StreamFailure('bad_conversation', 'the conversation cannot be rendered');
    }
    promptTokens = prompt.tokens.length;
    const maxTokens = Math.min(payload.params.max_tokens ?? 1024, settings.maxTokensLimit, admitted.maxTokens ?? Infinity);
    const textDecoder = new TokenTextDecoder();

    const iterator = ctx.engine
      .generate({
        rid: payload.rid,
        model: payload.model,
        promptTokens: prompt.tokens,
        conversation: prompt.conversation,
        maxTokens,
        temperature: payload.params.temperature,
        reasoningEffort: effort,
        stopTokens: prompt.stopTokens,
        signal: controller.signal,
        fault: ctx.fault(req),
      })
      [Symbol.asyncIterator]();

    let lastYield = performance.now();
    try {
      for (;;) {
        if (performance.now() - lastYield >= YIELD_AFTER_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          lastYield = performance.now();
        }
        const next = await withTimeout(iterator.next(), settings.upstreamTimeoutMs, () =>
          controller.abort(new AbortReason('upstream-timeout')),
        );
        if (next.done) throw new StreamFailure('upstream_truncated', 'the engine ended without a finish reason');
        const event = next.value;
        if (event.type === 'done') {
          finish = event.finish;
          if (event.promptTokens > 0) promptTokens = event.promptTokens;
          break;
        }
        // The router counts: whatever the engine sends past max_tokens is not relayed.
        const room = maxTokens - completionTokens;
        const allowed = event.ids.length > room ? event.ids.slice(0, room) : event.ids;
        // With analysis withheld, counted tokens are the engine's, relayed ones only what may leave.
        completionTokens += withhold ? allowed.length : 0;
        const ids = withhold ? withhold.push(allowed) : allowed;
        for (let offset = 0; offset < ids.length; offset += MAX_TOKENS_PER_CHUNK) {
          const part = ids.slice(offset, offset + MAX_TOKENS_PER_CHUNK);
          let text: string;
          try {
            text = textDecoder.decode(part);
          } catch {
            throw new StreamFailure('upstream_bad_stream', 'the engine sent a token id outside the vocabulary');
          }
          if (!withhold) completionTokens += part.length;
          await write(events.chunk({ t: 'tokens', ids: part, text }));
          if (firstChunk) {
            firstChunk = false;
            ctx.metrics?.firstChunk((performance.now() - started) / 1000);
          }
        }
        if (event.ids.length > room || (room === 0 && event.ids.length > 0)) {
          finish = 'length';
          break;
        }
      }
    } finally {
      // Ends the engine (an adapter aborts its upstream request) unless it finished by itself.
      if (finish === 'length') void Promise.resolve(iterator.return?.()).catch(() => {});
    }
    const held = withhold?.flush() ?? [];
    if (held.length > 0) await write(events.chunk({ t: 'tokens', ids: held, text: textDecoder.decode(held) }));
    await write(
      events.final({
        t: 'end',
        finish,
        usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens },
      }),
    );
  } catch (error) {
    const reason: unknown = controller.signal.reason;
    if (error instanceof DisconnectFault) {
      dropConnection = true;
      errorCode = error.code;
    } else if (reason instanceof AbortReason && reason.why === 'client-gone') {
      errorCode = 'CLIENT_GONE';
    } else if (reason instanceof AbortReason && reason.why === 'write-timeout') {
      errorCode = 'WRITE_TIMEOUT';
    } else if (reason instanceof AbortReason && reason.why === 'shutdown') {
      finish = 'cancelled';
      await write(
        events.final({
          t: 'end',
          finish: 'cancelled',
          usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens },
        }),
      ).catch(() => {});
    } else {
      const failure =
        error instanceof StreamFailure
          ? error
          : reason instanceof AbortReason && reason.why === 'upstream-timeout'
            ? new StreamFailure('upstream_timeout', `the engine sent nothing for ${settings.upstreamTimeoutMs} ms`)
            : error instanceof EngineError
              ? new StreamFailure(error.code.toLowerCase(), safeMessage(error))
              : new StreamFailure('internal', 'the router failed while streaming');
      errorCode = failure.code;
      if (failure.code !== 'bad_request' && failure.code !== 'bad_conversation') ctx.metrics?.upstreamError(failure.code);
      await write(events.final({ t: 'error', code: failure.code, message: failure.message })).catch(() => {});
    }
  } finally {
    clearInterval(heartbeat);
    if (!controller.signal.aborted) controller.abort(new AbortReason('client-gone'));
  }
  const reason: unknown = controller.signal.reason;
  if (errorCode === undefined && reason instanceof AbortReason && reason.why === 'write-timeout') errorCode = 'WRITE_TIMEOUT';
  if (errorCode === undefined && res.destroyed && !res.writableFinished) errorCode = 'CLIENT_GONE';
  if (dropConnection) {
    // Like a crashed process: what was written reaches the client, then the connection ends
    // without the chunked body's terminator. destroy() would discard writes still queued.
    res.socket?.destroySoon();
  } else if (!res.destroyed) {
    res.end();
  }
  ctx.log({
    time: new Date().toISOString(),
    method: 'POST',
    path: STREAM_PATH,
    status: 200,
    rid,
    kid: opened.header.keyId,
    finish,
    error: errorCode,
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    chunks: events.chunksWritten,
    token: admitted.token,
    duration_ms: Math.round(performance.now() - started),
  });
  ctx.metrics?.streamed(events.chunksWritten, completionTokens);
  ctx.metrics?.request(errorCode === 'CLIENT_GONE' ? 'client_gone' : errorCode !== undefined ? 'error' : (finish ?? 'error'), 200);
}

/**
 * Resolves once `res` drains or closes, whichever first, or after `timeoutMs` (calling `onTimeout`
 * first). A response that is already closed resolves at once: its `close` will not come again.
 */
function drained(res: ServerResponse, timeoutMs: number, onTimeout: () => void): Promise<void> {
  return new Promise<void>((resolve) => {
    if (res.destroyed || res.writableEnded) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    const timer = setTimeout(() => {
      onTimeout();
      done();
    }, timeoutMs);
    res.on('drain', done);
    res.on('close', done);
  });
}

/** The response's event writer: sse/encode's, keyed from the opened request. */
function encryptedEvents(opened: OpenedRequest): EncryptedEventStream {
  return createEncryptedEventStream(opened);
}

function ridOfInvalidPayload(plaintext: Uint8Array): string | undefined {
  const unpadded = unpadJson(plaintext, REQUEST_PADDING_BLOCK);
  if ('reason' in unpadded) return undefined;
  try {
    const rid = (JSON.parse(unpadded.text) as { rid?: unknown } | null)?.rid;
    return isRequestId(rid) ? rid : undefined;
  } catch {
    return undefined;
  }
}

/** Engine errors carry codes and short texts; never echo request content. */
function safeMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s+/g, ' ').slice(0, 200);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new StreamFailure('upstream_timeout', `the engine sent nothing for ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
