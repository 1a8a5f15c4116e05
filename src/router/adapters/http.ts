/**
 * One streaming HTTP request to an upstream: POST a JSON body, then read the response body as text
 * (UTF-8 decoded in streaming mode, so a character split across reads is kept whole), with an idle
 * timeout and cancellation by the engine request's signal. Every failure becomes an UpstreamError.
 */
import { UpstreamError, UPSTREAM_ERROR_CODES } from './errors.js';

export interface UpstreamCallOptions {
  /** Full endpoint URL. */
  readonly url: string;
  readonly body: unknown;
  readonly accept: string;
  readonly apiKey?: string | undefined;
  readonly timeoutMs: number;
  /** The engine request's signal: aborting it aborts the upstream request. */
  readonly signal: AbortSignal;
}

/** Joins a base URL and an endpoint path, tolerating a trailing `/` or `/v1` on the base. */
export function endpointUrl(base: string, path: string): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UpstreamError(UPSTREAM_ERROR_CODES.unreachable, 'the upstream URL is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UpstreamError(UPSTREAM_ERROR_CODES.unreachable, 'the upstream URL must be http: or https:');
  }
  let prefix = url.pathname.replace(/\/+$/, '');
  const relative = path.replace(/^\/+/, '');
  if (prefix.endsWith('/v1') && relative.startsWith('v1/')) prefix = prefix.slice(0, -3);
  url.pathname = `${prefix}/${relative}`;
  url.search = '';
  url.hash = '';
  return url.toString();
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]+$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * A streaming upstream call. Use `open()` once, then iterate `text()`; call `close()` when done
 * (also on success: it releases the timer and the signal listener and aborts an unfinished body,
 * which closes the upstream connection).
 */
export class UpstreamCall {
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timedOut = false;
  private finished = false;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private readonly onAbort = (): void => {
    this.controller.abort();
  };

  constructor(private readonly options: UpstreamCallOptions) {}

  /** Sends the request and waits for a 2xx response's headers. */
  async open(): Promise<void> {
    const { signal } = this.options;
    if (signal.aborted) throw this.cancelled();
    signal.addEventListener('abort', this.onAbort, { once: true });
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: this.options.accept,
    };
    if (this.options.apiKey !== undefined && this.options.apiKey !== '') {
      headers['authorization'] = `Bearer ${this.options.apiKey}`;
    }
    this.arm();
    let response: Response;
    try {
      response = await fetch(this.options.url, {
        method: 'POST',
        headers,
        body: JSON.stringify(this.options.body),
        signal: this.controller.signal,
        // Never follow a redirect: it would POST the decrypted conversation to another origin.
        // A 3xx is answered like any other non-2xx status.
        redirect: 'manual',
      });
    } catch (error) {
      throw this.failure(error, 'connect');
    }
    if (!response.ok || response.type === 'opaqueredirect') {
      // The body is never read: it may echo the prompt.
      await response.body?.cancel().catch(() => {});
      throw new UpstreamError(UPSTREAM_ERROR_CODES.httpStatus, `the upstream answered HTTP ${response.status}`, {
        status: response.status,
      });
    }
    if (response.body === null) {
      throw new UpstreamError(UPSTREAM_ERROR_CODES.truncated, 'the upstream answered with no body');
    }
    this.disarm();
    this.reader = response.body.getReader();
  }

  /**
   * The body as text chunks. The idle timer runs only while a read is pending, so a consumer that
   * is slow to take a chunk never causes a timeout.
   */
  async *text(): AsyncGenerator<string> {
    const reader = this.reader;
    if (reader === undefined) throw new Error('UpstreamCall.text() before open()');
    const decoder = new TextDecoder('utf-8');
    for (;;) {
      let result: Awaited<ReturnType<typeof reader.read>>;
      this.arm();
      try {
        result = await reader.read();
      } catch (error) {
        throw this.failure(error, 'read');
      } finally {
        this.disarm();
      }
      if (result.done) break;
      const text = decoder.decode(result.value, { stream: true });
      if (text !== '') yield text;
    }
    this.finished = true;
    const rest = decoder.decode();
    if (rest !== '') yield rest;
  }

  /** Releases everything; aborts the request (closing its connection) unless the body was read to its end. */
  close(): void {
    this.disarm();
    this.options.signal.removeEventListener('abort', this.onAbort);
    if (!this.finished && !this.controller.signal.aborted) this.controller.abort();
  }

  /** Throws CANCELLED once the request's signal is aborted (checked before relaying buffered events). */
  throwIfCancelled(): void {
    if (this.options.signal.aborted) throw this.cancelled();
  }

  /** The error for a failure while connecting or reading, by what caused it. */
  failure(error: unknown, phase: 'connect' | 'read'): UpstreamError {
    if (error instanceof UpstreamError) return error;
    if (this.options.signal.aborted) return this.cancelled(error);
    if (this.timedOut) {
      return new UpstreamError(
        UPSTREAM_ERROR_CODES.timeout,
        phase === 'connect'
          ? `the upstream sent no response within ${this.options.timeoutMs} ms`
          : `the upstream sent nothing for ${this.options.timeoutMs} ms`,
        { cause: error },
      );
    }
    if (phase === 'connect') {
      const code = errorCode(error);
      return new UpstreamError(
        UPSTREAM_ERROR_CODES.unreachable,
        `the upstream could not be reached${code !== undefined ? ` (${code})` : ''}`,
        { cause: error },
      );
    }
    return new UpstreamError(UPSTREAM_ERROR_CODES.truncated, 'the upstream connection closed mid-stream', {
      cause: error,
    });
  }

  private cancelled(cause?: unknown): UpstreamError {
    return new UpstreamError(
      UPSTREAM_ERROR_CODES.cancelled,
      'the request was cancelled',
      cause !== undefined ? { cause } : undefined,
    );
  }

  private arm(): void {
    this.disarm();
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort();
    }, this.options.timeoutMs);
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
