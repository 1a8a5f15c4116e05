/**
 * One-for-one port of openai/harmony v0.0.8 src/tests.rs (29 tests), same conversations and options.
 * Golden files are compared as token ids after encoding them with every special token allowed
 * (`encoding.tokenizer.encode(text, &special_tokens())`) or as decoded text, as the Rust test does.
 */
import { describe, expect, test } from 'vitest';
import {
  Author,
  Conversation,
  DeveloperContent,
  HarmonyEncodingName,
  HarmonyParseError,
  Message,
  ReasoningEffort,
  Role,
  StreamableParser,
  SystemContent,
  ToolDescription,
  loadHarmonyEncoding,
} from '../../src/harmony/index.js';
import { assertTokensEq, loadTestData, readExpectedTokens } from './helpers.js';

const ENCODINGS = [HarmonyEncodingName.HarmonyGptOss];
const all = { allowedSpecial: 'all' } as const;
const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
/** The Rust tests' `encode_with_special_tokens`. */
const encodeWithSpecialTokens = (text: string) => encoding.encode(text, all);

describe('openai/harmony src/tests.rs', () => {
  test('test_simple_convo', () => {
    for (const name of ENCODINGS) {
      const encoding = loadHarmonyEncoding(name);
      const expectedTokens = encoding.encode(loadTestData('test_simple_convo.txt'), all);
      const convo = Conversation.fromMessages([
        Message.fromRoleAndContent(
          Role.System,
          SystemContent.new().withModelIdentity('You are ChatGPT, a large language model trained by OpenAI.'),
        ),
        Message.fromRoleAndContent(Role.User, 'What is 2 + 2?'),
      ]);
      const tokens = encoding.renderConversationForCompletion(convo, Role.Assistant);
      assertTokensEq(encoding, expectedTokens, tokens);
    }
  });

  test('test_simple_convo_with_effort', () => {
    const testCases: Array<[ReasoningEffort, string, boolean]> = [
      [ReasoningEffort.Low, loadTestData('test_simple_convo_low_effort.txt'), true],
      [ReasoningEffort.Medium, loadTestData('test_simple_convo_medium_effort.txt'), true],
      [ReasoningEffort.High, loadTestData('test_simple_convo_high_effort.txt'), true],
      [ReasoningEffort.Low, loadTestData('test_simple_convo_low_effort_no_instruction.txt'), false],
      [ReasoningEffort.Medium, loadTestData('test_simple_convo_medium_effort_no_instruction.txt'), false],
      [ReasoningEffort.High, loadTestData('test_simple_convo_high_effort_no_instruction.txt'), false],
    ];
    for (const name of ENCODINGS) {
      const encoding = loadHarmonyEncoding(name);
      for (const [effort, expectedText, useInstruction] of testCases) {
        const expectedTokens = encoding.encode(expectedText, all);
        const sys = SystemContent.new()
          .withModelIdentity('You are ChatGPT, a large language model trained by OpenAI.')
          .withReasoningEffort(effort);
        const user = Message.fromRoleAndContent(Role.User, 'What is the capital of the largest country in the world?');
        const convo = useInstruction
          ? Conversation.fromMessages([
              Message.fromRoleAndContent(Role.System, sys),
              Message.fromRoleAndContent(Role.Developer, DeveloperContent.new().withInstructions("Answer the user's questions like a robot.")),
              user,
            ])
          : Conversation.fromMessages([Message.fromRoleAndContent(Role.System, sys), user]);
        const tokens = encoding.renderConversationForCompletion(convo, Role.Assistant);
        assertTokensEq(encoding, expectedTokens, tokens);
      }
    }
  });

  test('test_simple_reasoning_response', () => {
    const expectedTokens = readExpectedTokens('test_simple_reasoning_response.txt');
    for (const name of ENCODINGS) {
      const encoding = loadHarmonyEncoding(name);
      const messages = encoding.parseMessagesFromCompletionTokens(expectedTokens, Role.Assistant);
      const expected = [
        Message.fromRoleAndContent(Role.Assistant, 'User asks: "What is 2 + 2?" Simple arithmetic. Provide answer.').withChannel('analysis'),
        Message.fromRoleAndContent(Role.Assistant, '2 + 2 = 4.').withChannel('final'),
      ];
      expect(messages).toEqual(expected);
    }
  });

  test('test_simple_tool_call', () => {
    const response = [
      200005, 35644, 200008, 1844, 31064, 25, 392, 4827, 382, 290, 11122, 306, 40510, 16842, 1416, 1309, 316, 1199, 37342, 170154, 4584,
      13, 200007, 200006, 173781, 200005, 35644, 316, 28, 29712, 170154, 3490, 200008, 10848, 7693, 1243, 392, 173844, 18583,
    ];
    for (const name of ENCODINGS) {
      const encoding = loadHarmonyEncoding(name);
      const parsed = encoding.parseMessagesFromCompletionTokens(response, Role.Assistant);
      const expected = [
        Message.fromRoleAndContent(
          Role.Assistant,
          'User asks: "What is the weather in Tokyo?" We need to use lookup_weather tool.',
        ).withChannel('analysis'),
        Message.fromRoleAndContent(Role.Assistant, '{"location": "Tokyo"}')
          .withChannel('analysis')
          .withRecipient('lookup_weather')
          .withContentType('code'),
      ];
      expect(parsed).toEqual(expected);
    }
  });

  test('test_reasoning_system_message', () => {
    for (const name of ENCODINGS) {
      const encoding = loadHarmonyEncoding(name);
      const expected = encoding.encode(loadTestData('test_reasoning_system_message.txt'), all);
      const convo = Conversation.fromMessages([
        Message.fromRoleAndContent(
          Role.System,
          SystemContent.new()
            .withModelIdentity('You are ChatGPT, a large language model trained by OpenAI.')
            .withReasoningEffort(ReasoningEffort.Medium)
            .withRequiredChannels(['analysis', 'final']),
        ),
        Message.fromRoleAndContent(Role.User, 'What is 2 + 2?'),
      ]);
      assertTokensEq(encoding, expected, encoding.renderConversationForCompletion(convo, Role.Assistant));
    }
  });

  test('test_reasoning_system_message_no_instruction', () => {
    for (const name of ENCODINGS) {
      const encoding = loadHarmonyEncoding(name);
      const expected = encoding.encode(loadTestData('test_reasoning_system_message_no_instruction.txt'), all);
      const convo = Conversation.fromMessages([
        Message.fromRoleAndContent(
          Role.System,
          SystemContent.new()
            .withModelIdentity('You are ChatGPT, a large language model trained by OpenAI.')
            .withReasoningEffort(ReasoningEffort.High)
            .withRequiredChannels(['analysis', 'final']),
        ),
        Message.fromRoleAndContent(Role.User, 'What is the best place to eat candy in the world?'),
      ]);
      assertTokensEq(encoding, expected, encoding.renderConversationForCompletion(convo, Role.Assistant));
    }
  });

  test('test_reasoning_system_message_with_dates', () => {
    for (const name of ENCODINGS) {
      const encoding = loadHarmonyEncoding(name);
      const expected = encoding.encode(loadTestData('test_reasoning_system_message_with_dates.txt'), all);
      const convo = Conversation.fromMessages([
        Message.fromRoleAndContent(
          Role.System,
          SystemContent.new()
            .withModelIdentity('You are ChatGPT, a large language model trained by OpenAI.')
            .withReasoningEffort(ReasoningEffort.Medium)
            .withConversationStartDate('2021-01-01')
            .withKnowledgeCutoff('2021-01')
            .withRequiredChannels(['analysis', 'final']),
        ),
        Message.fromRoleAndContent(Role.User, 'What is 42 * pi?'),
      ]);
      assertTokensEq(encoding, expected, encoding.renderConversationForCompletion(convo, Role.Assistant));
    }
  });

  test('test_render_functions_with_parameters', () => {
    const expectedOutput = loadTestData('test_render_functions_with_parameters.txt');
    const sys = SystemContent.new().withReasoningEffort(ReasoningEffort.High).withConversationStartDate('2025-06-28');
    const dev = DeveloperContent.new()
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
        ToolDescription.new('get_multiple_weathers', 'Gets the current weather in the provided list of locations.', {
          type: 'object',
          properties: {
            locations: {
              type: 'array',
              items: { type: 'string' },
              description: 'List of city and state, e.g. ["San Francisco, CA", "New York, NY"]',
            },
            format: { type: 'string', enum: ['celsius', 'fahrenheit'], default: 'celsius' },
          },
          required: ['locations'],
        }),
        ToolDescription.new('kitchensink', 'A function with various complex schemas.', {
          description: 'params object',
          type: 'object',
          properties: {
            string: { type: 'string', title: 'STRING', description: 'A string', examples: ['hello', 'world'] },
            string_nullable: { type: 'string', nullable: true, description: 'A nullable string', default: 'the default' },
            string_enum: { type: 'string', enum: ['a', 'b', 'c'] },
            oneof_string_or_number: {
              oneOf: [
                { type: 'string', default: 'default_string_in_oneof' },
                { type: 'number', description: 'numbers can happen too' },
              ],
              description: 'a oneof',
              default: 20,
            },
          },
        }),
      ]);
    const convo = Conversation.fromMessages([
      Message.fromRoleAndContent(Role.System, sys),
      Message.fromRoleAndContent(Role.Developer, dev),
      Message.fromRoleAndContent(Role.User, 'What is the weather like in SF?'),
    ]);
    const tokens = encoding.renderConversationForCompletion(convo, Role.Assistant);
    expect(encoding.decodeUtf8(tokens)).toBe(expectedOutput);
    // Same text as tokens too: every part is encoded the way the golden text encodes.
    assertTokensEq(encoding, encoding.encode(expectedOutput, all), tokens);
  });

  test('test_browser_and_python_tool', () => {
    const expectedOutput = loadTestData('test_browser_and_python_tool.txt');
    const convo = Conversation.fromMessages([
      Message.fromRoleAndContent(Role.System, SystemContent.new().withConversationStartDate('2025-06-28').withBrowserTool().withPythonTool()),
    ]);
    const tokens = encoding.renderConversationForCompletion(convo, Role.Assistant);
    expect(encoding.decodeUtf8(tokens)).toBe(expectedOutput);
  });

  test('test_dropping_cot_by_default', () => {
    const expectedOutput = loadTestData('test_dropping_cot_by_default.txt');
    const convo = Conversation.fromMessages([
      Message.fromRoleAndContent(Role.User, 'What is 2 + 2?'),
      Message.fromRoleAndContent(Role.Assistant, 'User asks: “What is 2 + 2?” Simple arithmetic. Provide answer.').withChannel('analysis'),
      Message.fromRoleAndContent(Role.Assistant, '2 + 2 equals 4.').withChannel('final'),
      Message.fromRoleAndContent(Role.User, 'What about 9 / 2?'),
    ]);
    const tokens = encoding.renderConversationForCompletion(convo, Role.Assistant, { autoDropAnalysis: true });
    expect(encoding.decodeUtf8(tokens)).toBe(expectedOutput);
  });

  test('test_does_not_drop_if_ongoing_analysis', () => {
    const expectedOutput = loadTestData('test_does_not_drop_if_ongoing_analysis.txt');
    const convo = Conversation.fromMessages([
      Message.fromRoleAndContent(Role.User, 'What is the weather in SF?'),
      Message.fromRoleAndContent(Role.Assistant, 'User asks: “What is the weather in SF?” We need to use lookup_weather tool.').withChannel(
        'analysis',
      ),
      Message.fromRoleAndContent(Role.Assistant, '{"location": "San Francisco"}')
        .withChannel('commentary')
        .withRecipient('functions.lookup_weather')
        .withContentType('<|constrain|>json'),
      Message.fromAuthorAndContent(Author.new(Role.Tool, 'functions.lookup_weather'), '{"temperature": 20, "description": "sunny"}'),
    ]);
    const tokens = encoding.renderConversationForCompletion(convo, Role.Assistant, { autoDropAnalysis: true });
    expect(encoding.decodeUtf8(tokens)).toBe(expectedOutput);
  });

  test('test_preserve_cot', () => {
    const expectedOutput = loadTestData('test_preserve_cot.txt');
    const convo = Conversation.fromMessages([
      Message.fromRoleAndContent(Role.User, 'What is 2 + 2?'),
      Message.fromRoleAndContent(Role.Assistant, 'User asks a simple question: "What is 2 + 2?" The answer: 4.').withChannel('analysis'),
      Message.fromRoleAndContent(Role.Assistant, '2 + 2 equals 4.').withChannel('final'),
      Message.fromRoleAndContent(Role.User, 'What about 9 / 2?'),
    ]);
    const tokens = encoding.renderConversationForCompletion(convo, Role.Assistant, { autoDropAnalysis: false });
    expect(encoding.decodeUtf8(tokens)).toBe(expectedOutput);
  });

  test('test_reserved_token_decoding', () => {
    expect(encoding.decodeUtf8([200014])).toBe('<|reserved_200014|>');
    expect(encoding.decodeUtf8([201088])).toBe('<|reserved_201088|>');
  });

  test('test_render_and_render_conversation_roundtrip', () => {
    const msg = Message.fromRoleAndContent(Role.User, 'Hello');
    const convo = Conversation.fromMessages([msg]);
    const tokensMsg = encoding.render(msg);
    const tokensConvo = encoding.renderConversation(convo);
    expect(tokensMsg).toEqual(tokensConvo);
    const tokensCompletion = encoding.renderConversationForCompletion(convo, Role.Assistant);
    expect(tokensCompletion.slice(0, tokensConvo.length)).toEqual(tokensConvo);
  });

  test('test_decode_utf8_invalid_token', () => {
    expect(() => encoding.decodeUtf8([99999999])).toThrow(HarmonyParseError);
  });

  test('test_tool_response_parsing', () => {
    const textTokens = loadTestData('test_tool_response_parsing.txt');
    const tokens = encoding.encode(textTokens, all);
    const expectedMessage = Message.fromAuthorAndContent(Author.new(Role.Tool, 'browser.search'), '{"result": "https://openai.com/"}')
      .withChannel('commentary')
      .withRecipient('assistant');
    const messages = encoding.parseMessagesFromCompletionTokens(tokens, null);
    expect(messages).toHaveLength(1);
    expect(encoding.decodeUtf8(tokens)).toBe(textTokens);
    expect(messages[0]).toEqual(expectedMessage);
  });

  test('test_encode_decode_roundtrip', () => {
    const text = 'hello world';
    const tokens = encoding.encode(text, { allowedSpecial: new Set() });
    expect(encoding.decodeUtf8(tokens)).toBe(text);
  });

  test('test_encode_allowed_special', () => {
    // The Rust tokenizer's encode(text, allowed) leaves disallowed specials as text (no error):
    // that is our encode with disallowedSpecial: [].
    const rustEncode = (text: string, allowed: ReadonlySet<string> | 'all') =>
      encoding.encode(text, { allowedSpecial: allowed, disallowedSpecial: [] });
    expect(rustEncode('hello world', new Set())).toEqual([24912, 2375]);
    expect(rustEncode('<|start|>', new Set(['<|start|>']))).toEqual([200006]);
    expect(rustEncode('<|start|>', new Set(encoding.specialTokens()))).toEqual([200006]);
    const result = rustEncode('<|start|>', new Set());
    expect(result.length === 0 || JSON.stringify(result) !== JSON.stringify([200006])).toBe(true);
    expect(rustEncode('<|start|>', new Set())).not.toEqual([200006]);
  });

  test('test_is_special_token', () => {
    expect(encoding.isSpecialToken(200006)).toBe(true);
    expect(encoding.isSpecialToken(24912)).toBe(false);
  });

  test('test_invalid_utf8_decoding', () => {
    expect(() => encoding.decodeUtf8([132990, 9552])).toThrow(HarmonyParseError);
  });

  test('test_streamable_parser', () => {
    const tokens = encoding.encode(loadTestData('test_streamable_parser.txt'), all);
    const parser = new StreamableParser(encoding, Role.Assistant);
    for (const token of tokens) parser.process(token);
    expect(parser.messages).toHaveLength(3);
  });

  test('test_streamable_parser_tool_call_with_constrain_adjacent', () => {
    const text =
      '<|start|>assistant<|channel|>commentary to=functions.get_weather<|constrain|>json<|message|>{"latitude":48.8566,"longitude":2.3522}<|call|>';
    const parser = new StreamableParser(encoding, null);
    for (const token of encodeWithSpecialTokens(text)) parser.process(token);
    expect(parser.messages).toHaveLength(1);
    expect(parser.messages[0]).toEqual(
      Message.fromRoleAndContent(Role.Assistant, '{"latitude":48.8566,"longitude":2.3522}')
        .withChannel('commentary')
        .withRecipient('functions.get_weather')
        .withContentType('<|constrain|>json'),
    );
  });

  test('test_missing_message_token_requires_non_strict_mode', () => {
    const tokens = encodeWithSpecialTokens('<|channel|>commentary Hello<|end|>');
    // Strict mode should continue to error on malformed headers.
    expect(() => encoding.parseMessagesFromCompletionTokens(tokens, Role.Assistant)).toThrow(HarmonyParseError);
    // Non-strict mode should recover and return the accumulated message content.
    const parsed = encoding.parseMessagesFromCompletionTokens(tokens, Role.Assistant, { strict: false });
    expect(parsed).toHaveLength(1);
    expect(parsed[0]).toEqual(Message.fromRoleAndContent(Role.Assistant, 'Hello').withChannel('commentary'));
  });

  test('test_tool_call_with_constrain_marker_adjacent', () => {
    const text =
      '<|start|>assistant to=functions.get_weather<|channel|>commentary<|constrain|>json<|message|>{"location": "Tokyo"}<|end|>';
    const parsed = encoding.parseMessagesFromCompletionTokens(encodeWithSpecialTokens(text), null);
    expect(parsed).toEqual([
      Message.fromRoleAndContent(Role.Assistant, '{"location": "Tokyo"}')
        .withChannel('commentary')
        .withRecipient('functions.get_weather')
        .withContentType('<|constrain|>json'),
    ]);
  });

  test('test_tool_call_with_channel_before_recipient_and_constrain_adjacent', () => {
    const text =
      '<|start|>assistant<|channel|>commentary to=functions.get_weather<|constrain|>json<|message|>{"latitude":48.8566,"longitude":2.3522}<|call|>';
    const parsed = encoding.parseMessagesFromCompletionTokens(encodeWithSpecialTokens(text), null);
    expect(parsed).toEqual([
      Message.fromRoleAndContent(Role.Assistant, '{"latitude":48.8566,"longitude":2.3522}')
        .withChannel('commentary')
        .withRecipient('functions.get_weather')
        .withContentType('<|constrain|>json'),
    ]);
  });

  test('test_streamable_parser_does_not_leak_bytes_between_messages', () => {
    // 9552 decodes to bytes that are an incomplete UTF-8 sequence on their own.
    const tokens = [
      ...encodeWithSpecialTokens('<|start|>assistant<|message|>'),
      9552,
      9552,
      ...encodeWithSpecialTokens('<|end|>'),
      ...encodeWithSpecialTokens('<|start|>assistant<|message|>'),
      ...encodeWithSpecialTokens('Hi'),
      ...encodeWithSpecialTokens('<|end|>'),
    ];
    const parser = new StreamableParser(encoding, null);
    for (const token of tokens) parser.process(token);
    expect(parser.messages).toHaveLength(2);
    expect(parser.messages[1]).toEqual(Message.fromRoleAndContent(Role.Assistant, 'Hi'));
  });

  test('test_streamable_parser_flushes_partial_bytes_on_eos', () => {
    const tokens = [...encodeWithSpecialTokens('<|start|>assistant<|message|>'), 9552, ...encodeWithSpecialTokens('Hi')];
    const parser = new StreamableParser(encoding, null);
    for (const token of tokens) parser.process(token);
    parser.processEos();
    expect(parser.messages).toHaveLength(1);
    expect(parser.messages[0]).toEqual(Message.fromRoleAndContent(Role.Assistant, ' \uFFFDHi'));
    expect(parser.lastContentDelta).toBeUndefined();
    expect(parser.currentContent).toBe('');
  });

  test('test_streamable_parser_waits_for_multi_token_utf8_sequence', () => {
    const parser = new StreamableParser(encoding, null);
    for (const token of encodeWithSpecialTokens('<|start|>assistant<|message|>')) parser.process(token);
    const emojiTokens = encoding.encode('💖', { allowedSpecial: new Set() });
    expect(emojiTokens.length).toBeGreaterThanOrEqual(2);
    parser.process(emojiTokens[0]!);
    expect(parser.lastContentDelta).toBeUndefined();
    expect(parser.currentContent).toBe('');
    parser.process(emojiTokens[1]!);
    expect(parser.lastContentDelta).toBe('💖');
    expect(parser.currentContent).toBe('💖');
    for (const token of encodeWithSpecialTokens('<|end|>')) parser.process(token);
    expect(parser.messages).toHaveLength(1);
    expect(parser.messages[0]).toEqual(Message.fromRoleAndContent(Role.Assistant, '💖'));
  });

  test('test_parse_completion_with_invalid_content_token_errors_on_eos', () => {
    const parser = new StreamableParser(encoding, null);
    for (const token of encodeWithSpecialTokens('<|start|>assistant<|channel|>analysis<|message|>Practice invalid token handling.')) {
      parser.process(token);
    }
    parser.process(0xffff_ffff); // u32::MAX: not a token
    parser.processEos();
    expect(parser.messages).toHaveLength(1);
    expect(parser.messages[0]).toEqual(
      Message.fromRoleAndContent(Role.Assistant, 'Practice invalid token handling.\uFFFD').withChannel('analysis'),
    );
  });
});
