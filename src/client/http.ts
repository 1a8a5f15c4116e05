/**
 * HTTP for the client on node:http(s): connect, total and idle timeouts, cancellation, retries
 * that never repeat a request whose stream has started, and RFC 9457 problem bodies mapped to
 * typed errors.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { AuthError, IntegrityError, KeyError, NetworkError, RouterRefusedError, UsageError } from '../core/errors.js';
import { OHTTP_KEY_PROBLEM_TYPE, REPLAY_PROBLEM_TYPE } from '../hpke/http-names.js';

export interface Timeouts {
  /** Connect and receive response headers. */
  readonly connectMs?: number | undefined;
  /** The whole exchange, body included. */
  readonly totalMs?: number | undefined;
  /** Longest gap between body bytes. */
  readonly idleMs?: number | undefined;
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  readonly timeouts?: Timeouts;
  readonly signal?: AbortSignal | undefined;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Milliseconds from sending to the response headers. */
  readonly headersMs: number;
  /** The body as it arrives; a connection reset ends it early (the decoder then reports truncation). */
  readonly body: AsyncIterable<Uint8Array>;
  /** Milliseconds from sending to the first body byte (undefined until it arrives). */
  firstByteMs(): number | undefined;
  /** Abandon the response (closes the connection). */
  close(): void;
}


export function parseUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError('BAD_URL', `not a valid URL: ${url}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError('BAD_URL', `only http and https URLs are supported: ${url}`);
  }
  return parsed;
}

/** Joins a router base URL and a path, keeping any path prefix of the base. */
export function routerUrl(base: string, path: string): string {
  const parsed = parseUrl(base);
  const prefix = parsed.pathname.replace(/\/+$/, '');
  parsed.pathname = `${prefix}${path}`;
  parsed.search = '';
  parsed.hash = '';
  return parsed.toString();
}

function networkError(error: NodeJS.ErrnoException, url: URL): NetworkError {
  const where = url.host;
  switch (error.code) {
    case 'ECONNREFUSED':
      return new NetworkError('CONNECTION_REFUSED', `connection refused by ${where}`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new NetworkError('HOST_NOT_FOUND', `cannot resolve ${url.hostname}`);
    case 'ECONNRESET':
    case 'EPIPE':
      return new NetworkError('CONNECTION_RESET', `connection to ${where} was reset`);
    case 'ETIMEDOUT':
      return new NetworkError('CONNECT_TIMEOUT', `connecting to ${where} timed out`);
    default:
      return new NetworkError('NETWORK_ERROR', `request to ${where} failed: ${error.code ?? error.message}`);
  }
}

/** node:http or node:https, loaded on the first request: an offline command never pays for TLS. */
async function requestFunction(protocol: string): Promise<typeof import('node:http').request | typeof import('node:https').request> {
  return protocol === 'https:' ? (await import('node:https')).request : (await import('node:http')).request;
}

/** Sends one request; resolves once response headers arrive. */
export async function send(req: HttpRequest): Promise<HttpResponse> {
  const url = parseUrl(req.url);
  const requestFn = await requestFunction(url.protocol);
  const started = performance.now();
  const { connectMs, totalMs, idleMs } = req.timeouts ?? {};

  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    let totalTimer: NodeJS.Timeout | undefined;
    let connectTimer: NodeJS.Timeout | undefined;
    let failure: Error | undefined;

    const headers: Record<string, string> = { ...(req.headers ?? {}) };
    if (req.body) headers['content-length'] = String(req.body.byteLength);
    const clientRequest = requestFn(url, { method: req.method, headers, agent: false });

    const fail = (error: Error) => {
      failure ??= error;
      clearTimeout(connectTimer);
      clearTimeout(totalTimer);
      req.signal?.removeEventListener('abort', onAbort);
      clientRequest.destroy();
      if (!settled) {
        settled = true;
        reject(failure);
      }
    };
    const onAbort = () => {
      const reason = req.signal?.reason;
      fail(reason instanceof Error ? reason : Object.assign(new Error('aborted'), { name: 'AbortError' }));
    };
    if (req.signal?.aborted) {
      onAbort();
      return;
    }
    req.signal?.addEventListener('abort', onAbort, { once: true });
    if (connectMs !== undefined) {
      connectTimer = setTimeout(
        () => fail(new NetworkError('CONNECT_TIMEOUT', `no response from ${url.host} within ${connectMs} ms`)),
        connectMs,
      );
    }
    if (totalMs !== undefined) {
      totalTimer = setTimeout(
        () => fail(new NetworkError('TIMEOUT', `request to ${url.host} did not finish within ${totalMs} ms`)),
        totalMs,
      );
    }

    clientRequest.on('error', (error: NodeJS.ErrnoException) => {
      if (!settled) fail(networkError(error, url));
    });
    clientRequest.on('response', (response: IncomingMessage) => {
      clearTimeout(connectTimer);
      settled = true;
      const headersMs = performance.now() - started;
      let firstByte: number | undefined;
      resolve({
        status: response.statusCode ?? 0,
        headers: response.headers,
        headersMs,
        firstByteMs: () => firstByte,
        close: () => {
          clearTimeout(totalTimer);
          req.signal?.removeEventListener('abort', onAbort);
          response.destroy();
          clientRequest.destroy();
        },
        body: (async function* () {
          let idleTimer: NodeJS.Timeout | undefined;
          const armIdle = () => {
            if (idleMs === undefined) return;
            clearTimeout(idleTimer);
            idleTimer = setTimeout(
              () => fail(new NetworkError('IDLE_TIMEOUT', `no data from ${url.host} for ${idleMs} ms`)),
              idleMs,
            );
          };
          armIdle();
          try {
            for await (const chunk of response as AsyncIterable<Buffer>) {
              firstByte ??= performance.now() - started;
              armIdle();
              yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
            }
          } catch (error) {
            // Our own timeouts and aborts surface as themselves; a reset just ends the body,
            // and the stream decoder reports the truncation.
            if (failure) throw failure;
            const code = (error as NodeJS.ErrnoException).code;
            if (code !== 'ECONNRESET' && code !== 'ERR_STREAM_PREMATURE_CLOSE' && (error as Error).message !== 'aborted') {
              throw networkError(error as NodeJS.ErrnoException, url);
            }
          } finally {
            clearTimeout(idleTimer);
            clearTimeout(totalTimer);
            req.signal?.removeEventListener('abort', onAbort);
          }
          if (failure) throw failure;
        })(),
      });
    });
    clientRequest.end(req.body);
  });
}

export async function readAll(body: AsyncIterable<Uint8Array>, limit: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const part of body) {
    size += part.byteLength;
    if (size > limit) throw new NetworkError('RESPONSE_TOO_LARGE', `response larger than ${limit} bytes`);
    parts.push(part);
  }
  return Buffer.concat(parts);
}

export interface Problem {
  readonly type: string;
  readonly title?: string;
  readonly detail?: string;
  readonly status?: number;
}

export function parseProblem(contentType: string | undefined, bytes: Uint8Array): Problem | undefined {
  if (!contentType?.toLowerCase().startsWith('application/problem+json')) return undefined;
  try {
    const value = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
    if (typeof value !== 'object' || value === null) return undefined;
    return {
      type: typeof value['type'] === 'string' ? value['type'] : 'about:blank',
      ...(typeof value['title'] === 'string' ? { title: value['title'] } : {}),
      ...(typeof value['detail'] === 'string' ? { detail: value['detail'] } : {}),
      ...(typeof value['status'] === 'number' ? { status: value['status'] } : {}),
    };
  } catch {
    return undefined;
  }
}

/** Problem text is the router's: keep it short and on one line before it reaches a terminal. */
function sanitize(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 200);
}

/** Turns a non-2xx answer into the typed error the CLI maps to an exit code. */
export function refusalError(status: number, problem: Problem | undefined): Error {
  const what = problem ? sanitize(problem.detail ?? problem.title ?? problem.type) : `HTTP ${status}`;
  if (problem?.type === OHTTP_KEY_PROBLEM_TYPE) {
    return new KeyError('ROUTER_KEY_REJECTED', `the router rejected the request key (${what})`);
  }
  if (problem?.type === REPLAY_PROBLEM_TYPE) {
    return new IntegrityError('REPLAY_REFUSED', `the router refused the request as a replay (${what})`);
  }
  if (status === 401) {
    return new AuthError(
      'API_TOKEN_REFUSED',
      'the router requires a valid API token (HTTP 401): set --api-token, HARMONY_HPKE_API_TOKEN or api_token in the profile',
    );
  }
  return new RouterRefusedError(
    status === 429 || status === 503 ? 'ROUTER_BUSY' : 'ROUTER_REFUSED',
    `the router refused the request: HTTP ${status}${problem ? ` ${sanitize(problem.type)}: ${what}` : ''}`,
    { status, problemType: problem?.type },
  );
}

export interface RetryPolicy {
  readonly retries: number;
  /** Base backoff in ms (doubled each retry); Retry-After is honoured up to maxDelayMs. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 2, baseDelayMs: 250, maxDelayMs: 10_000 };

function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      },
      { once: true },
    );
  });
}

const RETRYABLE_NETWORK = new Set(['CONNECTION_REFUSED', 'CONNECTION_RESET', 'HOST_NOT_FOUND']);

/**
 * Sends with retries for connection failures and 429/503 answers only: all of them happen before
 * any stream byte, so a retry can never duplicate a started answer. Other statuses become typed
 * errors; a 2xx response is returned with its body unread.
 */
export async function sendWithRetry(
  req: HttpRequest,
  policy: RetryPolicy = DEFAULT_RETRY,
  onRetry?: (attempt: number, reason: string, delayMs: number) => void,
): Promise<HttpResponse> {
  for (let attempt = 0; ; attempt += 1) {
    let response: HttpResponse;
    try {
      response = await send(req);
    } catch (error) {
      if (error instanceof NetworkError && RETRYABLE_NETWORK.has(error.code) && attempt < policy.retries) {
        const delay = Math.min(policy.baseDelayMs * 2 ** attempt, policy.maxDelayMs);
        onRetry?.(attempt + 1, error.code, delay);
        await sleep(delay, req.signal);
        continue;
      }
      throw error;
    }
    if (response.status >= 200 && response.status < 300) return response;
    const bytes = await readAll(response.body, 64 * 1024).catch(() => new Uint8Array());
    response.close();
    if ((response.status === 429 || response.status === 503) && attempt < policy.retries) {
      const delay = Math.min(
        retryAfterMs(response.headers['retry-after']) ?? policy.baseDelayMs * 2 ** attempt,
        policy.maxDelayMs,
      );
      onRetry?.(attempt + 1, `HTTP ${response.status}`, delay);
      await sleep(delay, req.signal);
      continue;
    }
    throw refusalError(response.status, parseProblem(response.headers['content-type'], bytes));
  }
}
