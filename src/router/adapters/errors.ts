/**
 * The adapters' failures: every one is an EngineError with a stable code (registered, scope
 * `engine`, in src/core/error-codes.ts). Messages name the check
 * that failed and, for HTTP errors, the status; they never carry an upstream body (it may echo the
 * prompt) nor the API key.
 */
import type { CodeIn } from '../../core/error-codes.js';
import { EngineError } from '../engine.js';

export const UPSTREAM_ERROR_CODES = {
  /** Connection refused, DNS failure, TLS failure: no HTTP answer at all. */
  unreachable: 'UPSTREAM_UNREACHABLE',
  /** The upstream answered with a non-2xx status. */
  httpStatus: 'UPSTREAM_HTTP_STATUS',
  /** An event could not be parsed or had an unexpected shape. */
  badStream: 'UPSTREAM_BAD_STREAM',
  /** The upstream reported an error inside the stream (an `error` event or object). */
  streamError: 'UPSTREAM_STREAM_ERROR',
  /** The stream ended (or the connection dropped) before a finish reason. */
  truncated: 'UPSTREAM_TRUNCATED',
  /** No response headers or no body bytes within the idle timeout. */
  timeout: 'UPSTREAM_TIMEOUT',
  /** The request's signal was aborted (client gone, shutdown): the upstream request was aborted. */
  cancelled: 'CANCELLED',
} as const satisfies Record<string, CodeIn<'engine'>>;

export type UpstreamErrorCode = (typeof UPSTREAM_ERROR_CODES)[keyof typeof UPSTREAM_ERROR_CODES];

/** An adapter failure; `status` is set for UPSTREAM_HTTP_STATUS. */
export class UpstreamError extends EngineError {
  readonly status: number | undefined;

  constructor(code: UpstreamErrorCode, message: string, options?: { cause?: unknown; status?: number }) {
    super(code, message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.status = options?.status;
  }
}

export function badStream(message: string, cause?: unknown): UpstreamError {
  return new UpstreamError(UPSTREAM_ERROR_CODES.badStream, message, cause !== undefined ? { cause } : undefined);
}
