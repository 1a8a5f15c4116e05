/**
 * The reference router: harmony-hpke/1 over node:http.
 *
 *   GET  /.well-known/hpke-keys   application/ohttp-keys (the current key)
 *   GET  /healthz                 {"status":"ok",...}
 *   POST /v1/harmony/stream       sealed request in, encrypted SSE out
 *
 * Refusals before the stream are problem+json; once a request is opened every error travels
 * inside the encrypted stream as an authenticated `error` chunk. No plaintext is ever logged.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  deriveResponseKeys,
  isRequestId,
  newResponseNonce,
  openRequest,
  parseRequestPlaintext,
  REQUEST_PADDING_BLOCK,
  requestErrorStatus,
  unpadJson,
  EVENT_STREAM_MEDIA_TYPE,
  KEYS_PATH,
  OHTTP_KEYS_MEDIA_TYPE,
  REQUEST_MEDIA_TYPE,
  STREAM_PATH,
  type RequestPayload,
  type RouterKey,
} from '../hpke/index.js';
import { EncryptedEventStream } from '../sse/index.js';
import { HarmonyHpkeError } from '../errors.js';
import { EngineError, type Engine, type EngineFault, type FinishReason } from './engine.js';
import { DisconnectFault } from './engines/echo.js';
import { Keyring } from './keyring.js';
import { ProblemType, sendProblem } from './problem.js';
import { MemoryReplayStore, type ReplayStore } from './replay-cache.js';
import { renderPrompt, TokenTextDecoder } from './render.js';
import { openPlaintextBaseline, PlaintextEventStream, type ChunkEventWriter } from './plaintext-baseline.js';
import { AnalysisFilter } from './analysis-filter.js';
import { TokenLimiter, type Admission } from './auth/limits.js';
import type { ApiTokenTable } from './auth/tokens.js';
import type { RouterMetrics } from './metrics.js';

export { KEYS_PATH, REQUEST_MEDIA_TYPE, STREAM_PATH };
export const TEST_FAULT_HEADER = 'x-harmony-hpke-test-fault';

export interface RequestLog {
  readonly time: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly rid?: string | undefined;
  readonly kid?: number | undefined;
  readonly problem?: string | undefined;
  readonly finish?: string | undefined;
  readonly error?: string | undefined;
  readonly prompt_tokens?: number | undefined;
  readonly completion_tokens?: number | undefined;
  readonly chunks?: number | undefined;
  /** The API token's name from the token file (never the token). */
  readonly token?: string | undefined;
  readonly duration_ms: number;
}

/** Router-side Harmony settings (src/router/settings.ts resolves them for `serve`). */
export interface RouterHarmonyOptions {
  /** For requests that set no reasoning effort. */
  readonly reasoningEffort?: 'low' | 'medium' | 'high' | undefined;
  /** false: analysis messages are withheld from the encrypted stream. Default true. */
  readonly includeAnalysis?: boolean | undefined;
}

export interface RouterOptions {
  readonly host?: string;
  readonly port?: number;
  readonly keys: readonly RouterKey[];
  /** How long retired keys (all but the first) stay accepted after start-up. */
  readonly retiredGraceMs?: number;
  readonly engine: Engine;
  readonly maxRequestBytes?: number;
  readonly maxStreams?: number;
  readonly heartbeatMs?: number;
  /** Longest wait for the engine's next event before the stream ends with an error. */
  readonly upstreamTimeoutMs?: number;
  /** Longest time to receive a whole request body: a slow upload holds a stream slot (408 after it). */
  readonly bodyTimeoutMs?: number;
  readonly replayTtlMs?: number;
  readonly iatSkewMs?: number;
  readonly replayStore?: ReplayStore;
  /** Honour the test-fault request header (tests only). */
  readonly testFaults?: boolean;
  /** Upper bound for max_tokens whatever the request asks. */
  readonly maxTokensLimit?: number;
  readonly log?: (record: RequestLog) => void;
  readonly now?: () => number;
  /**
   * Client authentication: the current API token table (read on every request, so a reload that
   * swaps it takes effect at once). Unset, or returning undefined: open access.
   */
  readonly apiTokens?: () => ApiTokenTable | undefined;
  readonly metrics?: RouterMetrics;
  readonly harmony?: RouterHarmonyOptions;
  /**
   * BENCH ONLY (`npm run bench`; the CLI never sets it, never use it in a deployment): also serve
   * POST on this path with no encryption at all, the request plaintext in and the chunk messages
   * out as plain JSON, through the same server code (see plaintext-baseline.ts). Unset: no such path.
   */
  readonly plaintextBaselinePath?: string;
}

export interface RouterStats {
  readonly activeStreams: number;
  readonly totalStreams: number;
  readonly refused: number;
}

export interface RunningRouter {
  readonly url: string;
  readonly port: number;
  readonly fingerprint: string;
  readonly keyring: Keyring;
  /**
   * Replaces the key list (SIGHUP): the first key becomes current; a key that was current and is
   * now retired starts its grace period now; retired keys kept keep their deadline. Open streams
   * are not touched.
   */
  reloadKeys(keys: readonly RouterKey[]): void;
  stats(): RouterStats;
  /** Stops accepting, ends open streams with an authenticated `cancelled` chunk, then closes. */
  close(): Promise<void>;
}

const DEFAULTS = {
  maxRequestBytes: 1024 * 1024,
  maxStreams: 256,
  heartbeatMs: 15_000,
  upstreamTimeoutMs: 60_000,
  bodyTimeoutMs: 30_000,
  replayTtlMs: 600_000,
  iatSkewMs: 300_000,
  retiredGraceMs: 24 * 3600_000,
  maxTokensLimit: 32_768,
} as const;

/** Tokens per chunk at most: keeps every chunk plaintext far below the 16 KiB limit. */
const MAX_TOKENS_PER_CHUNK = 256;

export function parseFault(value: string | undefined): EngineFault | undefined {
  if (!value) return undefined;
  const [kind, count] = value.trim().split(':');
  const n = count !== undefined && /^\d+$/.test(count) ? Number(count) : undefined;
  switch (kind) {
    case 'malformed-header':
      return { kind: 'malformed-header' };
    case 'stall':
      return { kind: 'stall' };
    case 'disconnect':
      return { kind: 'disconnect', afterTokens: n ?? 5 };
    case 'error':
      return { kind: 'error', afterTokens: n ?? 5 };
    default:
      return undefined;
  }
}

class AbortReason extends Error {
  constructor(readonly why: 'client-gone' | 'shutdown' | 'upstream-timeout') {
    super(why);
  }
}

interface ActiveStream {
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

export async function startRouter(options: RouterOptions): Promise<RunningRouter> {
  const settings = { ...DEFAULTS, ...stripUndefined(options) };
  const now = options.now ?? Date.now;
  let keyring = new Keyring(options.keys, { graceMs: settings.retiredGraceMs, now });
  const metrics = options.metrics;
  const limiter = new TokenLimiter(now);
  const replay: ReplayStore = options.replayStore ?? new MemoryReplayStore({ now });
  const log = options.log ?? (() => {});
  const active = new Set<ActiveStream>();
  const sockets = new Set<Socket>();
  let totalStreams = 0;
  let refused = 0;
  let closing = false;

  const refuse = (
    res: ServerResponse,
    started: number,
    req: IncomingMessage,
    problem: Parameters<typeof sendProblem>[1],
    extra: Partial<RequestLog> = {},
  ) => {
    refused += 1;
    sendProblem(res, problem);
    metrics?.request('refused', problem.status);
    log({
      time: new Date().toISOString(),
      method: req.method ?? '',
      path: req.url ?? '',
      status: problem.status,
      problem: problem.type,
      duration_ms: Math.round(performance.now() - started),
      ...extra,
    });
  };

  /**
   * The request body, or why there is none: over the limit, too slow (not complete within the body
   * timeout), or the read was cut short (the router is shutting down, or the client went away
   * mid-upload). A half-sent upload never holds up a shutdown.
   */
  function readBody(req: IncomingMessage, signal: AbortSignal): Promise<Uint8Array | 'too-large' | 'too-slow' | 'aborted'> {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > settings.maxRequestBytes) return Promise.resolve('too-large');
    return new Promise((resolve) => {
      const parts: Buffer[] = [];
      let size = 0;
      const finish = (result: Uint8Array | 'too-large' | 'too-slow' | 'aborted') => {
        clearTimeout(timer);
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('close', onClose);
        req.off('error', onClose);
        signal.removeEventListener('abort', onClose);
        if (result !== 'aborted' && !(result instanceof Uint8Array)) req.pause();
        resolve(result);
      };
      const onData = (part: Buffer) => {
        size += part.byteLength;
        if (size > settings.maxRequestBytes) finish('too-large');
        else parts.push(part);
      };
      const onEnd = () => finish(Buffer.concat(parts));
      const onClose = () => finish('aborted');
      const timer = setTimeout(() => finish('too-slow'), settings.bodyTimeoutMs);
      if (signal.aborted) {
        finish('aborted');
        return;
      }
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('close', onClose);
      req.on('error', onClose);
      signal.addEventListener('abort', onClose, { once: true });
    });
  }

  async function handleStream(req: IncomingMessage, res: ServerResponse, started: number, baseline = false): Promise<void> {
    if (closing) {
      refuse(res, started, req, {
        type: ProblemType.ShuttingDown,
        status: 503,
        title: 'The router is shutting down',
        headers: { 'retry-after': '1', connection: 'close' },
      });
      return;
    }
    if (active.size >= settings.maxStreams) {
      refuse(res, started, req, {
        type: ProblemType.Overloaded,
        status: 503,
        title: 'Too many concurrent streams',
        detail: `this router serves at most ${settings.maxStreams} streams at once`,
        headers: { 'retry-after': '1' },
      });
      req.resume();
      return;
    }
    const contentType = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    if (contentType !== REQUEST_MEDIA_TYPE) {
      req.resume();
      refuse(res, started, req, {
        type: ProblemType.UnsupportedMediaType,
        status: 415,
        title: `Content-Type must be ${REQUEST_MEDIA_TYPE}`,
      });
      return;
    }

    // Reserve the slot before reading, so a flood of slow uploads cannot exceed the limit.
    const controller = new AbortController();
    let finishStream!: () => void;
    const stream: ActiveStream = { controller, done: new Promise<void>((resolve) => (finishStream = resolve)) };
    active.add(stream);
    try {
      await serveOpenedStream(req, res, started, controller, baseline);
    } finally {
      active.delete(stream);
      finishStream();
    }
  }

  async function serveOpenedStream(
    req: IncomingMessage,
    res: ServerResponse,
    started: number,
    controller: AbortController,
    baseline: boolean,
  ): Promise<void> {
    const body = await readBody(req, controller.signal);
    if (body === 'aborted') {
      if (closing) {
        refuse(res, started, req, {
          type: ProblemType.ShuttingDown,
          status: 503,
          title: 'The router is shutting down',
          headers: { 'retry-after': '1', connection: 'close' },
        });
      } else {
        res.destroy();
      }
      return;
    }
    if (body === 'too-slow') {
      refuse(res, started, req, {
        type: ProblemType.RequestTimeout,
        status: 408,
        title: 'Request body too slow',
        detail: `the whole body must arrive within ${settings.bodyTimeoutMs} ms`,
        headers: { connection: 'close' },
      });
      return;
    }
    if (body === 'too-large') {
      refuse(res, started, req, {
        type: ProblemType.PayloadTooLarge,
        status: 413,
        title: 'Request too large',
        detail: `the limit is ${settings.maxRequestBytes} bytes`,
        headers: { connection: 'close' },
      });
      return;
    }

    let opened: Awaited<ReturnType<typeof openRequest>>;
    const openStarted = performance.now();
    try {
      opened = baseline ? openPlaintextBaseline(body, keyring.current) : await openRequest(body, (keyId) => keyring.lookup(keyId));
    } catch (error) {
      // The status of each openRequest error is the protocol's table (src/hpke/errors.ts);
      // anything else is a bug and becomes a bare 500.
      const status = requestErrorStatus(error);
      if (status === undefined) throw error;
      const keyProblem = status === 422;
      refuse(
        res,
        started,
        req,
        keyProblem
          ? {
              type: ProblemType.OhttpKey,
              status: 422,
              title: 'Unknown key id, unsupported suite, or the request does not open',
              detail: 'fetch the key config again and re-seal',
            }
          : {
              type: ProblemType.MalformedRequest,
              status: 400,
              title: 'Malformed sealed request',
            },
        { error: error instanceof HarmonyHpkeError ? error.code : 'UNEXPECTED' },
      );
      return;
    }

    metrics?.opened((performance.now() - openStarted) / 1000);

    // Parse the payload now (iat is inside it), but report a bad payload inside the stream.
    let payload: RequestPayload | undefined;
    let payloadError: HarmonyHpkeError | undefined;
    try {
      payload = parseRequestPlaintext(opened.plaintext);
    } catch (error) {
      if (!(error instanceof HarmonyHpkeError)) throw error;
      payloadError = error;
    }

    // Client authentication, before any engine work and before the replay store is touched:
    // a refused request burns no replay entry, so the client's retry after a 429 is the same bytes.
    const admission = authenticate(req, res, started, payload);
    if (admission === undefined) return;
    try {
      await serveAdmitted(req, res, started, controller, baseline, opened, payload, payloadError, admission);
    } finally {
      if (admission.ok) admission.release();
    }
  }

  /**
   * undefined when the request was refused (401/429 already sent); otherwise its admission (a
   * no-op one under open access).
   */
  function authenticate(
    req: IncomingMessage,
    res: ServerResponse,
    started: number,
    payload: RequestPayload | undefined,
  ): (Admission & { ok: true; token?: string; maxTokens?: number }) | undefined {
    const tokens = options.apiTokens?.();
    if (tokens === undefined) return { ok: true, release: () => {} };
    const result = tokens.authenticate(payload?.api_token);
    if (!result.ok) {
      metrics?.authRefused(result.reason);
      // One answer for missing, unknown and disabled: nothing tells which tokens exist.
      refuse(
        res,
        started,
        req,
        {
          type: ProblemType.Unauthorized,
          status: 401,
          title: 'A valid API token is required',
          detail: 'put the API token in the sealed request (api_token)',
          headers: { 'www-authenticate': 'HarmonyHpke-Api-Token' },
        },
        { error: `AUTH_${result.reason.toUpperCase()}` },
      );
      return undefined;
    }
    const { entry } = result;
    const admitted = limiter.admit(entry);
    if (!admitted.ok) {
      metrics?.authRefused(admitted.reason, entry.name);
      refuse(
        res,
        started,
        req,
        {
          type: ProblemType.RateLimited,
          status: 429,
          title: admitted.reason === 'streams' ? 'Too many concurrent streams for this API token' : 'Too many requests for this API token',
          detail:
            admitted.reason === 'streams'
              ? `this token may hold ${entry.limits.maxStreams} streams at once`
              : `this token may send ${entry.limits.requestsPerMinute} requests per minute`,
          headers: { 'retry-after': String(admitted.retryAfterSeconds) },
        },
        { token: entry.name, error: admitted.reason === 'streams' ? 'LIMIT_STREAMS' : 'LIMIT_RATE' },
      );
      return undefined;
    }
    metrics?.tokenAccepted(entry.name);
    return { ...admitted, token: entry.name, ...(entry.limits.maxTokens !== undefined ? { maxTokens: entry.limits.maxTokens } : {}) };
  }

  async function serveAdmitted(
    req: IncomingMessage,
    res: ServerResponse,
    started: number,
    controller: AbortController,
    baseline: boolean,
    opened: Awaited<ReturnType<typeof openRequest>>,
    payload: RequestPayload | undefined,
    payloadError: HarmonyHpkeError | undefined,
    admission: { token?: string; maxTokens?: number },
  ): Promise<void> {
    const token = admission.token;

    const serverTime = Math.floor(now() / 1000);
    if (payload && Math.abs(payload.iat - serverTime) * 1000 > settings.iatSkewMs) {
      refuse(
        res,
        started,
        req,
        {
          type: ProblemType.Replay,
          status: 400,
          title: 'Request time outside the accepted window',
          detail: `iat must be within ${settings.iatSkewMs / 1000} s of the server time`,
          extra: { server_time: serverTime },
        },
        { rid: payload.rid, kid: opened.header.keyId, token },
      );
      return;
    }
    let fresh: boolean;
    const replayStarted = performance.now();
    try {
      fresh = await replay.remember(Buffer.from(opened.enc).toString('base64url'), settings.replayTtlMs);
      metrics?.replayStore('ok', (performance.now() - replayStarted) / 1000);
    } catch {
      metrics?.replayStore('error', (performance.now() - replayStarted) / 1000);
      // Fail closed: without the replay check no request is served.
      refuse(
        res,
        started,
        req,
        {
          type: ProblemType.ReplayStoreUnavailable,
          status: 503,
          title: 'The replay store is unavailable',
          headers: { 'retry-after': '1' },
        },
        { rid: payload?.rid, kid: opened.header.keyId, token },
      );
      return;
    }
    if (!fresh) {
      refuse(
        res,
        started,
        req,
        {
          type: ProblemType.Replay,
          status: 400,
          title: 'Replayed request',
          detail: 'this sealed request was already received',
          extra: { server_time: serverTime },
        },
        { rid: payload?.rid, kid: opened.header.keyId, token },
      );
      return;
    }

    totalStreams += 1;
    metrics?.streamOpened();
    try {
      await streamAnswer(req, res, started, controller, baseline, opened, payload, payloadError, admission, serverTime);
    } finally {
      metrics?.streamClosed();
    }
  }

  async function streamAnswer(
    req: IncomingMessage,
    res: ServerResponse,
    started: number,
    controller: AbortController,
    baseline: boolean,
    opened: Awaited<ReturnType<typeof openRequest>>,
    payload: RequestPayload | undefined,
    payloadError: HarmonyHpkeError | undefined,
    admission: { token?: string; maxTokens?: number },
    serverTime: number,
  ): Promise<void> {
    const token = admission.token;
    const withhold = options.harmony?.includeAnalysis === false ? new AnalysisFilter() : undefined;
    let firstChunk = true;
    const events: ChunkEventWriter = baseline ? new PlaintextEventStream() : encryptedEvents(opened);

    res.writeHead(200, {
      'content-type': EVENT_STREAM_MEDIA_TYPE,
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();

    let lastWrite = performance.now();
    let clientGone = false;
    const write = async (text: string): Promise<void> => {
      if (clientGone) return;
      lastWrite = performance.now();
      if (!res.write(text)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
      }
    };
    res.on('close', () => {
      if (!res.writableFinished) {
        clientGone = true;
        controller.abort(new AbortReason('client-gone'));
      }
    });
    const heartbeat = setInterval(() => {
      if (performance.now() - lastWrite >= settings.heartbeatMs) void write(events.ping());
    }, Math.max(10, Math.floor(settings.heartbeatMs / 2)));

    let finish: FinishReason | undefined;
    let errorCode: string | undefined;
    let promptTokens = 0;
    let completionTokens = 0;
    let dropConnection = false;
    // An invalid payload still names its rid if it can: the client's decoder checks the start
    // chunk's rid against its session before it shows the authenticated error.
    const rid = payload?.rid ?? ridOfInvalidPayload(opened.plaintext);

    try {
      await write(events.hpkeEvent());
      const model = payload?.model ?? 'unknown';
      await write(
        events.chunk({ t: 'start', rid: rid ?? '', model, created: serverTime, ...(withhold ? { analysis: 'withheld' } : {}) }),
      );
      if (!payload) throw new StreamFailure('bad_request', `the request payload is invalid (${payloadError?.code ?? 'INVALID'})`);

      const defaultEffort = options.harmony?.reasoningEffort;
      const effort = payload.params.reasoning_effort ?? defaultEffort;
      const rendered = effort === payload.params.reasoning_effort ? payload : { ...payload, params: { ...payload.params, reasoning_effort: effort } };
      let prompt: ReturnType<typeof renderPrompt>;
      try {
        prompt = renderPrompt(rendered, new Date(now()));
      } catch (error) {
        throw new StreamFailure('bad_conversation', `the conversation cannot be rendered: ${safeMessage(error)}`);
      }
      promptTokens = prompt.tokens.length;
      const fault = settings.testFaults ? parseFault(headerValue(req.headers[TEST_FAULT_HEADER])) : undefined;
      const maxTokens = Math.min(payload.params.max_tokens ?? 1024, settings.maxTokensLimit, admission.maxTokens ?? Infinity);
      const textDecoder = new TokenTextDecoder();

      const iterator = options.engine
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
          fault,
        })
        [Symbol.asyncIterator]();

      for (;;) {
        const next = await withTimeout(iterator.next(), settings.upstreamTimeoutMs, () =>
          controller.abort(new AbortReason('upstream-timeout')),
        );
        if (next.done) throw new StreamFailure('upstream_truncated', 'the engine ended without a finish reason');
        const event = next.value;
        if (event.type === 'done') {
          finish = event.finish;
          if (event.promptTokens > 0) promptTokens = event.promptTokens;
          const held = withhold?.flush() ?? [];
          if (held.length > 0) await write(events.chunk({ t: 'tokens', ids: held, text: textDecoder.decode(held) }));
          break;
        }
        completionTokens += event.ids.length;
        const forwarded = withhold ? withhold.push(event.ids) : event.ids;
        for (let offset = 0; offset < forwarded.length; offset += MAX_TOKENS_PER_CHUNK) {
          const ids = forwarded.slice(offset, offset + MAX_TOKENS_PER_CHUNK);
          await write(events.chunk({ t: 'tokens', ids, text: textDecoder.decode(ids) }));
          if (firstChunk) {
            firstChunk = false;
            metrics?.firstChunk((performance.now() - started) / 1000);
          }
        }
      }
      await write(
        events.final({
          t: 'end',
          finish,
          usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens },
        }),
      );
    } catch (error) {
      const reason = controller.signal.reason;
      if (error instanceof DisconnectFault) {
        dropConnection = true;
        errorCode = error.code;
      } else if (reason instanceof AbortReason && reason.why === 'client-gone') {
        errorCode = 'CLIENT_GONE';
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
        if (failure.code !== 'bad_request' && failure.code !== 'bad_conversation') metrics?.upstreamError(failure.code);
        await write(events.final({ t: 'error', code: failure.code, message: failure.message })).catch(() => {});
      }
    } finally {
      clearInterval(heartbeat);
      if (!controller.signal.aborted) controller.abort(new AbortReason('client-gone'));
    }
    if (dropConnection) {
      // Like a crashed process: what was written reaches the client, then the connection ends
      // without the chunked body's terminator. destroy() would discard writes still queued.
      res.socket?.destroySoon();
    } else {
      res.end();
    }
    log({
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
      token,
      duration_ms: Math.round(performance.now() - started),
    });
    metrics?.streamed(events.chunksWritten, completionTokens);
    metrics?.request(errorCode === 'CLIENT_GONE' ? 'client_gone' : errorCode !== undefined ? 'error' : (finish ?? 'error'), 200);
  }

  function encryptedEvents(opened: Awaited<ReturnType<typeof openRequest>>): EncryptedEventStream {
    const responseNonce = newResponseNonce(opened.header.aeadId);
    const keys = deriveResponseKeys({
      secret: opened.secret,
      enc: opened.enc,
      responseNonce,
      aeadId: opened.header.aeadId,
    });
    return new EncryptedEventStream(keys, {
      kid: opened.header.keyId,
      kem: opened.header.kemId,
      kdf: opened.header.kdfId,
      aead: opened.header.aeadId,
      nonce: responseNonce,
    });
  }

  const server: Server = createServer((req, res) => {
    const started = performance.now();
    const path = (req.url ?? '/').split('?')[0];
    const handle = async () => {
      if (path === STREAM_PATH) {
        if (req.method !== 'POST') return methodNotAllowed(req, res, started, 'POST');
        return handleStream(req, res, started);
      }
      if (options.plaintextBaselinePath !== undefined && path === options.plaintextBaselinePath) {
        if (req.method !== 'POST') return methodNotAllowed(req, res, started, 'POST');
        return handleStream(req, res, started, true);
      }
      if (path === KEYS_PATH) {
        if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(req, res, started, 'GET');
        const body = keyring.keyConfigList;
        res.writeHead(200, {
          'content-type': OHTTP_KEYS_MEDIA_TYPE,
          'content-length': body.byteLength,
          'cache-control': 'max-age=300',
        });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      if (path === '/healthz') {
        if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(req, res, started, 'GET');
        // A shared replay store that does not answer means every request would get 503: say so.
        const replayOk = replay.ping ? await replay.ping() : true;
        const status = closing ? 'shutting-down' : replayOk ? 'ok' : 'replay-store-unavailable';
        const body = JSON.stringify({
          status,
          engine: options.engine.name,
          fingerprint: keyring.fingerprint,
          active_streams: active.size,
          max_streams: settings.maxStreams,
          replay_store: replay.ping ? (replayOk ? 'ok' : 'unavailable') : 'memory',
          auth: options.apiTokens?.() !== undefined ? 'api-tokens' : 'open',
        });
        res.writeHead(status === 'ok' ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(body);
        return;
      }
      req.resume();
      refuse(res, started, req, { type: ProblemType.NotFound, status: 404, title: 'Not found' });
    };
    handle().catch(() => {
      // Never leak internals: a bare 500 (or a dropped socket if the stream had started).
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ type: 'about:blank', title: 'Internal error', status: 500 }));
      } else {
        res.destroy();
      }
    });
  });

  function methodNotAllowed(req: IncomingMessage, res: ServerResponse, started: number, allow: string): void {
    req.resume();
    refuse(res, started, req, {
      type: ProblemType.MethodNotAllowed,
      status: 405,
      title: 'Method not allowed',
      headers: { allow },
    });
  }

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  // Requests stream for minutes: no request timeout; headers must still arrive promptly.
  server.requestTimeout = 0;
  server.headersTimeout = 30_000;
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port ?? 0, settings.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${hostForUrl}:${address.port}`,
    port: address.port,
    get fingerprint() {
      return keyring.fingerprint;
    },
    get keyring() {
      return keyring;
    },
    reloadKeys: (keys) => {
      keyring = new Keyring(keys, { graceMs: settings.retiredGraceMs, now, previous: keyring });
    },
    stats: () => ({ activeStreams: active.size, totalStreams, refused }),
    close: async () => {
      if (closing) return;
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      for (const stream of active) stream.controller.abort(new AbortReason('shutdown'));
      await Promise.all([...active].map((stream) => stream.done));
      server.closeIdleConnections();
      // Anything still open after the streams ended (half-read uploads) is cut.
      setTimeout(() => {
        for (const socket of sockets) socket.destroy();
      }, 1000).unref();
      await closed;
    },
  };
}

class StreamFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
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

/** Engine and render errors carry codes and short texts; never echo request content. */
function safeMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s+/g, ' ').slice(0, 200);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
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
