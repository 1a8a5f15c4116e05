/**
 * SGLang's native generate endpoint: POST {url}/generate with `input_ids` and `sampling_params`
 * (`max_new_tokens`, `stop_token_ids`, `skip_special_tokens: false`, `no_stop_trim: true`),
 * `stream: true`. SSE out, `data: [DONE]` last. Each event holds `text`, `output_ids` and
 * `meta_info` (`finish_reason` null or `{type: 'stop', matched}` / `{type: 'length'}`,
 * `prompt_tokens`, `completion_tokens`). `output_ids` and `text` are cumulative by default and
 * incremental with `--incremental-streaming-output`: both are handled (`auto`). Without
 * `no_stop_trim` (older servers) the matched stop token is trimmed from the ids: it is then
 * synthesized from `matched`.
 */
import type { EngineRequest } from '../engine.js';
import { badStream, UpstreamError, UPSTREAM_ERROR_CODES } from './errors.js';
import {
  DEFAULT_TEMPERATURE,
  idArray,
  isRecord,
  optionalCount,
  quoteReason,
  stopIds,
  stopStringId,
  type CompletionAdapter,
  type Interpreted,
  type UpstreamFinish,
} from './completion.js';

function finishOf(value: unknown): UpstreamFinish | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) throw badStream("the upstream sent a 'finish_reason' that is not an object");
  const type = value['type'];
  if (type === 'stop') {
    const matched = value['matched'];
    return { reason: 'stop', matched: typeof matched === 'number' ? matched : stopStringId(matched) };
  }
  if (type === 'length') return { reason: 'length' };
  throw new UpstreamError(
    UPSTREAM_ERROR_CODES.streamError,
    `the upstream ended the generation with finish reason ${quoteReason(type)}`,
  );
}

export const sglangAdapter: CompletionAdapter = {
  kind: 'sglang',
  path: 'generate',
  format: 'sse',
  idMode: 'auto',
  body(request: EngineRequest) {
    return {
      input_ids: [...request.promptTokens],
      sampling_params: {
        max_new_tokens: request.maxTokens,
        temperature: request.temperature ?? DEFAULT_TEMPERATURE,
        stop_token_ids: stopIds(request),
        skip_special_tokens: false,
        no_stop_trim: true,
      },
      stream: true,
    };
  },
  interpret(value: unknown): Interpreted {
    if (!isRecord(value)) throw badStream('the upstream sent an event that is not a JSON object');
    if (value['error'] !== undefined && value['error'] !== null) {
      throw new UpstreamError(UPSTREAM_ERROR_CODES.streamError, 'the upstream reported an error in the stream');
    }
    const meta = isRecord(value['meta_info']) ? value['meta_info'] : undefined;
    const ids = idArray(value['output_ids'], "'output_ids'");
    if (ids === undefined) throw badStream("the upstream sent an event without 'output_ids'");
    const completionTokens = optionalCount(meta?.['completion_tokens']);
    const finish = finishOf(meta?.['finish_reason']);
    return {
      ids,
      idsTotal: completionTokens,
      finish,
      promptTokens: optionalCount(meta?.['prompt_tokens']),
      completionTokens,
      last: finish !== undefined,
    };
  },
};
