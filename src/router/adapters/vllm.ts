/**
 * vLLM's OpenAI-compatible completions endpoint, with token ids in and out:
 * POST {url}/v1/completions, `prompt` as the id array, `return_token_ids: true` (each streamed
 * choice then carries the new ids in `token_ids`; versions without it give them as `token_id:N`
 * strings in `logprobs.tokens` with `return_tokens_as_token_ids`), `skip_special_tokens: false`,
 * the stop ids in `stop_token_ids`. SSE out, `data: [DONE]` last; the usage arrives in a last chunk with no choices.
 */
import type { EngineRequest } from '../engine.js';
import { badStream, UpstreamError, UPSTREAM_ERROR_CODES } from './errors.js';
import {
  DEFAULT_TEMPERATURE,
  idArray,
  isRecord,
  modelName,
  optionalCount,
  optionalString,
  quoteReason,
  stopIds,
  stopStringId,
  type CompletionAdapter,
  type Interpreted,
  type UpstreamFinish,
} from './completion.js';
import type { UpstreamOptions } from './types.js';

/** An OpenAI-style streamed error object (`{"error": {...}}` or `{"object": "error", ...}`). */
export function isOpenAiError(value: Record<string, unknown>): boolean {
  return value['error'] !== undefined && value['error'] !== null ? true : value['object'] === 'error';
}

const TOKEN_ID_STRING = /^token_id:(\d{1,7})$/;

/**
 * vLLM versions without `return_token_ids` still give the sampled ids with
 * `return_tokens_as_token_ids` (and `logprobs`): `logprobs.tokens` is `["token_id:200005", ...]`.
 * Those ids are the model's own tokens, so they are used as they are instead of re-encoding the
 * text (which loses special tokens and token boundaries). Undefined when absent; a list with
 * anything else in it is a malformed stream.
 */
export function tokenIdStrings(logprobs: unknown): number[] | undefined {
  if (!isRecord(logprobs)) return undefined;
  const tokens = logprobs['tokens'];
  if (tokens === undefined || tokens === null) return undefined;
  if (!Array.isArray(tokens)) throw badStream("the upstream sent 'logprobs.tokens' that is not an array");
  return tokens.map((token) => {
    const match = typeof token === 'string' ? TOKEN_ID_STRING.exec(token) : null;
    if (!match) throw badStream("the upstream sent 'logprobs.tokens' that are not token_id:N strings");
    return Number(match[1]);
  });
}

/** Reads one OpenAI-style completion chunk (vLLM's, or a generic server's). */
export function interpretCompletionChunk(value: unknown, options: { ids: boolean }): Interpreted {
  if (!isRecord(value)) throw badStream('the upstream sent an event that is not a JSON object');
  if (isOpenAiError(value)) {
    throw new UpstreamError(UPSTREAM_ERROR_CODES.streamError, 'the upstream reported an error in the stream');
  }
  const usage = isRecord(value['usage']) ? value['usage'] : undefined;
  const promptTokens = optionalCount(usage?.['prompt_tokens']);
  const completionTokens = optionalCount(usage?.['completion_tokens']);
  const choices = value['choices'];
  if (choices !== undefined && choices !== null && !Array.isArray(choices)) {
    throw badStream("the upstream sent 'choices' that is not an array");
  }
  const list = (choices ?? []) as unknown[];
  // Only the first choice is asked for (n = 1).
  const choice = list.find((c) => isRecord(c) && (c['index'] ?? 0) === 0);
  if (choice === undefined) {
    // A usage-only chunk is the last one before [DONE].
    return { promptTokens, completionTokens, last: list.length === 0 && usage !== undefined };
  }
  if (!isRecord(choice)) throw badStream('the upstream sent a choice that is not a JSON object');
  const ids = options.ids ? (idArray(choice['token_ids'], "'token_ids'") ?? tokenIdStrings(choice['logprobs'])) : undefined;
  const text = optionalString(choice['text'], "'text'");
  const finishReason = choice['finish_reason'];
  let finish: UpstreamFinish | undefined;
  if (finishReason === 'stop') {
    const stopReason = choice['stop_reason'];
    finish = {
      reason: 'stop',
      matched: typeof stopReason === 'number' ? stopReason : stopStringId(stopReason),
    };
  } else if (finishReason === 'length') {
    finish = { reason: 'length' };
  } else if (finishReason !== undefined && finishReason !== null) {
    throw new UpstreamError(
      UPSTREAM_ERROR_CODES.streamError,
      `the upstream ended the generation with finish reason ${quoteReason(finishReason)}`,
    );
  }
  return { ids, text, finish, promptTokens, completionTokens };
}

/** The fields of an OpenAI-style streaming /v1/completions request that vLLM and the generic adapter share. */
export function completionsRequestBody(request: EngineRequest, options: UpstreamOptions): Record<string, unknown> {
  return {
    model: modelName(request, options),
    prompt: [...request.promptTokens],
    max_tokens: request.maxTokens,
    temperature: request.temperature ?? DEFAULT_TEMPERATURE,
    stream: true,
    stream_options: { include_usage: true },
  };
}

export const vllmAdapter: CompletionAdapter = {
  kind: 'vllm',
  path: 'v1/completions',
  format: 'sse',
  idMode: 'incremental',
  body(request: EngineRequest, options: UpstreamOptions) {
    return {
      ...completionsRequestBody(request, options),
      stop_token_ids: stopIds(request),
      skip_special_tokens: false,
      include_stop_str_in_output: true,
      return_token_ids: true,
      // For vLLM versions without return_token_ids: the ids as `token_id:N` logprob tokens.
      return_tokens_as_token_ids: true,
      logprobs: 0,
    };
  },
  interpret: (value) => interpretCompletionChunk(value, { ids: true }),
};
