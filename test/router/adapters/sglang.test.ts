import { describe, expect, it } from 'vitest';

import { createUpstreamEngine } from '../../../src/router/adapters/index.js';
import { readUpstreamFixture, startFakeUpstream } from '../../helpers/fake-upstream.js';
import {
  ANSWER_IDS,
  CALL,
  engineRequest,
  ids,
  LENGTH_IDS,
  PROMPT_TEXT,
  RETURN,
  run,
  tokenizer,
  TOOL_CALL_TEXT,
  TOOL_PROMPT_TEXT,
} from './helpers.js';

const PATH = '/generate';

async function sglang(route: { fixture?: string; body?: string; chunking?: number | 'line' }) {
  const upstream = await startFakeUpstream([
    { path: PATH, ...route, ...(route.fixture !== undefined ? { fixture: `sglang/${route.fixture}` } : {}) },
  ]);
  const engine = createUpstreamEngine({ kind: 'sglang', url: upstream.url, tokenizer });
  return { upstream, engine };
}

describe('SGLang adapter', () => {
  it('sends input_ids and sampling_params with max_new_tokens and the stop ids', async () => {
    const { upstream, engine } = await sglang({ fixture: 'cumulative.sse' });
    await run(engine, engineRequest({ maxTokens: 128 }));
    expect(upstream.requests[0]?.path).toBe(PATH);
    expect(upstream.requests[0]?.json).toEqual({
      input_ids: ids(PROMPT_TEXT),
      sampling_params: {
        max_new_tokens: 128,
        temperature: 1,
        stop_token_ids: [RETURN, CALL],
        skip_special_tokens: false,
        no_stop_trim: true,
      },
      stream: true,
    });
  });

  it('turns cumulative output_ids into increments and synthesizes the trimmed <|return|>', async () => {
    const fixture = readUpstreamFixture('sglang/cumulative.sse');
    expect(fixture).toContain('"matched":200002');
    const { engine } = await sglang({ fixture: 'cumulative.sse' });
    const result = await run(engine, engineRequest());
    expect(result.error).toBeUndefined();
    expect(result.ids).toEqual(ANSWER_IDS);
    expect(result.batches.at(-1)).toEqual([RETURN]);
    expect(result.done).toEqual({ type: 'done', finish: 'stop', promptTokens: 74, completionTokens: 36 });
  });

  it('handles cumulative streams cut into 31-byte reads', async () => {
    const { engine } = await sglang({ fixture: 'cumulative.sse', chunking: 31 });
    const result = await run(engine, engineRequest());
    expect(result.ids).toEqual(ANSWER_IDS);
  });

  it('relays incremental output_ids (several tokens per event) as they are', async () => {
    const { engine } = await sglang({ fixture: 'incremental.sse' });
    const result = await run(engine, engineRequest());
    expect(result.error).toBeUndefined();
    expect(result.ids).toEqual(ANSWER_IDS);
    expect(result.batches[0]).toEqual(ANSWER_IDS.slice(0, 3));
    expect(result.done?.finish).toBe('stop');
  });

  it('synthesizes <|call|> from matched for a tool call', async () => {
    const { engine } = await sglang({ fixture: 'tool-call.sse' });
    const result = await run(engine, engineRequest({ promptTokens: ids(TOOL_PROMPT_TEXT) }));
    expect(result.ids).toEqual(ids(TOOL_CALL_TEXT));
    expect(result.done).toMatchObject({ finish: 'tool_call', promptTokens: 128 });
  });

  it('ends a length finish without a closing token', async () => {
    const { engine } = await sglang({ fixture: 'length.sse' });
    const result = await run(engine, engineRequest());
    expect(result.ids).toEqual(LENGTH_IDS);
    expect(result.done?.finish).toBe('length');
  });

  it('turns an error event into UPSTREAM_STREAM_ERROR without its text', async () => {
    const { engine } = await sglang({ fixture: 'error.sse' });
    const result = await run(engine, engineRequest());
    expect(result.error?.code).toBe('UPSTREAM_STREAM_ERROR');
    expect(result.error?.message).not.toContain('context length');
    expect(result.ids.length).toBeGreaterThan(0);
  });

  it('refuses cumulative ids that stop extending what came before', async () => {
    const event = (outputIds: number[], total: number) =>
      `data: ${JSON.stringify({ text: '', output_ids: outputIds, meta_info: { finish_reason: null, completion_tokens: total } })}\n\n`;
    const body = event([200005], 1) + event([200005, 35644], 2) + event([200005, 999, 200008], 3);
    const { engine } = await sglang({ body, chunking: 'line' });
    const result = await run(engine, engineRequest());
    expect(result.error?.code).toBe('UPSTREAM_BAD_STREAM');
    expect(result.ids).toEqual([200005, 35644]);
  });

  it('reports an abort finish as UPSTREAM_STREAM_ERROR', async () => {
    const body = `data: ${JSON.stringify({ text: 'x', output_ids: [87], meta_info: { finish_reason: { type: 'abort', message: 'Abort before prefill' } } })}\n\n`;
    const { engine } = await sglang({ body });
    const result = await run(engine, engineRequest());
    expect(result.error?.code).toBe('UPSTREAM_STREAM_ERROR');
    expect(result.error?.message).toContain("'abort'");
    expect(result.error?.message).not.toContain('prefill');
  });
});
