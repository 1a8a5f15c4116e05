/**
 * A small fake inference server for tests: a real node:http server on 127.0.0.1 (free port) that
 * replays recorded-shape streams (fixtures/upstreams/<kind>/*.sse|*.ndjson), records what it was
 * sent, and counts its open connections.
 *
 *   const upstream = await startFakeUpstream([
 *     { path: '/v1/completions', fixture: 'vllm/basic.sse', delayMs: 5 },
 *   ]);
 *   // ... point the code under test at upstream.url ...
 *   expect(upstream.requests[0]?.json).toMatchObject({ max_tokens: 64 });
 *
 * Replay options per route: a fixture file or an inline body, split into chunks (by event, by
 * line, or every N bytes, to cut UTF-8 characters and events across reads), an optional delay
 * between chunks, a stall (stop writing, keep the socket open) or a death (destroy the socket)
 * after N chunks, or a status code other than 200. `openConnections()` counts sockets still open,
 * so a test can check that the client closed its connection after a cancellation.
 *
 * Called inside a test, the server closes itself when the test ends (vitest's onTestFinished);
 * called elsewhere (beforeAll), close it yourself with `close()`.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { onTestFinished } from 'vitest';

/** The repository's fixtures/upstreams folder. */
export const UPSTREAM_FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'upstreams');

/** Reads a fixture, e.g. `vllm/basic.sse`, from fixtures/upstreams. */
export function readUpstreamFixture(name: string): string {
  return readFileSync(join(UPSTREAM_FIXTURES, name), 'utf8');
}

export interface RecordedRequest {
  readonly method: string;
  /** Path and query, e.g. `/v1/completions`. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: unknown;
}

export interface FakeRoute {
  /** Default POST. */
  readonly method?: string;
  readonly path: string;
  /** Default 200. */
  readonly status?: number;
  /** Extra response headers; `content-type` defaults from the fixture's extension. */
  readonly headers?: Record<string, string>;
  /** A file under fixtures/upstreams, e.g. `sglang/cumulative.sse`. */
  readonly fixture?: string;
  /** An inline body instead of a fixture (a string, or the chunks to write one by one). */
  readonly body?: string | readonly (string | Uint8Array)[];
  /**
   * How to cut the body into writes: `event` (default for .sse: after each blank line), `line`
   * (default for .ndjson and other bodies), `whole`, or a number of bytes per write (which cuts
   * multi-byte characters and events at arbitrary places).
   */
  readonly chunking?: 'event' | 'line' | 'whole' | number;
  /**
   * Wait this long between writes. Default 0: each write still goes out on its own event-loop
   * turn, but the client may then read several writes at once; set a delay to keep reads apart.
   */
  readonly delayMs?: number;
  /** After this many writes, write nothing more and keep the connection open (never ends). */
  readonly stallAfter?: number;
  /** After this many writes, destroy the socket without ending the response. */
  readonly dieAfter?: number;
  /** Never send response headers at all (the request hangs until the client gives up). */
  readonly hang?: boolean;
  /** Full control instead of replay. */
  readonly handler?: (req: IncomingMessage, res: ServerResponse, request: RecordedRequest) => void;
}

export interface FakeUpstream {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Requests received so far, in order. */
  readonly requests: RecordedRequest[];
  /**
   * Connections currently open that have carried at least one request (a keep-alive connection
   * of a finished response counts until it is closed). Idle connections a client opens ahead of
   * use (undici opens a spare one when a request is aborted) are not counted: see openSockets().
   */
  openConnections(): number;
  /** Every socket currently open, idle spares included. */
  openSockets(): number;
  /** Sockets accepted since start. */
  totalConnections(): number;
  close(): Promise<void>;
}

function contentTypeFor(name: string | undefined): string {
  if (name?.endsWith('.sse')) return 'text/event-stream';
  if (name?.endsWith('.ndjson')) return 'application/x-ndjson';
  return 'application/json';
}

function split(body: string, chunking: FakeRoute['chunking'], isSse: boolean): Uint8Array[] {
  const bytes = Buffer.from(body, 'utf8');
  const mode = chunking ?? (isSse ? 'event' : 'line');
  if (mode === 'whole') return [bytes];
  if (typeof mode === 'number') {
    const size = Math.max(1, Math.floor(mode));
    const out: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
    return out;
  }
  const separator = mode === 'event' ? /(?<=\r?\n\r?\n)/ : /(?<=\n)/;
  return body
    .split(separator)
    .filter((part) => part !== '')
    .map((part) => Buffer.from(part, 'utf8'));
}

const pause = (ms: number): Promise<void> =>
  new Promise((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));

async function replay(route: FakeRoute, res: ServerResponse): Promise<void> {
  let chunks: Uint8Array[];
  if (route.fixture !== undefined) {
    chunks = split(readUpstreamFixture(route.fixture), route.chunking, route.fixture.endsWith('.sse'));
  } else if (typeof route.body === 'string') {
    chunks = split(route.body, route.chunking ?? 'whole', false);
  } else {
    chunks = (route.body ?? []).map((part) => (typeof part === 'string' ? Buffer.from(part, 'utf8') : part));
  }
  res.writeHead(route.status ?? 200, {
    'content-type': contentTypeFor(route.fixture),
    'cache-control': 'no-cache',
    ...route.headers,
  });
  res.flushHeaders();
  for (let i = 0; i < chunks.length; i += 1) {
    if (route.stallAfter !== undefined && i >= route.stallAfter) return;
    if (route.dieAfter !== undefined && i >= route.dieAfter) {
      res.socket?.destroy();
      return;
    }
    if (res.destroyed) return;
    res.write(chunks[i]);
    await pause(route.delayMs ?? 0);
  }
  if (route.stallAfter !== undefined && route.stallAfter >= chunks.length) return;
  if (route.dieAfter !== undefined && route.dieAfter >= chunks.length) {
    res.socket?.destroy();
    return;
  }
  res.end();
}

export async function startFakeUpstream(routes: readonly FakeRoute[]): Promise<FakeUpstream> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const used = new WeakSet<Socket>();
  let accepted = 0;

  const server = createServer((req, res) => {
    used.add(req.socket);
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body) as unknown;
      } catch {
        json = undefined;
      }
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body,
        json,
      };
      requests.push(recorded);
      const pathname = new URL(recorded.path, 'http://fake').pathname;
      const route = routes.find((r) => (r.method ?? 'POST') === recorded.method && r.path === pathname);
      if (route === undefined) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":"no such route in the fake upstream"}');
        return;
      }
      if (route.hang === true) return;
      if (route.handler !== undefined) {
        route.handler(req, res, recorded);
        return;
      }
      replay(route, res).catch(() => res.socket?.destroy());
    });
  });
  server.on('connection', (socket: Socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
    return closing;
  };

  try {
    onTestFinished(() => close());
  } catch {
    // Not inside a test: the caller closes the server.
  }

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    openConnections: () => [...sockets].filter((socket) => !socket.destroyed && used.has(socket)).length,
    openSockets: () => [...sockets].filter((socket) => !socket.destroyed).length,
    totalConnections: () => accepted,
    close,
  };
}
