/**
 * Shared types of the upstream adapters.
 */

/** The upstream inference servers an adapter exists for. */
export type UpstreamKind = 'vllm' | 'sglang' | 'llamacpp' | 'openai-completions' | 'ollama';

export const UPSTREAM_KINDS: readonly UpstreamKind[] = [
  'vllm',
  'sglang',
  'llamacpp',
  'openai-completions',
  'ollama',
];

/**
 * What the adapters need of the o200k_harmony tokenizer. The real one is
 * `loadHarmonyEncoding('HarmonyGptOss')` from src/harmony: its `encode` with
 * `allowedSpecial: 'all'` turns special-token text such as `<|channel|>` into the special ids.
 */
export interface HarmonyTokenizer {
  encode(text: string, options: { allowedSpecial: 'all' }): number[];
  /** Text as ordinary tokens (special-token spellings stay text). */
  encodeOrdinary?(text: string): number[];
  decode(ids: readonly number[]): string;
}

export interface UpstreamOptions {
  readonly kind: UpstreamKind;
  /** Base URL of the server, e.g. `http://127.0.0.1:8000` (a trailing `/v1` is tolerated). */
  readonly url: string;
  /** Model name sent upstream; defaults to the request's model. */
  readonly model?: string | undefined;
  /** Sent as `Authorization: Bearer <apiKey>`; never logged, never in error text. */
  readonly apiKey?: string | undefined;
  /**
   * Idle timeout in ms: the longest wait for the response headers and then between two reads of
   * the body (SSE comments count as activity). Default 60 000.
   */
  readonly timeoutMs?: number | undefined;
  readonly tokenizer: HarmonyTokenizer;
  /**
   * `chat`: POST {url}/v1/chat/completions with the conversation instead of the rendered prompt
   * (`serve --harmony off --upstream-api chat`; any kind but ollama, which is chat already).
   */
  readonly api?: 'completions' | 'chat' | undefined;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
