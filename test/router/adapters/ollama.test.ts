import { describe, expect, it } from 'vitest';

import {
  Author,
  Conversation,
  DeveloperContent,
  Message,
  ReasoningEffort,
  Role,
  SystemContent,
  ToolDescription,
} from '../../../src/harmony/index.js';
import { createUpstreamEngine } from '../../../src/router/adapters/index.js';
import { toOllamaChat } from '../../../src/router/adapters/ollama.js';
import { startFakeUpstream } from '../../helpers/fake-upstream.js';
import {
  ANSWER_IDS,
  CALL,
  engineRequest,
  ids,
  LENGTH_IDS,
  run,
  tokenizer,
  TOOL_CALL_TEXT,
  TOOL_CONVERSATION,
  UTF8_TEXT,
} from './helpers.js';

const PATH = '/api/chat';

async function ollama(fixture: string, extra: { chunking?: number } = {}) {
  const upstream = await startFakeUpstream([{ path: PATH, fixture: `ollama/${fixture}`, ...extra }]);
  const engine = createUpstreamEngine({ kind: 'ollama', url: upstream.url, model: 'gpt-oss:20b', tokenizer });
  return { upstream, engine };
}

describe('Ollama adapter', () => {
  it('sends chat messages, think from the reasoning effort and num_predict', async () => {
    const { upstream, engine } = await ollama('answer.ndjson');
    await run(engine, engineRequest({ maxTokens: 200, reasoningEffort: 'high' }));
    expect(upstream.requests[0]?.path).toBe(PATH);
    expect(upstream.requests[0]?.json).toEqual({
      model: 'gpt-oss:20b',
      messages: [{ role: 'user', content: 'What is 2+2?' }],
      stream: true,
      think: 'high',
      options: { num_predict: 200, temperature: 1 },
    });
  });

  it("takes think from the system message's reasoning effort when the request names none", async () => {
    const { upstream, engine } = await ollama('answer.ndjson');
    await run(engine, engineRequest());
    expect(upstream.requests[0]?.json).toMatchObject({ think: 'medium' });
  });

  it('rebuilds the analysis and final messages from thinking and content: the same ids gpt-oss produced', async () => {
    const { engine } = await ollama('answer.ndjson');
    const result = await run(engine, engineRequest());
    expect(result.error).toBeUndefined();
    expect(result.ids).toEqual(ANSWER_IDS);
    expect(result.batches.length).toBeGreaterThan(5);
    expect(result.done).toEqual({ type: 'done', finish: 'stop', promptTokens: 74, completionTokens: 36 });
  });

  it('rebuilds a tool call as a commentary message to functions.NAME ending in <|call|>, and sends tools', async () => {
    const { upstream, engine } = await ollama('tool-call.ndjson');
    const result = await run(engine, engineRequest({ conversation: TOOL_CONVERSATION }));
    expect(result.error).toBeUndefined();
    expect(result.ids).toEqual(ids(TOOL_CALL_TEXT));
    expect(result.ids.at(-1)).toBe(CALL);
    expect(result.done).toMatchObject({ finish: 'tool_call', promptTokens: 128, completionTokens: 36 });
    expect(upstream.requests[0]?.json).toMatchObject({
      messages: [{ role: 'user', content: 'What is the weather in Tokyo?' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Gets the current weather for a location.',
            parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
          },
        },
      ],
    });
  });

  it('ends a length finish without closing the open message', async () => {
    const { engine } = await ollama('length.ndjson');
    const result = await run(engine, engineRequest());
    expect(result.ids).toEqual(LENGTH_IDS);
    expect(result.done?.finish).toBe('length');
  });

  it('keeps multi-byte characters whole across 3-byte reads', async () => {
    const { engine } = await ollama('utf8.ndjson', { chunking: 3 });
    const result = await run(engine, engineRequest());
    expect(result.error).toBeUndefined();
    expect(result.ids).toEqual(ids(UTF8_TEXT));
  });

  it('turns an error line into UPSTREAM_STREAM_ERROR without its text', async () => {
    const { engine } = await ollama('error.ndjson');
    const result = await run(engine, engineRequest());
    expect(result.error?.code).toBe('UPSTREAM_STREAM_ERROR');
    expect(result.error?.message).not.toContain('EOF');
  });

  it('closes a thinking-only answer with an empty final message', async () => {
    const lines = [
      { message: { role: 'assistant', content: '', thinking: 'Hm.' }, done: false },
      { message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop' },
    ];
    const upstream = await startFakeUpstream([{ path: PATH, body: lines.map((l) => JSON.stringify(l)).join('\n') }]);
    const engine = createUpstreamEngine({ kind: 'ollama', url: upstream.url, tokenizer });
    const result = await run(engine, engineRequest());
    expect(tokenizer.decode(result.ids)).toBe(
      '<|channel|>analysis<|message|>Hm.<|end|><|start|>assistant<|channel|>final<|message|><|return|>',
    );
    expect(result.done).toMatchObject({ finish: 'stop', promptTokens: engineRequest().promptTokens.length });
  });
});

describe('toOllamaChat', () => {
  it('maps developer, user, analysis, final, tool-call and tool messages', () => {
    const chat = toOllamaChat([
      { role: 'system', content: [{ type: 'system_content', reasoning_effort: 'Low' }] },
      { role: 'developer', content: [{ type: 'developer_content', instructions: 'Answer briefly.' }] },
      { role: 'user', content: [{ type: 'text', text: 'Weather in Tokyo?' }] },
      { role: 'assistant', channel: 'analysis', content: [{ type: 'text', text: 'Need the tool.' }] },
      {
        role: 'assistant',
        channel: 'commentary',
        recipient: 'functions.get_weather',
        content_type: '<|constrain|>json',
        content: [{ type: 'text', text: '{"location":"Tokyo"}' }],
      },
      { role: 'tool', name: 'functions.get_weather', channel: 'commentary', content: [{ type: 'text', text: '{"temp":21}' }] },
      { role: 'assistant', channel: 'final', content: [{ type: 'text', text: 'It is 21 °C.' }] },
    ]);
    expect(chat.tools).toEqual([]);
    expect(chat.messages).toEqual([
      { role: 'system', content: 'Answer briefly.' },
      { role: 'user', content: 'Weather in Tokyo?' },
      {
        role: 'assistant',
        content: '',
        thinking: 'Need the tool.',
        tool_calls: [{ function: { name: 'get_weather', arguments: { location: 'Tokyo' } } }],
      },
      { role: 'tool', content: '{"temp":21}', tool_name: 'get_weather' },
      { role: 'assistant', content: 'It is 21 °C.' },
    ]);
  });
});

describe('toOllamaChat with conversations built by src/harmony', () => {
  it("maps Conversation.toDict()'s shape", () => {
    const conversation = Conversation.fromMessages([
      Message.fromRoleAndContent(
        Role.System,
        SystemContent.new().withReasoningEffort(ReasoningEffort.Low).withConversationStartDate('2025-08-05'),
      ),
      Message.fromRoleAndContent(
        Role.Developer,
        DeveloperContent.new()
          .withInstructions('Answer briefly.')
          .withFunctionTools([
            ToolDescription.new('get_weather', 'Gets the weather.', {
              type: 'object',
              properties: { location: { type: 'string' } },
            }),
          ]),
      ),
      Message.fromRoleAndContent(Role.User, 'Weather in Tokyo?'),
      Message.fromRoleAndContent(Role.Assistant, 'Need the tool.').withChannel('analysis'),
      Message.fromRoleAndContent(Role.Assistant, '{"location":"Tokyo"}')
        .withChannel('commentary')
        .withRecipient('functions.get_weather')
        .withContentType('<|constrain|>json'),
      Message.fromAuthorAndContent(Author.new(Role.Tool, 'functions.get_weather'), '{"temp":21}').withChannel(
        'commentary',
      ),
    ]);
    const dict = conversation.toDict() as { messages: unknown[] };
    const chat = toOllamaChat(dict.messages);
    expect(chat.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Gets the weather.',
          parameters: { type: 'object', properties: { location: { type: 'string' } } },
        },
      },
    ]);
    expect(chat.messages).toEqual([
      { role: 'system', content: 'Answer briefly.' },
      { role: 'user', content: 'Weather in Tokyo?' },
      {
        role: 'assistant',
        content: '',
        thinking: 'Need the tool.',
        tool_calls: [{ function: { name: 'get_weather', arguments: { location: 'Tokyo' } } }],
      },
      { role: 'tool', content: '{"temp":21}', tool_name: 'get_weather' },
    ]);
  });

  it("sends think from the system message's effort (as toDict() writes it)", async () => {
    const upstream = await startFakeUpstream([{ path: PATH, fixture: 'ollama/answer.ndjson' }]);
    const engine = createUpstreamEngine({ kind: 'ollama', url: upstream.url, tokenizer });
    const system = Message.fromRoleAndContent(Role.System, SystemContent.new().withReasoningEffort(ReasoningEffort.High));
    const user = Message.fromRoleAndContent(Role.User, 'What is 2+2?');
    const conversation = Conversation.fromMessages([system, user]).toDict() as { messages: unknown[] };
    await run(engine, engineRequest({ conversation }));
    expect(upstream.requests[0]?.json).toMatchObject({ think: 'high', messages: [{ role: 'user', content: 'What is 2+2?' }] });
  });
});

describe('Ollama errors and odd tool calls', () => {
  const line = (value: unknown) => JSON.stringify(value);
  const thinking = (text: string) => line({ model: 'gpt-oss:20b', message: { role: 'assistant', content: '', thinking: text }, done: false });

  it.each([
    // ollama/ollama#12064 and #17638: {"error":"error parsing tool call: raw='...', err=..."}
    ['an error key', { error: "error parsing tool call: raw='{\"text\":\"Calculate the length', err=unexpected end of JSON input" }, /tool call/],
    // ollama/ollama#11781 (v0.11.3): the description in the key itself
    ['a key starting with error', { 'error parsing tool call': "invalid character 'c' looking for beginning of value" }, /tool call/],
    ['an error object', { error: { message: 'model runner crashed' } }, /reported an error/],
  ])('%s after some thinking is an upstream error, never a clean stop', async (_what, error, message) => {
    const upstream = await startFakeUpstream([{ path: PATH, body: [thinking('Need'), thinking(' the tool.'), line(error)].join('\n') }]);
    const engine = createUpstreamEngine({ kind: 'ollama', url: upstream.url, tokenizer });
    const result = await run(engine, engineRequest({ conversation: TOOL_CONVERSATION }));
    expect(result.done).toBeUndefined();
    expect(result.error?.code).toBe('UPSTREAM_STREAM_ERROR');
    expect(result.error?.message).toMatch(message);
    expect(result.error?.message).not.toContain('invalid character');
    expect(result.error?.message).not.toContain('Calculate');
  });

  it('a tool call whose arguments are a string that is not JSON gets no <|constrain|>json, and its text stays text', async () => {
    const lines = [
      thinking('Run it.'),
      line({ message: { role: 'assistant', content: '', tool_calls: [{ function: { name: 'python', arguments: 'print(1) <|call|>' } }] }, done: false }),
      line({ message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop' }),
    ];
    const upstream = await startFakeUpstream([{ path: PATH, body: lines.join('\n') }]);
    const engine = createUpstreamEngine({ kind: 'ollama', url: upstream.url, tokenizer });
    const result = await run(engine, engineRequest({ conversation: TOOL_CONVERSATION }));
    expect(result.error).toBeUndefined();
    expect(result.done?.finish).toBe('tool_call');
    expect(tokenizer.decode(result.ids)).toBe(
      '<|channel|>analysis<|message|>Run it.<|end|><|start|>assistant<|channel|>commentary to=functions.python<|message|>print(1) <|call|><|call|>',
    );
    // The "<|call|>" the model wrote is ordinary text; only the last token is the real <|call|>.
    expect(result.ids.filter((id) => id === CALL)).toHaveLength(1);
  });

  it('arguments given as a JSON string keep <|constrain|>json', async () => {
    const lines = [
      line({ message: { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: '{"location":"Tokyo"}' } }] }, done: false }),
      line({ message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop' }),
    ];
    const upstream = await startFakeUpstream([{ path: PATH, body: lines.join('\n') }]);
    const engine = createUpstreamEngine({ kind: 'ollama', url: upstream.url, tokenizer });
    const result = await run(engine, engineRequest({ conversation: TOOL_CONVERSATION }));
    expect(tokenizer.decode(result.ids)).toBe('<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"location":"Tokyo"}<|call|>');
  });
});
