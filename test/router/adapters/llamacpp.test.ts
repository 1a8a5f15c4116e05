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

const PATH = '/completion';

async function llamacpp(route: { fixture?: string; body?: string }) {
  const upstream = await startFakeUpstream([
    {
      path: PATH,
      ...(route.fixture !== undefined ? { fixture: `llamacpp/${route.fixture}` } : {}),
      ...(route.body !== undefined ? { body: route.body, chunking: 'line' as const } : {}),
    },
  ]);
  const engine = createUpstreamEngine({ kind: 'llamacpp', url: upstream.url, tokenizer });
  return { upstream, engine };
}

describe('llama.cpp adapter', () => {
  it('sends the prompt as a token array with n_predict, return_tokens and the stop strings', async () => {
    const { upstream, engine } = await llamacpp({ fixture: 'basic.sse' });
    await run(engine, engineRequest({ maxTokens: 512 }));
    expect(upstream.requests[0]?.path).toBe(PATH);
    expect(upstream.requests[0]?.json).toEqual({
      prompt: ids(PROMPT_TEXT),
      n_predict: 512,
      temperature: 1,
      stream: true,
      return_tokens: true,
      stop: ['<|return|>', '<|call|>'],
      ignore_eos: false,
      cache_prompt: true,
    });
  });

  it('relays the tokens of each event, the end-of-generation token included', async () => {
    const { engine } = await llamacpp({ fixture: 'basic.sse' });
    const result = await run(engine, engineRequest());
    expect(result.error).toBeUndefined();
    expect(result.ids).toEqual(ANSWER_IDS);
    expect(result.done).toEqual({ type: 'done', finish: 'stop', promptTokens: 74, completionTokens: 36 });
  });

  it('infers <|return|> when an eos stop left the token out', async () => {
    const { engine } = await llamacpp({ fixture: 'omitted-close.sse' });
    const result = await run(engine, engineRequest());
    expect(result.ids).toEqual(ANSWER_IDS);
    expect(result.batches.at(-1)).toEqual([RETURN]);
  });

  it('maps a stopping word <|call|> to a synthesized <|call|> and finish tool_call', async () => {
    const { engine } = await llamacpp({ fixture: 'tool-call.sse' });
    const result = await run(engine, engineRequest({ promptTokens: ids(TOOL_PROMPT_TEXT) }));
    expect(result.ids).toEqual(ids(TOOL_CALL_TEXT));
    expect(result.done).toMatchObject({ finish: 'tool_call', promptTokens: 128, completionTokens: 36 });
  });

  it('infers <|call|> from the recipient in the last header when an eos stop names no token', async () => {
    const body = readUpstreamFixture('llamacpp/tool-call.sse')
      .replace('"stop_type":"word"', '"stop_type":"eos"')
      .replace('"stopping_word":"<|call|>"', '"stopping_word":""');
    const { engine } = await llamacpp({ body });
    const result = await run(engine, engineRequest());
    expect(result.ids.at(-1)).toBe(CALL);
    expect(result.ids).toEqual(ids(TOOL_CALL_TEXT));
    expect(result.done?.finish).toBe('tool_call');
  });

  it('maps stop_type limit to a length finish with no closing token', async () => {
    const { engine } = await llamacpp({ fixture: 'length.sse' });
    const result = await run(engine, engineRequest());
    expect(result.ids).toEqual(LENGTH_IDS);
    expect(result.done?.finish).toBe('length');
  });

  it("turns an 'error:' line into UPSTREAM_STREAM_ERROR without its text", async () => {
    const { engine } = await llamacpp({ fixture: 'error.sse' });
    const result = await run(engine, engineRequest());
    expect(result.error?.code).toBe('UPSTREAM_STREAM_ERROR');
    expect(result.error?.message).not.toContain('slot');
    expect(result.ids).toEqual(ANSWER_IDS.slice(0, 5));
  });
});
