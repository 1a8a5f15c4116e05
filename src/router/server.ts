/**
 * The reference router: harmony-hpke/1 over node:http. This file is the listener and its
 * lifecycle (routes, connection cap, close with a deadline); admission.ts reads, opens and checks
 * a request before it takes a stream slot; stream.ts serves one stream; problem.ts the refusals.
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
  generateRouterKey,
  KEYS_PATH,
  OHTTP_KEYS_MEDIA_TYPE,
  REQUEST_MEDIA_TYPE,
  STREAM_PATH,
} from '../hpke/index.js';
import type { EngineFault } from './engine.js';
import { Keyring } from './keyring.js';
import { admit, UploadSet, type AdmissionContext } from './admission.js';
import { resolveSettings, type RequestLog, type RouterOptions, type RunningRouter } from './options.js';
import { problems, sendRefusal, type Problem } from './problem.js';
import { MemoryReplayStore, type ReplayStore } from './replay-cache.js';
import { TokenLimiter } from './auth/limits.js';
import { RenderPool } from './render-pool.js';
import { AbortReason, serveStream, type StreamContext } from './stream.js';

export { KEYS_PATH, REQUEST_MEDIA_TYPE, STREAM_PATH };
export type { RequestLog, RouterOptions, RouterStats, RunningRouter } from './options.js';
export const TEST_FAULT_HEADER = 'x-harmony-hpke-test-fault';

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

interface ActiveStream {
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

interface Connection {
  /** Requests in progress on it (0: idle, may be closed to admit a new connection). */
  busy: number;
}

/** A stream's log record for a client that left before its request was opened (nothing was sent). */
const CLIENT_CLOSED_STATUS = 499;

export async function startRouter(options: RouterOptions): Promise<RunningRouter> {
  const settings = resolveSettings(options);
  const now = options.now ?? Date.now;
  const keyring = new Keyring(options.keys, { graceMs: settings.retiredGraceMs, now });
  const replay: ReplayStore = options.replayStore ?? new MemoryReplayStore({ now, maxEntries: settings.replayCacheSize });
  const metrics = options.metrics;
  const log = options.log ?? (() => {});
  const suites = options.keys.flatMap((key) => key.suites);
  const decoy = await generateRouterKey({ keyId: 0, suites: suites.filter((suite, index) => suites.findIndex((other) => other.kdfId === suite.kdfId && other.aeadId === suite.aeadId) === index) });
  const uploads = new UploadSet(settings.maxUploads);
  const renderPool = new RenderPool({
    size: settings.renderWorkers,
    timeoutMs: settings.renderTimeoutMs,
    limits: { maxPromptTokens: settings.maxPromptTokens, maxDepth: settings.maxConversationDepth },
    maxQueue: settings.maxStreams,
  });
  const gate: AdmissionContext = {
    settings,
    keyring,
    decoy,
    replay,
    uploads,
    now,
    apiTokens: options.apiTokens,
    limiter: new TokenLimiter(now),
    metrics,
  };
  const streamContext: StreamContext = {
    settings,
    engine: options.engine,
    renderPool,
    now,
    log,
    fault: (req) => (settings.testFaults ? parseFault(headerValue(req.headers[TEST_FAULT_HEADER])) : undefined),
    metrics,
    harmony: options.harmony,
  };
  /** Stream slots: requests opened and being answered. */
  const active = new Set<ActiveStream>();
  /** Requests being read or opened (no slot yet): aborted at shutdown. */
  const admitting = new Set<AbortController>();
  const connections = new Map<Socket, Connection>();
  let totalStreams = 0;
  let refused = 0;
  let closing = false;

  const refuse = (req: IncomingMessage, res: ServerResponse, started: number, problem: Problem, extra: Partial<RequestLog> = {}) => {
    refused += 1;
    sendRefusal(req, res, problem);
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

  async function handleStream(req: IncomingMessage, res: ServerResponse, started: number, baseline = false): Promise<void> {
    // Before any await: a close that happens at any later point (even before the body is read) is seen.
    const controller = new AbortController();
    const onClose = () => {
      if (!res.writableFinished && !controller.signal.aborted) controller.abort(new AbortReason('client-gone'));
    };
    res.on('close', onClose);
    if (res.destroyed || req.socket.destroyed) onClose();

    if (closing) return refuse(req, res, started, problems.shuttingDown());
    if (active.size >= settings.maxStreams) return refuse(req, res, started, overloaded());
    const contentType = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    if (contentType !== REQUEST_MEDIA_TYPE) {
      return refuse(req, res, started, problems.unsupportedMediaType(REQUEST_MEDIA_TYPE));
    }

    admitting.add(controller);
    let admission: Awaited<ReturnType<typeof admit>>;
    try {
      admission = await admit(gate, req, controller.signal, baseline, () => closing);
    } finally {
      admitting.delete(controller);
    }
    if (admission.kind === 'refused') return refuse(req, res, started, admission.problem, admission.log);
    try {
      await serveAdmitted(req, res, started, baseline, controller, admission);
    } finally {
      // The API token's stream slot (per-token limits), whatever became of the request.
      if (admission.kind === 'admitted') admission.release();
    }
  }

  async function serveAdmitted(
    req: IncomingMessage,
    res: ServerResponse,
    started: number,
    baseline: boolean,
    controller: AbortController,
    admission: Exclude<Awaited<ReturnType<typeof admit>>, { kind: 'refused' }>,
  ): Promise<void> {
    if (admission.kind === 'gone' || controller.signal.aborted || res.destroyed) {
      // Nothing to answer: the client left while its request was read or opened.
      res.destroy();
      log({
        time: new Date().toISOString(),
        method: 'POST',
        path: req.url ?? '',
        status: CLIENT_CLOSED_STATUS,
        error: 'CLIENT_GONE',
        ...(admission.kind === 'admitted' ? { rid: admission.payload?.rid, kid: admission.opened.header.keyId } : {}),
        duration_ms: Math.round(performance.now() - started),
      });
      return;
    }
    if (closing) return refuse(req, res, started, problems.shuttingDown());
    // The slot is taken only now, with the body complete and opened.
    if (active.size >= settings.maxStreams) return refuse(req, res, started, overloaded(), { rid: admission.payload?.rid, kid: admission.opened.header.keyId });

    let finishStream!: () => void;
    const stream: ActiveStream = { controller, done: new Promise<void>((resolve) => (finishStream = resolve)) };
    active.add(stream);
    totalStreams += 1;
    metrics?.streamOpened();
    try {
      await serveStream(streamContext, req, res, admission, controller, started, baseline);
    } finally {
      metrics?.streamClosed();
      active.delete(stream);
      finishStream();
    }
  }

  function overloaded(): Problem {
    return problems.streamsFull(settings.maxStreams);
  }

  const server: Server = createServer({ connectionsCheckingInterval: 1_000, headersTimeout: 10_000, requestTimeout: 0 }, (req, res) => {
    const started = performance.now();
    const connection = connections.get(req.socket);
    if (connection !== undefined) {
      connection.busy += 1;
      res.once('close', () => (connection.busy -= 1));
    }
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
        const body = gate.keyring.keyConfigList;
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
          fingerprint: gate.keyring.fingerprint,
          active_streams: active.size,
          max_streams: settings.maxStreams,
          uploads: uploads.size,
          connections: connections.size,
          replay_store: replay.ping ? (replayOk ? 'ok' : 'unavailable') : 'memory',
          auth: options.apiTokens?.() !== undefined ? 'api-tokens' : 'open',
        });
        res.writeHead(status === 'ok' ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(body);
        return;
      }
      refuse(req, res, started, problems.notFound());
    };
    handle().catch(() => {
      // Never leak internals: a bare 500 (or a dropped socket if the stream had started).
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'application/problem+json', connection: 'close' });
        res.end(JSON.stringify({ type: 'about:blank', title: 'Internal error', status: 500 }));
      } else {
        res.destroy();
      }
    });
  });

  function methodNotAllowed(req: IncomingMessage, res: ServerResponse, started: number, allow: string): void {
    refuse(req, res, started, problems.methodNotAllowed(allow));
  }

  server.on('connection', (socket: Socket) => {
    if (connections.size >= settings.maxConnections) {
      // Full: close the oldest idle connection (no request in progress) to make room, else this one.
      for (const [other, state] of connections) {
        if (state.busy === 0) {
          connections.delete(other);
          other.destroy();
          break;
        }
      }
      if (connections.size >= settings.maxConnections) {
        socket.destroy();
        return;
      }
    }
    connections.set(socket, { busy: 0 });
    socket.once('close', () => connections.delete(socket));
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    const status =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : '400 Bad Request';
    if (socket.writable && !(socket as Socket).destroyed) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    else socket.destroy();
  });
  server.keepAliveTimeout = 5_000;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(settings.port, settings.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    // A router that never listened must not keep the process alive with its render workers.
    await Promise.race([renderPool.close(), sleep(1_000)]);
    throw error;
  }
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closed: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    closing = true;
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    for (const controller of admitting) controller.abort(new AbortReason('shutdown'));
    for (const stream of active) stream.controller.abort(new AbortReason('shutdown'));
    const streamsDone = Promise.all([...active].map((stream) => stream.done));
    const inTime = await Promise.race([streamsDone.then(() => true), sleep(settings.closeTimeoutMs).then(() => false)]);
    server.closeIdleConnections();
    // Clients that do not read their `cancelled` chunk: cut, which ends their streams at once.
    if (!inTime) destroyAll();
    await Promise.race([streamsDone, sleep(1_000)]);
    server.closeIdleConnections();
    // What is left (answers still flushing to slow readers, half-read uploads) gets one second more.
    if (!(await Promise.race([serverClosed.then(() => true), sleep(1_000).then(() => false)]))) {
      destroyAll();
      await Promise.race([serverClosed, sleep(1_000)]);
    }
    // Every step above is bounded: close() ends within closeTimeoutMs + 4 s whatever the clients do.
    await Promise.race([renderPool.close(), sleep(1_000)]);
  };
  const destroyAll = () => {
    for (const socket of connections.keys()) socket.destroy();
  };

  return {
    url: `http://${hostForUrl}:${address.port}`,
    port: address.port,
    get fingerprint() {
      return gate.keyring.fingerprint;
    },
    get keyring() {
      return gate.keyring;
    },
    reloadKeys: (keys) => {
      gate.keyring = new Keyring(keys, { graceMs: settings.retiredGraceMs, now, previous: gate.keyring });
    },
    stats: () => ({ activeStreams: active.size, uploads: uploads.size, connections: connections.size, totalStreams, refused }),
    close: () => (closed ??= close()),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
