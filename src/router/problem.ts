/** RFC 9457 problem responses: every refusal of the router has a stable `type`. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OHTTP_KEY_PROBLEM_TYPE, REPLAY_PROBLEM_TYPE } from '../hpke/http-names.js';

export const ProblemType = {
  OhttpKey: OHTTP_KEY_PROBLEM_TYPE,
  Replay: REPLAY_PROBLEM_TYPE,
  MalformedRequest: 'urn:harmony-hpke:error:malformed-request',
  PayloadTooLarge: 'urn:harmony-hpke:error:payload-too-large',
  UnsupportedMediaType: 'urn:harmony-hpke:error:unsupported-media-type',
  Overloaded: 'urn:harmony-hpke:error:overloaded',
  NotFound: 'urn:harmony-hpke:error:not-found',
  MethodNotAllowed: 'urn:harmony-hpke:error:method-not-allowed',
  ShuttingDown: 'urn:harmony-hpke:error:shutting-down',
  ReplayStoreUnavailable: 'urn:harmony-hpke:error:replay-store-unavailable',
  RequestTimeout: 'urn:harmony-hpke:error:request-timeout',
  Unauthorized: 'urn:harmony-hpke:error:unauthorized',
  RateLimited: 'urn:harmony-hpke:error:rate-limited',
} as const;

export type ProblemTypeValue = (typeof ProblemType)[keyof typeof ProblemType];

export interface Problem {
  readonly type: ProblemTypeValue;
  readonly status: number;
  readonly title: string;
  readonly detail?: string;
  /** Extension members (e.g. server_time for replay refusals). */
  readonly extra?: Readonly<Record<string, unknown>>;
  readonly headers?: Readonly<Record<string, string>>;
}

const RETRY_SOON = { 'retry-after': '1' } as const;

/** Every refusal the router sends, in one place (types, titles and details are part of the API). */
export const problems = {
  shuttingDown: (): Problem => ({ type: ProblemType.ShuttingDown, status: 503, title: 'The router is shutting down', headers: RETRY_SOON }),
  streamsFull: (max: number): Problem => ({
    type: ProblemType.Overloaded,
    status: 503,
    title: 'Too many concurrent streams',
    detail: `this router serves at most ${max} streams at once`,
    headers: RETRY_SOON,
  }),
  uploadsFull: (max: number): Problem => ({
    type: ProblemType.Overloaded,
    status: 503,
    title: 'Too many concurrent uploads',
    detail: `this router reads at most ${max} request bodies at once`,
    headers: RETRY_SOON,
  }),
  uploadTooSlow: (minBytesPerSec: number, bodyTimeoutMs: number): Problem => ({
    type: ProblemType.RequestTimeout,
    status: 408,
    title: 'Request body too slow',
    detail: `the body must arrive at ${minBytesPerSec} bytes/s or more, and whole within ${bodyTimeoutMs} ms`,
  }),
  tooLarge: (maxBytes: number): Problem => ({ type: ProblemType.PayloadTooLarge, status: 413, title: 'Request too large', detail: `the limit is ${maxBytes} bytes` }),
  keyUnknown: (): Problem => ({
    type: ProblemType.OhttpKey,
    status: 422,
    title: 'Unknown key id, unsupported suite, or the request does not open',
    detail: 'fetch the key config again and re-seal',
  }),
  malformedRequest: (): Problem => ({ type: ProblemType.MalformedRequest, status: 400, title: 'Malformed sealed request' }),
  iatOutsideWindow: (skewMs: number, serverTime: number): Problem => ({
    type: ProblemType.Replay,
    status: 400,
    title: 'Request time outside the accepted window',
    detail: `iat must be within ${skewMs / 1000} s of the server time`,
    extra: { server_time: serverTime },
  }),
  replayed: (serverTime: number): Problem => ({
    type: ProblemType.Replay,
    status: 400,
    title: 'Replayed request',
    detail: 'this sealed request was already received',
    extra: { server_time: serverTime },
  }),
  replayStoreUnavailable: (full: boolean): Problem => ({
    type: ProblemType.ReplayStoreUnavailable,
    status: 503,
    title: full ? 'The replay store is full' : 'The replay store is unavailable',
    headers: RETRY_SOON,
  }),
  unauthorized: (): Problem => ({
    type: ProblemType.Unauthorized,
    status: 401,
    title: 'A valid API token is required',
    detail: 'put the API token in the sealed request (api_token)',
    headers: { 'www-authenticate': 'HarmonyHpke-Api-Token' },
  }),
  rateLimited: (
    reason: 'streams' | 'rate',
    limits: { readonly maxStreams?: number | undefined; readonly requestsPerMinute?: number | undefined },
    retryAfterSeconds: number,
  ): Problem => ({
    type: ProblemType.RateLimited,
    status: 429,
    title: reason === 'streams' ? 'Too many concurrent streams for this API token' : 'Too many requests for this API token',
    detail: reason === 'streams' ? `this token may hold ${limits.maxStreams} streams at once` : `this token may send ${limits.requestsPerMinute} requests per minute`,
    headers: { 'retry-after': String(retryAfterSeconds) },
  }),
  unsupportedMediaType: (expected: string): Problem => ({ type: ProblemType.UnsupportedMediaType, status: 415, title: `Content-Type must be ${expected}` }),
  notFound: (): Problem => ({ type: ProblemType.NotFound, status: 404, title: 'Not found' }),
  methodNotAllowed: (allow: string): Problem => ({ type: ProblemType.MethodNotAllowed, status: 405, title: 'Method not allowed', headers: { allow } }),
};

export function sendProblem(res: ServerResponse, problem: Problem): void {
  const body = JSON.stringify({
    type: problem.type,
    title: problem.title,
    status: problem.status,
    ...(problem.detail !== undefined ? { detail: problem.detail } : {}),
    ...problem.extra,
  });
  res.writeHead(problem.status, {
    'content-type': 'application/problem+json',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
    ...problem.headers,
  });
  res.end(body);
}

/** How long a refused request's body may keep arriving, and how much of it is read, before the socket is destroyed. */
export const REFUSED_BODY_GRACE_MS = 1_000;
export const REFUSED_BODY_BYTES = 64 * 1024;

/**
 * Sends a refusal and makes sure the request cannot keep the connection: `Connection: close`, and
 * when the body is still arriving it is read for at most REFUSED_BODY_GRACE_MS or
 * REFUSED_BODY_BYTES (so the client can read the answer before the close), then the socket is
 * destroyed. Without this a refused upload is read forever.
 */
export function sendRefusal(req: IncomingMessage, res: ServerResponse, problem: Problem): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  sendProblem(res, { ...problem, headers: { ...problem.headers, connection: 'close' } });
  if (req.complete || req.destroyed) return;
  const socket = req.socket;
  let drained = 0;
  const cut = () => {
    clearTimeout(timer);
    req.off('data', onData);
    socket.destroy();
  };
  const onData = (part: Buffer) => {
    drained += part.byteLength;
    if (drained > REFUSED_BODY_BYTES) cut();
  };
  const timer = setTimeout(cut, REFUSED_BODY_GRACE_MS);
  timer.unref();
  req.on('data', onData);
  req.once('end', () => {
    clearTimeout(timer);
    req.off('data', onData);
  });
  socket.once('close', () => clearTimeout(timer));
  req.resume();
}
