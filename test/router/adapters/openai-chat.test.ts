import { describe, expect, it } from 'vitest';

import { createUpstreamEngine } from '../../../src/router/adapters/index.js';
import { toChatCompletions } from '../../../src/router/adapters/openai-chat.js';
import { startFakeUpstream } from '../../helpers/fake-upstream.js';
import { ANSWER_IDS, CALL, engineRequest, ids, LENGTH_IDS, run, tokenizer, TOOL_CALL_TEXT, TOOL_CONVERSATION } from './helpers.js';

const PATH = '/v1/chat/completions';

async function chat(fixture: string, extra: { chunking?: number } = {}) {
  const upstream = await startFakeUpstream([{ path: PATH, fixture: `openai-chat/${fixture}`, ...extra }]);
  const engine = createUpstreamEngine({ kind: 'vllm', api: 'chat', url: upstream.url, model: 'openai/gpt-oss-20b', tokenizer });
  return { upstream, engine };
}

describe('chat-completions adapter (--harmony off --upstream-api chat)', () => {
  it('sends the conversation as chat messages, not the rendered prompt', async () => {
    const { upstream, engine } = await chat('answer.sse');
    expect(engine.name).toBe('upstream:vllm:chat');
    await run(engine, engineRequest({ maxTokens: 200, reasoningEffort: 'high' }));
    expect(upstream.requests[0]?.path).toBe(PATH);
    expect(upstream.requests[0]?.json).toEqual({
      model: 'openai/gpt-oss-20b',
      messages: [{ role: 'user', content: 'What is 2+2?' }],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 200,
      temperature: 1,
      reasoning_effort: 'high',
    });
  });

  it.each([undefined, 7])('maps reasoning_content to analysis and content to final: the ids gpt-oss produced (chunking %s)', async (chunking) => {
    const { engine } = await chat('answer.sse', chunking ? { chunking } : {});
    const result = await run(engine, engineRequest());
    expect(result.error).toBeUndefined();
    expect(result.ids).toEqual(ANSWER_IDS);
    expect(result.done).toEqual({ type: 'done', finish: 'stop', promptTokens: 74, completionTokens: 36 });
  });

  it('assembles streamed tool-call arguments into one commentary message to functions.NAME (reasoning field)', async () => {
    const { upstream, engine } = await chat('tool-call.sse');
    const result = await run(engine, engineRequest({ conversation: TOOL_CONVERSATION }));
    expect(result.error).toBeUndefined();
    expect(result.ids).toEqual(ids(TOOL_CALL_TEXT));
    expect(result.ids.at(-1)).toBe(CALL);
    expect(result.done).toMatchObject({ finish: 'tool_call', promptTokens: 128 });
    expect(upstream.requests[0]?.json).toMatchObject({ tools: [{ type: 'function', function: { name: 'get_weather' } }] });
  });

  it('a length finish ends without a closing token', async () => {
    const { engine } = await chat('length.sse');
    const result = await run(engine, engineRequest());
    expect(result.error).toBeUndefined();
    expect(result.done?.finish).toBe('length');
    expect(tokenizer.decode(result.ids)).toBe(tokenizer.decode(LENGTH_IDS.slice(0, 3)) + 'User asks: "What is 2');
  });

  it('a stream that ends without a finish reason is UPSTREAM_TRUNCATED', async () => {
    const { engine } = await chat('truncated.sse');
    const result = await run(engine, engineRequest());
    expect(result.error?.code).toBe('UPSTREAM_TRUNCATED');
  });

  it('maps tool calls and their answers in a saved conversation to tool_calls and tool_call_id', () => {
    const { messages } = toChatCompletions([
      { role: 'user', content: [{ type: 'text', text: 'weather?' }] },
      { role: 'assistant', channel: 'analysis', content: [{ type: 'text', text: 'think' }] },
      { role: 'assistant', channel: 'commentary', recipient: 'functions.get_weather', content: [{ type: 'text', text: '{"location":"Tokyo"}' }] },
      { role: 'tool', name: 'functions.get_weather', content: [{ type: 'text', text: '{"t":20}' }] },
    ]);
    expect(messages).toEqual([
      { role: 'user', content: 'weather?' },
      {
        role: 'assistant',
        content: '',
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Tokyo"}' } }],
      },
      { role: 'tool', content: '{"t":20}', tool_call_id: 'call_1' },
    ]);
  });
});
