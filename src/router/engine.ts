/**
 * The router's view of an inference engine: rendered prompt tokens in, an ordered stream of
 * completion token batches out. The built-in echo engine and every upstream adapter implement it,
 * so the server never needs to know which one it talks to.
 */
import type { CodeIn } from '../core/error-codes.js';
import type { FinishReason } from '../hpke/chunks.js';

export type { FinishReason };

export interface EngineRequest {
  /** Request id (for logs only; never the plaintext). */
  readonly rid: string;
  readonly model: string;
  /** The conversation rendered for completion (ends with `<|start|>assistant`). */
  readonly promptTokens: readonly number[];
  /** The conversation in openai-harmony JSON shape, for engines that cannot take token ids. */
  readonly conversation: { readonly messages: readonly unknown[] };
  readonly maxTokens: number;
  readonly temperature?: number | undefined;
  readonly reasoningEffort?: 'low' | 'medium' | 'high' | undefined;
  /** Token ids that end the completion (`<|return|>`, `<|call|>`). */
  readonly stopTokens: readonly number[];
  /** Aborted when the client disconnects, the router shuts down or the upstream times out. */
  readonly signal: AbortSignal;
  /** Test-only fault injection, set by a test header or a server flag (echo engine only). */
  readonly fault?: EngineFault | undefined;
}

export type EngineFault =
  | { readonly kind: 'malformed-header' }
  | { readonly kind: 'disconnect'; readonly afterTokens: number }
  | { readonly kind: 'stall' }
  | { readonly kind: 'error'; readonly afterTokens: number };

export type EngineEvent =
  | { readonly type: 'tokens'; readonly ids: readonly number[] }
  | {
      readonly type: 'done';
      readonly finish: Exclude<FinishReason, 'cancelled'>;
      readonly promptTokens: number;
      readonly completionTokens: number;
    };

export interface Engine {
  readonly name: string;
  generate(request: EngineRequest): AsyncIterable<EngineEvent>;
}

/** Thrown by engines for upstream failures; the router turns it into an authenticated `error` chunk. */
export class EngineError extends Error {
  readonly code: CodeIn<'engine'>;

  constructor(code: CodeIn<'engine'>, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  override get name(): string {
    return 'EngineError';
  }
}
