/**
 * The model and its JSON: toJson() must be byte-for-byte what openai_harmony's Python classes
 * produce (expected strings generated with them, see python-to-json.ts), fromJson() must read that
 * and the Rust serde shape, and a conversation read from JSON must render like the one built in code.
 */
import { describe, expect, test } from 'vitest';
import {
  Author,
  ChannelConfig,
  Conversation,
  DeveloperContent,
  HarmonyErrorCode,
  Message,
  ReasoningEffort,
  RenderConversationConfig,
  RenderOptions,
  Role,
  SystemContent,
  TextContent,
  ToolDescription,
  ToolNamespaceConfig,
  UsageError,
  loadHarmonyEncoding,
} from '../../src/harmony/index.js';
import { PYTHON_TO_JSON } from './python-to-json.js';

const encoding = loadHarmonyEncoding('HarmonyGptOss');

function conversations(): Record<keyof typeof PYTHON_TO_JSON, Conversation> {
  const sysNone = SystemContent.new();
  sysNone.modelIdentity = undefined;
  sysNone.reasoningEffort = undefined;
  sysNone.knowledgeCutoff = undefined;
  sysNone.channelConfig = undefined;
  return {
    simple: Conversation.fromMessages([
      Message.fromRoleAndContent(Role.System, SystemContent.new().withModelIdentity('You are ChatGPT, a large language model trained by OpenAI.')),
      Message.fromRoleAndContent(Role.User, 'What is 2 + 2?'),
    ]),
    tools: Conversation.fromMessages([
      Message.fromRoleAndContent(
        Role.System,
        SystemContent.new()
          .withReasoningEffort(ReasoningEffort.High)
          .withConversationStartDate('2025-06-28')
          .withTools(
            ToolNamespaceConfig.new('browser', 'Tool for browsing.\nLine two', [
              ToolDescription.new('search', 'Searches.', {
                type: 'object',
                properties: { query: { type: 'string' }, topn: { type: 'number', default: 10 }, ratio: { type: 'number', default: 0.5 } },
                required: ['query'],
              }),
            ]),
          ),
      ),
      Message.fromRoleAndContent(
        Role.Developer,
        DeveloperContent.new()
          .withInstructions('Always respond in riddles')
          .withFunctionTools([
            ToolDescription.new('get_location', 'Gets the location of the user.'),
            ToolDescription.new('get_current_weather', 'Gets the current weather in the provided location.', {
              type: 'object',
              properties: {
                location: { type: 'string', description: 'The city and state, e.g. San Francisco, CA' },
                format: { type: 'string', enum: ['celsius', 'fahrenheit'], default: 'celsius' },
              },
              required: ['location'],
            }),
          ]),
      ),
      Message.fromRoleAndContent(Role.User, 'What is the weather like in SF?'),
    ]),
    tool_call: Conversation.fromMessages([
      Message.fromRoleAndContent(Role.User, 'What is the weather in SF?'),
      Message.fromRoleAndContent(
        Role.Assistant,
        'User asks: \u201cWhat is the weather in SF?\u201d We need to use lookup_weather tool. \u{1F600} caf\u00e9\ttab',
      ).withChannel('analysis'),
      Message.fromRoleAndContent(Role.Assistant, '{"location": "San Francisco"}')
        .withChannel('commentary')
        .withRecipient('functions.lookup_weather')
        .withContentType('<|constrain|>json'),
      Message.fromAuthorAndContent(Author.new(Role.Tool, 'functions.lookup_weather'), '{"temperature": 20, "description": "sunny"}')
        .withChannel('commentary')
        .withRecipient('assistant'),
      Message.fromRoleAndContent(Role.User, 'first').addingContent('second'),
      Message.fromAuthorAndContent(Author.new(Role.User, 'alice'), 'hi'),
      Message.fromRoleAndContent(Role.System, SystemContent.new().withRequiredChannels(['analysis', 'final']).withKnowledgeCutoff('2021-01')),
    ]),
    system_none: Conversation.fromMessages([
      Message.fromRoleAndContent(Role.System, sysNone),
      Message.fromRoleAndContent(Role.Developer, DeveloperContent.new()),
    ]),
  };
}

describe('JSON in the shape of the Python bindings', () => {
  const built = conversations();
  test.each(Object.keys(PYTHON_TO_JSON) as Array<keyof typeof PYTHON_TO_JSON>)('%s: toJson() is byte-for-byte Python to_json()', (name) => {
    expect(built[name].toJson()).toBe(PYTHON_TO_JSON[name]);
    expect(JSON.parse(built[name].toJson())).toEqual(built[name].toDict());
  });

  test.each(Object.keys(PYTHON_TO_JSON) as Array<keyof typeof PYTHON_TO_JSON>)('%s: fromJson(toJson) round-trips and renders the same tokens', (name) => {
    const parsed = Conversation.fromJson(PYTHON_TO_JSON[name]);
    expect(parsed.toJson()).toBe(PYTHON_TO_JSON[name]);
    // Parsed numbers are JsonNumbers (source text kept); as JSON values they equal the built ones.
    const plain = (c: Conversation) => JSON.parse(JSON.stringify(c.toDict())) as unknown;
    expect(plain(parsed)).toEqual(plain(built[name]));
    expect(encoding.renderConversationForCompletion(parsed, Role.Assistant)).toEqual(
      encoding.renderConversationForCompletion(built[name], Role.Assistant),
    );
  });

  test('Message.toJson/fromJson and toDict/fromDict', () => {
    const message = Message.fromAuthorAndContent(Author.new(Role.Tool, 'browser.search'), 'r\u00e9sult').withRecipient('assistant');
    expect(message.toJson()).toBe('{"role": "tool", "name": "browser.search", "content": [{"type": "text", "text": "r\\u00e9sult"}], "recipient": "assistant"}');
    expect(Message.fromJson(message.toJson())).toEqual(message);
    expect(Message.fromDict(message.toDict())).toEqual(message);
  });

  test('reads the Rust serde shape: content as a string, no name, null fields', () => {
    const parsed = Conversation.fromJson(
      '{"messages":[{"role":"assistant","recipient":"functions.f","content":"{\\"a\\":1}","channel":"commentary","content_type":"<|constrain|>json"},{"role":"user","name":null,"content":"hi","channel":null}]}',
    );
    expect(parsed.messages).toEqual([
      Message.fromRoleAndContent(Role.Assistant, '{"a":1}').withRecipient('functions.f').withChannel('commentary').withContentType('<|constrain|>json'),
      Message.fromRoleAndContent(Role.User, 'hi'),
    ]);
  });

  test('a missing system-content field is unset (as the reference renderer reads it), not defaulted', () => {
    const parsed = Conversation.fromJson('{"messages": [{"role": "system", "content": [{"type": "system_content", "model_identity": "X"}]}]}');
    const sys = parsed.messages[0]!.content[0] as SystemContent;
    expect(sys.modelIdentity).toBe('X');
    expect(sys.reasoningEffort).toBeUndefined();
    expect(sys.channelConfig).toBeUndefined();
    expect(encoding.decodeUtf8(encoding.renderConversation(parsed))).toBe('<|start|>system<|message|>X<|end|>');
  });

  test('refuses JSON of the wrong shape with a typed error', () => {
    const bad = [
      'not json',
      '{}',
      '{"messages": [{"content": "no role"}]}',
      '{"messages": [{"role": "robot", "content": "x"}]}',
      '{"messages": [{"role": "user", "content": [{"type": "image"}]}]}',
      '{"messages": [{"role": "user", "content": 5}]}',
      '{"messages": [{"role": "system", "content": [{"type": "system_content", "reasoning_effort": "extreme"}]}]}',
    ];
    for (const json of bad) {
      let error: unknown;
      try {
        Conversation.fromJson(json);
      } catch (caught) {
        error = caught;
      }
      expect(error, json).toBeInstanceOf(UsageError);
      expect((error as UsageError).code).toBe(HarmonyErrorCode.InvalidJson);
    }
  });
});

describe('builders mirror the Python API', () => {
  test('SystemContent defaults and fluent setters', () => {
    const sys = SystemContent.new();
    expect(sys.modelIdentity).toBe('You are ChatGPT, a large language model trained by OpenAI.');
    expect(sys.reasoningEffort).toBe(ReasoningEffort.Medium);
    expect(sys.knowledgeCutoff).toBe('2024-06');
    expect(sys.channelConfig).toEqual(ChannelConfig.requireChannels(['analysis', 'commentary', 'final']));
    sys.withBrowserTool().withPythonTool();
    expect([...sys.tools!.keys()]).toEqual(['browser', 'python']);
    expect(sys.tools!.get('browser')!.tools.map((t) => t.name)).toEqual(['search', 'open', 'find']);
  });

  test('Message builders', () => {
    const message = Message.fromRoleAndContents(Role.User, ['a', new TextContent('b')]).withChannel('c');
    expect(message.content).toEqual([new TextContent('a'), new TextContent('b')]);
    expect(message.channel).toBe('c');
    expect(message.author).toEqual(new Author(Role.User));
  });
});

describe('render configs as in Python', () => {
  test('RenderConversationConfig defaults to dropping analysis; RenderOptions to no function tools', () => {
    expect(new RenderConversationConfig().autoDropAnalysis).toBe(true);
    expect(new RenderOptions().conversationHasFunctionTools).toBe(false);
    const convo = Conversation.fromMessages([
      Message.fromRoleAndContent(Role.User, 'q'),
      Message.fromRoleAndContent(Role.Assistant, 'think').withChannel('analysis'),
      Message.fromRoleAndContent(Role.Assistant, 'a').withChannel('final'),
    ]);
    const dropped = encoding.decodeUtf8(encoding.renderConversation(convo, new RenderConversationConfig()));
    const kept = encoding.decodeUtf8(encoding.renderConversation(convo, new RenderConversationConfig({ autoDropAnalysis: false })));
    expect(dropped).not.toContain('think');
    expect(kept).toContain('<|channel|>analysis<|message|>think<|end|>');
    expect(encoding.renderConversation(convo)).toEqual(encoding.renderConversation(convo, { autoDropAnalysis: true }));
    const sys = Message.fromRoleAndContent(Role.System, SystemContent.new());
    expect(encoding.decodeUtf8(encoding.render(sys, new RenderOptions({ conversationHasFunctionTools: true })))).toContain(
      "Calls to these tools must go to the commentary channel: 'functions'.",
    );
  });
});

describe('render errors are typed', () => {
  test('a tool message needs a name; system/developer content only in their roles', () => {
    const cases = [
      Message.fromRoleAndContent(Role.Tool, 'x'),
      Message.fromRoleAndContent(Role.User, SystemContent.new()),
      Message.fromRoleAndContent(Role.System, DeveloperContent.new()),
    ];
    for (const message of cases) {
      let error: unknown;
      try {
        encoding.render(message);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).code).toBe(HarmonyErrorCode.InvalidMessage);
    }
  });
});
