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
  UTF8_TEXT,
} from './helpers.js';

const PATH = '/v1/completions';

async function openai(fixture: string, chunking?: number) {
  const upstream = await startFakeUpstream([
    { path: PATH, fixture: `openai-completions/${fixture}`, ...(chunking !== undefined ? { chunking } : {}) },
  ]);
  const engine = createUpstreamEngine({ kind: 'openai-completions', url: `${upstream.url}/v1`, tokenizer });
  return { upstream, engine };
}

describe('generic OpenAI-compatible completions adapter', () => {
  it('sends the prompt as ids with max_tokens and the stop strings', async () => {
    const { upstream, engine } = await openai('basic.sse');
    await run(engine, engineRequest({ maxTokens: 64 }));
    expect(upstream.requests[0]?.path).toBe(PATH);
    expect(upstream.requests[0]?.json).toEqual({
      model: 'gpt-oss-20b',
      prompt: ids(PROMPT_TEXT),
      max_tokens: 64,
      temperature: 1,
      stream: true,
      stream_options: { include_usage: true },
      stop: ['<|return|>', '<|call|>'],
      skip_special_tokens: false,
    });
  });

  it('encodes text cut anywhere (inside special tokens and words) to the exact ids, then <|return|>', async () => {
    const fixture = readUpstreamFixture('openai-completions/basic.sse');
    expect(fixture).toContain('"text":"<|c"');
    const { engine } = await openai('basic.sse');
    const result = await run(engine, engineRequest());
    expect(result.error).toBeUndefined();
    expect(result.ids).toEqual(ANSWER_IDS);
    expect(result.ids.at(-1)).toBe(RETURN);
    // Streamed, not all at the end.
    expect(result.batches.length).toBeGreaterThan(5);
    expect(result.done).toEqual({ type: 'done', finish: 'stop', promptTokens: 74, completionTokens: 36 });
  });

  it('infers <|call|> for a stop inside a tool call', async () => {
    const { engine } = await openai('tool-call.sse');
    const result = await run(engine, engineRequest());
    expect(result.ids).toEqual(ids(TOOL_CALL_TEXT));
    expect(result.ids.at(-1)).toBe(CALL);
    expect(result.done?.finish).toBe('tool_call');
  });

  it('ends a length finish with the held-back text and no closing token', async () => {
    const { engine } = await openai('length.sse');
    const result = await run(engine, engineRequest());
    expect(result.ids).toEqual(LENGTH_IDS);
    expect(result.done?.finish).toBe('length');
  });

  it('keeps multi-byte characters whole across 5-byte reads', async () => {
    const { engine } = await openai('utf8.sse', 5);
    const result = await run(engine, engineRequest());
    expect(result.error).toBeUndefined();
    expect(result.ids).toEqual(ids(UTF8_TEXT));
  });
});
