/**
 * A generic OpenAI-compatible completions endpoint: POST {url}/v1/completions with `prompt` as the
 * id array and the stop strings `<|return|>` and `<|call|>`. Only text comes back (`choices[0].text`
 * deltas), so the text (special tokens included, as text) is encoded back to ids with the Harmony
 * tokenizer, holding back text whose ids could still change (a partial special token, the last word).
 */
import type { EngineRequest } from '../engine.js';
import type { CompletionAdapter } from './completion.js';
import type { UpstreamOptions } from './types.js';
import { completionsRequestBody, interpretCompletionChunk } from './vllm.js';

export const openAiCompletionsAdapter: CompletionAdapter = {
  kind: 'openai-completions',
  path: 'v1/completions',
  format: 'sse',
  idMode: 'incremental',
  body(request: EngineRequest, options: UpstreamOptions) {
    return {
      ...completionsRequestBody(request, options),
      stop: ['<|return|>', '<|call|>'],
      // Not in OpenAI's own API, but honoured by the servers that run gpt-oss (vLLM, SGLang, ...):
      // without it the special tokens are dropped from the text and the Harmony structure is lost.
      skip_special_tokens: false,
    };
  },
  interpret: (value) => interpretCompletionChunk(value, { ids: false }),
};
