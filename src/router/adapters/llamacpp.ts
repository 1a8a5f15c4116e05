/**
 * llama.cpp's server (llama-server) native completion endpoint: POST {url}/completion with
 * `prompt` as a token array, `n_predict`, `stream: true`, `return_tokens: true`. llama.cpp takes
 * no stop token ids: for gpt-oss models it treats `<|return|>` and `<|call|>` as end-of-generation
 * tokens (and no longer `<|end|>`), so they stop generation by themselves (`stop_type: "eos"`); the
 * stop strings `<|return|>` and `<|call|>` are sent too, for servers started with `--special`
 * (which renders special tokens as text). SSE out (`data: {...}`), no `[DONE]`: each event has the
 * new ids in `tokens`; the last has `stop: true`, `stop_type` (`eos`, `word`, `limit`),
 * `stopping_word`, `tokens_predicted`, `tokens_evaluated`. An `error:` line is an upstream error.
 */
import type { EngineRequest } from '../engine.js';
import { badStream, UpstreamError, UPSTREAM_ERROR_CODES } from './errors.js';
import {
  DEFAULT_TEMPERATURE,
  idArray,
  isRecord,
  optionalCount,
  optionalString,
  quoteReason,
  stopStringId,
  type CompletionAdapter,
  type Interpreted,
  type UpstreamFinish,
} from './completion.js';

export const llamaCppAdapter: CompletionAdapter = {
  kind: 'llamacpp',
  path: 'completion',
  format: 'sse',
  idMode: 'incremental',
  body(request: EngineRequest) {
    return {
      prompt: [...request.promptTokens],
      n_predict: request.maxTokens,
      temperature: request.temperature ?? DEFAULT_TEMPERATURE,
      stream: true,
      return_tokens: true,
      stop: ['<|return|>', '<|call|>'],
      ignore_eos: false,
      cache_prompt: true,
    };
  },
  interpret(value: unknown): Interpreted {
    if (!isRecord(value)) throw badStream('the upstream sent an event that is not a JSON object');
    if (value['error'] !== undefined && value['error'] !== null) {
      throw new UpstreamError(UPSTREAM_ERROR_CODES.streamError, 'the upstream reported an error in the stream');
    }
    const ids = idArray(value['tokens'], "'tokens'");
    const text = optionalString(value['content'], "'content'");
    let finish: UpstreamFinish | undefined;
    if (value['stop'] === true) {
      const type = value['stop_type'];
      if (type === 'limit') finish = { reason: 'length' };
      else if (type === 'eos') finish = { reason: 'stop' };
      else if (type === 'word') finish = { reason: 'stop', matched: stopStringId(value['stopping_word']) };
      else if (type === undefined && value['stopped_limit'] === true) finish = { reason: 'length' };
      else if (type === undefined && (value['stopped_eos'] === true || value['stopped_word'] === true)) {
        finish = { reason: 'stop', matched: stopStringId(value['stopping_word']) };
      } else {
        throw new UpstreamError(
          UPSTREAM_ERROR_CODES.streamError,
          `the upstream ended the generation with stop type ${quoteReason(type)}`,
        );
      }
    }
    return {
      ids,
      // Older servers repeat the whole content in the last event: never relay it twice.
      text: finish !== undefined ? undefined : text,
      finish,
      promptTokens: optionalCount(value['tokens_evaluated']),
      completionTokens: finish !== undefined ? optionalCount(value['tokens_predicted']) : undefined,
      last: finish !== undefined,
    };
  },
};
