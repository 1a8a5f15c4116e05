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
