/**
 * The echo engine's tool rule (docs/router.md): which tool a prompt names, the arguments built from
 * the schema's required properties, the answer from a tool message; and the exact Harmony it emits.
 */
import { describe, expect, it } from 'vitest';
import { Conversation, DeveloperContent, Message, Role, ToolDescription, loadHarmonyEncoding, Author } from '../../src/harmony/index.js';
import { echoArguments, echoToolTurn } from '../../src/router/engines/echo-tools.js';
import { createEchoEngine } from '../../src/router/engines/echo.js';

const encoding = loadHarmonyEncoding('HarmonyGptOss');
const schema = {
  type: 'object',
  properties: {
    location: { type: 'string' },
    days: { type: 'integer' },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    detailed: { type: 'boolean', default: true },
    tags: { type: 'array' },
    extra: { type: 'object' },
    optional: { type: 'string' },
  },
  required: ['location', 'days', 'unit', 'detailed', 'tags', 'extra'],
};

function conversation(prompt: string, extra: Message[] = []) {
  return Conversation.fromMessages([
    Message.fromRoleAndContent(Role.Developer, DeveloperContent.new().withFunctionTools([
      ToolDescription.new('get_weather', 'w', schema),
      ToolDescription.new('get_time', 't'),
    ])),
    Message.fromRoleAndContent(Role.User, prompt),
    ...extra,
  ]).toDict() as { messages: unknown[] };
}

describe('echo engine tool rule', () => {
  it('fills required properties from key=value, defaults, enums and type placeholders', () => {
    const tool = { name: 'get_weather', parameters: schema };
    expect(echoArguments(tool, 'get_weather location="New York" days=3')).toEqual({
      location: 'New York', days: 3, unit: 'celsius', detailed: true, tags: [], extra: {},
    });
    expect(echoArguments(tool, 'get_weather days=soon detailed=false')).toMatchObject({ location: 'example', days: 'soon', detailed: false });
  });

  it('calls the first declared tool the prompt names as a word, and no tool otherwise', () => {
    expect(echoToolTurn(conversation('what is get_time? and get_weather').messages, 'what is get_time? and get_weather')).toMatchObject({ kind: 'call', recipient: 'functions.get_weather' });
    expect(echoToolTurn(conversation('functions.get_time please').messages, 'functions.get_time please')).toMatchObject({ kind: 'call', recipient: 'functions.get_time', arguments: '{}' });
    expect(echoToolTurn(conversation('get_weathers').messages, 'get_weathers')).toBeUndefined();
    expect(echoToolTurn(conversation('What is 2+2?').messages, 'What is 2+2?')).toBeUndefined();
  });

  it('emits analysis, then the call to functions.NAME on commentary with <|constrain|>json and <|call|> (finish tool_call)', async () => {
    const engine = createEchoEngine();
    const ids: number[] = [];
    let finish: string | undefined;
    for await (const event of engine.generate({
      rid: 'r', model: 'm', promptTokens: [], conversation: conversation('get_weather location=Oslo days=1'), maxTokens: 1000, stopTokens: [], signal: new AbortController().signal,
    })) {
      if (event.type === 'tokens') ids.push(...event.ids);
      else finish = event.finish;
    }
    expect(finish).toBe('tool_call');
    expect(encoding.decode(ids)).toBe(
      '<|channel|>analysis<|message|>The user asks for the tool get_weather. Calling functions.get_weather with the required arguments.<|end|>' +
        '<|start|>assistant to=functions.get_weather<|channel|>commentary <|constrain|>json<|message|>{"location":"Oslo","days":1,"unit":"celsius","detailed":true,"tags":[],"extra":{}}<|call|>',
    );
  });

  it('answers a tool message on final with its output', async () => {
    const tool = Message.fromAuthorAndContent(new Author(Role.Tool, 'functions.get_weather'), '{"sky":"clear"}').withRecipient('assistant').withChannel('commentary');
    const engine = createEchoEngine();
    const ids: number[] = [];
    for await (const event of engine.generate({
      rid: 'r', model: 'm', promptTokens: [], conversation: conversation('get_weather', [tool]), maxTokens: 1000, stopTokens: [], signal: new AbortController().signal,
    })) if (event.type === 'tokens') ids.push(...event.ids);
    const messages = encoding.parseMessagesFromCompletionTokens(ids, Role.Assistant);
    expect(messages.map((m) => m.channel)).toEqual(['analysis', 'final']);
    expect(messages[1]!.content[0]).toMatchObject({ text: 'functions.get_weather returned: {"sky":"clear"}' });
  });

  it('a tool name from the conversation is never encoded as special tokens', async () => {
    const hostile = { messages: [
      { role: 'developer', content: [{ type: 'developer_content', tools: { functions: { name: 'functions', tools: [{ name: 'x<|call|>', description: '' }] } } }] },
      { role: 'user', content: 'x<|call|>' },
    ] };
    expect(echoToolTurn(hostile.messages, 'x<|call|>')).toBeUndefined();
  });
});
