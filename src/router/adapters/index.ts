/**
 * Upstream adapters: an Engine that forwards the rendered prompt to a real inference server and
 * relays its completion as Harmony token ids.
 *
 *   const engine = createUpstreamEngine({ kind: 'vllm', url: 'http://127.0.0.1:8000', tokenizer });
 *
 * Every adapter sends an explicit max tokens and the stop ids `<|return|>` and `<|call|>`, reads
 * the upstream stream (SSE or NDJSON) into one internal token stream, synthesizes the closing token
 * a stop finish implies when the upstream leaves it out, and ends with one `done` event. Failures
 * are EngineErrors with the codes in UPSTREAM_ERROR_CODES; an aborted `request.signal` aborts the
 * upstream request (closing its connection) and ends the stream with EngineError `CANCELLED`.
 * See docs/adapters.md.
 */
import { EngineError, type Engine, type EngineEvent, type EngineRequest } from '../engine.js';
import { runCompletion, type CompletionAdapter } from './completion.js';
import { endpointUrl } from './http.js';
import { llamaCppAdapter } from './llamacpp.js';
import { runOllama } from './ollama.js';
import { openAiCompletionsAdapter } from './openai-completions.js';
import { runChat } from './openai-chat.js';
import { sglangAdapter } from './sglang.js';
import { UPSTREAM_KINDS, type UpstreamKind, type UpstreamOptions } from './types.js';
import { vllmAdapter } from './vllm.js';

export { UPSTREAM_ERROR_CODES, UpstreamError, type UpstreamErrorCode } from './errors.js';
export {
  DEFAULT_TIMEOUT_MS,
  UPSTREAM_KINDS,
  type HarmonyTokenizer,
  type UpstreamKind,
  type UpstreamOptions,
} from './types.js';

/** Invalid adapter options (unknown kind, bad URL or timeout): thrown by createUpstreamEngine. */
export const UPSTREAM_CONFIG = 'UPSTREAM_CONFIG';

const COMPLETION_ADAPTERS: Record<Exclude<UpstreamKind, 'ollama'>, CompletionAdapter> = {
  vllm: vllmAdapter,
  sglang: sglangAdapter,
  llamacpp: llamaCppAdapter,
  'openai-completions': openAiCompletionsAdapter,
};

export function createUpstreamEngine(options: UpstreamOptions): Engine {
  if (!UPSTREAM_KINDS.includes(options.kind)) {
    throw new EngineError(UPSTREAM_CONFIG, `unknown upstream kind (expected one of ${UPSTREAM_KINDS.join(', ')})`);
  }
  try {
    endpointUrl(options.url, '/');
  } catch (error) {
    throw new EngineError(UPSTREAM_CONFIG, (error as Error).message);
  }
  if (options.timeoutMs !== undefined && !(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0)) {
    throw new EngineError(UPSTREAM_CONFIG, 'the upstream timeout must be a positive number of milliseconds');
  }
  const settings: UpstreamOptions = { ...options };
  const kind = options.kind;
  if (options.api === 'chat' && kind !== 'ollama') {
    return { name: `upstream:${kind}:chat`, generate: (request: EngineRequest) => runChat(request, settings) };
  }
  return {
    name: `upstream:${kind}`,
    generate(request: EngineRequest): AsyncIterable<EngineEvent> {
      return kind === 'ollama' ? runOllama(request, settings) : runCompletion(COMPLETION_ADAPTERS[kind], request, settings);
    },
  };
}
