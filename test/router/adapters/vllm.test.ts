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
  UTF8_TEXT,
} from './helpers.js';

const PATH = '/v1/completions';

async function vllm(fixture: string, extra: { chunking?: number } = {}) {
  const upstream = await startFakeUpstream([{ path: PATH, fixture: `vllm/${fixture}`, ...extra }]);
  const engine = createUpstreamEngine({ kind: 'vllm', url: upstream.url, tokenizer });
  return { upstream, engine };
}

describe('vLLM adapter', () => {
  it('sends the prompt as ids with return_token_ids, max tokens and the stop ids', async () => {
    const upstream = await startFakeUpstream([{ path: PATH, fixture: 'vllm/basic.sse' }]);
    const engine = createUpstreamEngine({
      kind: 'vllm',
      url: `${upstream.url}/v1/`,
      model: 'openai/gpt-oss-20b',
      apiKey: 'sk-test-secret',
      tokenizer,
    });
    const result = await run(engine, engineRequest({ maxTokens: 300, temperature: 0.25 }));
    expect(result.error).toBeUndefined();
    expect(upstream.requests).toHaveLength(1);
    const sent = upstream.requests[0];
    expect(sent?.path).toBe(PATH);
    expect(sent?.headers['authorization']).toBe('Bearer sk-test-secret');
    expect(sent?.headers['content-type']).toBe('application/json');
    expect(sent?.json).toEqual({
      model: 'openai/gpt-oss-20b',
      prompt: ids(PROMPT_TEXT),
      max_tokens: 300,
      temperature: 0.25,
      stream: true,
      stream_options: { include_usage: true },
      stop_token_ids: [RETURN, CALL],
      skip_special_tokens: false,
      include_stop_str_in_output: true,
      return_token_ids: true,
      return_tokens_as_token_ids: true,
      logprobs: 0,
    });
  });

  it('uses the request model and temperature 1.0 by default, and no authorization without a key', async () => {
    const { upstream, engine } = await vllm('basic.sse');
    await run(engine, engineRequest());
    expect(upstream.requests[0]?.json).toMatchObject({ model: 'gpt-oss-20b', temperature: 1 });
    expect(upstream.requests[0]?.headers['authorization']).toBeUndefined();
  });

  it('relays the token ids of each event (several per event, pings ignored) and the closing token', async () => {
    expect(readUpstreamFixture('vllm/basic.sse')).toContain(': ping');
    const { engine } = await vllm('basic.sse');
    const result = await run(engine, engineRequest());
    expect(result.error).toBeUndefined();
    expect(result.ids).toEqual(ANSWER_IDS);
    expect(result.batches.some((batch) => batch.length > 1)).toBe(true);
    expect(result.batches[0]).toEqual([200005]);
    expect(result.done).toEqual({ type: 'done', finish: 'stop', promptTokens: 74, completionTokens: 36 });
    expect(result.events.at(-1)?.type).toBe('done');
  });

  it('synthesizes <|return|> when the upstream leaves the closing token out', async () => {
    const { engine } = await vllm('omitted-close.sse');
    const result = await run(engine, engineRequest());
    expect(result.error).toBeUndefined();
    expect(result.ids).toEqual(ANSWER_IDS);
    expect(result.batches.at(-1)).toEqual([RETURN]);
    expect(result.done?.finish).toBe('stop');
  });

  it('synthesizes <|call|> from stop_reason for a tool call, finish tool_call', async () => {
    const { engine } = await vllm('tool-call.sse');
    const result = await run(engine, engineRequest({ promptTokens: ids(TOOL_PROMPT_TEXT) }));
    expect(result.error).toBeUndefined();
    expect(result.ids).toEqual(ids(TOOL_CALL_TEXT));
    expect(result.ids.at(-1)).toBe(CALL);
    expect(result.done).toMatchObject({ finish: 'tool_call', promptTokens: 128, completionTokens: 36 });
  });

  it('ends a length finish without a closing token', async () => {
    const { engine } = await vllm('length.sse');
    const result = await run(engine, engineRequest());
    expect(result.ids).toEqual(LENGTH_IDS);
    expect(result.done).toMatchObject({ finish: 'length', completionTokens: 12 });
  });

  it('keeps multi-byte characters whole when reads cut them (7-byte chunks) and relays partial-UTF-8 tokens', async () => {
    const { engine } = await vllm('utf8.sse', { chunking: 7 });
    const result = await run(engine, engineRequest());
    expect(result.error).toBeUndefined();
    expect(result.ids).toEqual(ids(UTF8_TEXT));
    expect(tokenizer.decode(result.ids)).toBe(UTF8_TEXT);
  });

  it('turns an error object in the stream into UPSTREAM_STREAM_ERROR without its text', async () => {
    const { engine } = await vllm('error.sse');
    const result = await run(engine, engineRequest());
    expect(result.error?.code).toBe('UPSTREAM_STREAM_ERROR');
    expect(result.error?.message).not.toContain('EngineCore');
    expect(result.ids).toEqual(ANSWER_IDS.slice(0, 6));
    expect(result.done).toBeUndefined();
  });

  it('fails with UPSTREAM_TRUNCATED when the stream ends without a finish reason', async () => {
    for (const fixture of ['truncated.sse', 'done-without-finish.sse']) {
      const { engine } = await vllm(fixture);
      const result = await run(engine, engineRequest());
      expect(result.error?.code, fixture).toBe('UPSTREAM_TRUNCATED');
      expect(result.ids).toEqual(ANSWER_IDS.slice(0, 10));
    }
  });

  it('fails with UPSTREAM_BAD_STREAM on a malformed event, without quoting it', async () => {
    const { engine } = await vllm('malformed.sse');
    const result = await run(engine, engineRequest());
    expect(result.error?.code).toBe('UPSTREAM_BAD_STREAM');
    expect(result.error?.message).not.toContain('token_ids');
    expect(result.ids).toEqual(ANSWER_IDS.slice(0, 4));
  });

  it('falls back to encoding the text when the server sends no token_ids (older vLLM)', async () => {
    const fixture = readUpstreamFixture('vllm/basic.sse').replace(/,"token_ids":\[[0-9,]*\]/g, '');
    expect(fixture).not.toMatch(/"token_ids"/);
    const upstream = await startFakeUpstream([{ path: PATH, body: fixture, chunking: 'line' }]);
    const engine = createUpstreamEngine({ kind: 'vllm', url: upstream.url, tokenizer });
    const result = await run(engine, engineRequest());
    expect(result.error).toBeUndefined();
    expect(result.ids).toEqual(ANSWER_IDS);
    expect(result.done?.finish).toBe('stop');
  });
});

describe('vLLM without return_token_ids', () => {
  // Older vLLM ignores return_token_ids; with return_tokens_as_token_ids and logprobs each choice's
  // logprobs.tokens holds the sampled ids as "token_id:N" strings (the shape parsed by e.g.
  // NVIDIA-NeMo/Gym#1300), while `text` has the decoded text.
  const chunk = (slice: number[], finish: string | null, stop: number | null = null) => ({
    id: 'cmpl-old',
    object: 'text_completion',
    model: 'openai/gpt-oss-20b',
    choices: [
      {
        index: 0,
        text: tokenizer.decode(slice),
        logprobs: { tokens: slice.map((id) => `token_id:${id}`), token_logprobs: slice.map(() => -0.01), top_logprobs: null, text_offset: [] },
        finish_reason: finish,
        stop_reason: stop,
      },
    ],
  });

  it('relays the token_id:N ids as they are (a tool call keeps <|constrain|> and ends in <|call|>)', async () => {
    const callIds = ids(TOOL_CALL_TEXT);
    const events = [];
    for (let at = 0; at < callIds.length; at += 5) {
      const slice = callIds.slice(at, at + 5);
      events.push(chunk(slice, at + 5 >= callIds.length ? 'stop' : null, at + 5 >= callIds.length ? CALL : null));
    }
    const body = `${events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('')}data: [DONE]\n\n`;
    const upstream = await startFakeUpstream([{ path: PATH, body }]);
    const engine = createUpstreamEngine({ kind: 'vllm', url: upstream.url, tokenizer });
    const result = await run(engine, engineRequest({ promptTokens: ids(TOOL_PROMPT_TEXT) }));
    expect(result.error).toBeUndefined();
    expect(result.ids).toEqual(callIds);
    expect(result.done?.finish).toBe('tool_call');
  });

  it('uses the ids even where re-encoding the text would give other tokens', async () => {
    // "<|channel|>" spelled by two ordinary tokens is text, not the special token: only the ids tell.
    const odd = [...tokenizer.encode('<|channel|>final<|message|>', { allowedSpecial: 'all' }), 27, 91, 13212, 91, 29, RETURN];
    const body = `data: ${JSON.stringify(chunk(odd, 'stop', RETURN))}\n\ndata: [DONE]\n\n`;
    const upstream = await startFakeUpstream([{ path: PATH, body }]);
    const engine = createUpstreamEngine({ kind: 'vllm', url: upstream.url, tokenizer });
    const result = await run(engine, engineRequest());
    expect(result.error).toBeUndefined();
    expect(result.ids).toEqual(odd);
  });

  it('refuses logprobs tokens that are not token_id:N strings', async () => {
    const bad = chunk([200005], null);
    (bad.choices[0]!.logprobs as { tokens: string[] }).tokens = ['<|channel|>'];
    const upstream = await startFakeUpstream([{ path: PATH, body: `data: ${JSON.stringify(bad)}\n\ndata: [DONE]\n\n` }]);
    const engine = createUpstreamEngine({ kind: 'vllm', url: upstream.url, tokenizer });
    const result = await run(engine, engineRequest());
    expect(result.error?.code).toBe('UPSTREAM_BAD_STREAM');
  });
});
