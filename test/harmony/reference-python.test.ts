/**
 * One-for-one port of openai/harmony v0.0.8 tests/test_harmony.py (39 test functions, 42 cases
 * with the strict/non-strict parametrisations), same conversations and options, through the
 * Python-style API (`loadHarmonyEncoding`, `encode(text, {allowedSpecial: 'all'})`, ...).
 */
import { describe, expect, test } from 'vitest';
import {
  Author,
  Conversation,
  DeveloperContent,
  HarmonyEncodingName,
  HarmonyErrorCode,
  HarmonyParseError,
  Message,
  ReasoningEffort,
  Role,
  StreamableParser,
  SystemContent,
  ToolDescription,
  UsageError,
  loadHarmonyEncoding,
  type JsonObject,
} from '../../src/harmony/index.js';
import { assertTokensEq, loadTestData, readExpectedTokens } from './helpers.js';

const all = { allowedSpecial: 'all' } as const;
const ENCODING_NAMES = [HarmonyEncodingName.HarmonyGptOss];

describe('openai/harmony tests/test_harmony.py', () => {
  test.each(ENCODING_NAMES)('test_simple_convo[%s]', (encodingName) => {
    const encoding = loadHarmonyEncoding(encodingName);
    const expectedTokens = encoding.encode(loadTestData('test_simple_convo.txt'), all);
    const convo = Conversation.fromMessages([
      Message.fromRoleAndContent(Role.System, SystemContent.new().withModelIdentity('You are ChatGPT, a large language model trained by OpenAI.')),
      Message.fromRoleAndContent(Role.User, 'What is 2 + 2?'),
    ]);
    const tokens = encoding.renderConversationForCompletion(convo, Role.Assistant);
    assertTokensEq(encoding, expectedTokens, tokens);
  });

  test.each(ENCODING_NAMES)('test_simple_convo_with_effort[%s]', (encodingName) => {
    const encoding = loadHarmonyEncoding(encodingName);
    const testCases: Array<[ReasoningEffort, string, boolean]> = [
      [ReasoningEffort.Low, 'test_simple_convo_low_effort.txt', true],
      [ReasoningEffort.Medium, 'test_simple_convo_medium_effort.txt', true],
      [ReasoningEffort.High, 'test_simple_convo_high_effort.txt', true],
      [ReasoningEffort.Low, 'test_simple_convo_low_effort_no_instruction.txt', false],
      [ReasoningEffort.Medium, 'test_simple_convo_medium_effort_no_instruction.txt', false],
      [ReasoningEffort.High, 'test_simple_convo_high_effort_no_instruction.txt', false],
    ];
    for (const [effort, tokensPath, useInstruction] of testCases) {
      const expectedTokens = encoding.encode(loadTestData(tokensPath), all);
      const sys = SystemContent.new()
        .withModelIdentity('You are ChatGPT, a large language model trained by OpenAI.')
        .withReasoningEffort(effort);
      const messages = [Message.fromRoleAndContent(Role.System, sys)];
      if (useInstruction) {
        const dev = DeveloperContent.new().withInstructions("Answer the user's questions like a robot.");
        messages.push(Message.fromRoleAndContent(Role.Developer, dev));
      }
      messages.push(Message.fromRoleAndContent(Role.User, 'What is the capital of the largest country in the world?'));
      const tokens = encoding.renderConversationForCompletion(Conversation.fromMessages(messages), Role.Assistant);
      assertTokensEq(encoding, expectedTokens, tokens);
    }
  });

  test.each(ENCODING_NAMES)('test_simple_reasoning_response[%s]', (encodingName) => {
    const encoding = loadHarmonyEncoding(encodingName);
    const expectedTokens = readExpectedTokens('test_simple_reasoning_response.txt');
    const messages = encoding.parseMessagesFromCompletionTokens(expectedTokens, Role.Assistant);
    expect(messages).toEqual([
      Message.fromRoleAndContent(Role.Assistant, 'User asks: "What is 2 + 2?" Simple arithmetic. Provide answer.').withChannel('analysis'),
      Message.fromRoleAndContent(Role.Assistant, '2 + 2 = 4.').withChannel('final'),
    ]);
  });

  test.each(ENCODING_NAMES)('test_simple_tool_call[%s]', (encodingName) => {
    const encoding = loadHarmonyEncoding(encodingName);
    const response = readExpectedTokens('test_simple_tool_call.txt');
    const parsed = encoding.parseMessagesFromCompletionTokens(response, Role.Assistant);
    expect(parsed).toEqual([
      Message.fromRoleAndContent(Role.Assistant, 'User asks: "What is the weather in Tokyo?" We need to use lookup_weather tool.').withChannel(
        'analysis',
      ),
      Message.fromRoleAndContent(Role.Assistant, '{"location": "Tokyo"}')
        .withChannel('analysis')
        .withRecipient('lookup_weather')
        .withContentType('code'),
    ]);
  });

  test.each(ENCODING_NAMES)('test_tool_call_with_constrain_tokenized_correctly[%s]', (encodingName) => {
    // Despite passing <|constrain|> as a string in content_type it has to be kept as a special token.
    const encoding = loadHarmonyEncoding(encodingName);
    const text =
      '<|start|>assistant to=functions.get_weather<|channel|>commentary <|constrain|>json<|message|>{"location": "Tokyo"}<|call|>';
    const tokens = encoding.encode(text, all);
    const parsed = encoding.parseMessagesFromCompletionTokens(tokens, null);
    const expected = [
      Message.fromRoleAndContent(Role.Assistant, '{"location": "Tokyo"}')
        .withChannel('commentary')
        .withRecipient('functions.get_weather')
        .withContentType('<|constrain|>json'),
    ];
    expect(parsed).toEqual(expected);
    const rendered = encoding.renderConversation(Conversation.fromMessages(expected));
    expect(encoding.decodeUtf8(tokens)).toBe(text);
    expect(rendered).toEqual(tokens);
  });

  test.each(ENCODING_NAMES)('test_tool_call_with_constrain_marker_adjacent[%s]', (encodingName) => {
    const encoding = loadHarmonyEncoding(encodingName);
    const text =
      '<|start|>assistant to=functions.get_weather<|channel|>commentary<|constrain|>json<|message|>{"location": "Tokyo"}<|call|>';
    const parsed = encoding.parseMessagesFromCompletionTokens(encoding.encode(text, all), null);
    expect(parsed).toEqual([
      Message.fromRoleAndContent(Role.Assistant, '{"location": "Tokyo"}')
        .withChannel('commentary')
        .withRecipient('functions.get_weather')
        .withContentType('<|constrain|>json'),
    ]);
  });

  test.each(ENCODING_NAMES)('test_tool_call_with_channel_before_recipient_and_constrain_adjacent[%s]', (encodingName) => {
    const encoding = loadHarmonyEncoding(encodingName);
    const text =
      '<|start|>assistant<|channel|>commentary to=functions.get_weather<|constrain|>json<|message|>{"latitude":48.8566,"longitude":2.3522}<|call|>';
    const parsed = encoding.parseMessagesFromCompletionTokens(encoding.encode(text, all), null);
    expect(parsed).toEqual([
      Message.fromRoleAndContent(Role.Assistant, '{"latitude":48.8566,"longitude":2.3522}')
        .withChannel('commentary')
        .withRecipient('functions.get_weather')
        .withContentType('<|constrain|>json'),
    ]);
  });

  test.each(ENCODING_NAMES)('test_reasoning_system_message[%s]', (encodingName) => {
    const encoding = loadHarmonyEncoding(encodingName);
    const expected = encoding.encode(loadTestData('test_reasoning_system_message.txt'), all);
    const sys = SystemContent.new()
      .withModelIdentity('You are ChatGPT, a large language model trained by OpenAI.')
      .withReasoningEffort(ReasoningEffort.Medium)
      .withRequiredChannels(['analysis', 'final']);
    const convo = Conversation.fromMessages([
      Message.fromRoleAndContent(Role.System, sys),
      Message.fromRoleAndContent(Role.User, 'What is 2 + 2?'),
    ]);
    assertTokensEq(encoding, expected, encoding.renderConversationForCompletion(convo, Role.Assistant));
  });

  test.each(ENCODING_NAMES)('test_reasoning_system_message_no_instruction[%s]', (encodingName) => {
    const encoding = loadHarmonyEncoding(encodingName);
    const expected = encoding.encode(loadTestData('test_reasoning_system_message_no_instruction.txt'), all);
    const sys = SystemContent.new()
      .withModelIdentity('You are ChatGPT, a large language model trained by OpenAI.')
      .withReasoningEffort(ReasoningEffort.High)
      .withRequiredChannels(['analysis', 'final']);
    const convo = Conversation.fromMessages([
      Message.fromRoleAndContent(Role.System, sys),
      Message.fromRoleAndContent(Role.User, 'What is the best place to eat candy in the world?'),
    ]);
    assertTokensEq(encoding, expected, encoding.renderConversationForCompletion(convo, Role.Assistant));
  });

  test.each(ENCODING_NAMES)('test_reasoning_system_message_with_dates[%s]', (encodingName) => {
    const encoding = loadHarmonyEncoding(encodingName);
    const expected = encoding.encode(loadTestData('test_reasoning_system_message_with_dates.txt'), all);
    const sys = SystemContent.new()
      .withModelIdentity('You are ChatGPT, a large language model trained by OpenAI.')
      .withReasoningEffort(ReasoningEffort.Medium)
      .withConversationStartDate('2021-01-01')
      .withKnowledgeCutoff('2021-01')
      .withRequiredChannels(['analysis', 'final']);
    const convo = Conversation.fromMessages([
      Message.fromRoleAndContent(Role.System, sys),
      Message.fromRoleAndContent(Role.User, 'What is 42 * pi?'),
    ]);
    assertTokensEq(encoding, expected, encoding.renderConversationForCompletion(convo, Role.Assistant));
  });

  test('test_render_functions_with_parameters', () => {
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
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
  });

  test('test_no_tools', () => {
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
    const expectedOutput = loadTestData('test_no_tools.txt');
    const convo = Conversation.fromMessages([
      Message.fromRoleAndContent(Role.System, SystemContent.new().withConversationStartDate('2025-06-28')),
    ]);
    const tokens = encoding.renderConversationForCompletion(convo, Role.Assistant);
    expect(encoding.decodeUtf8(tokens)).toBe(expectedOutput);
  });

  test('test_browser_tool_only', () => {
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
    const expectedOutput = loadTestData('test_browser_tool_only.txt');
    const convo = Conversation.fromMessages([
      Message.fromRoleAndContent(Role.System, SystemContent.new().withConversationStartDate('2025-06-28').withBrowserTool()),
    ]);
    const tokens = encoding.renderConversationForCompletion(convo, Role.Assistant);
    expect(encoding.decodeUtf8(tokens)).toBe(expectedOutput);
  });

  test('test_browser_and_function_tool', () => {
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
    const expectedOutput = loadTestData('test_browser_and_function_tool.txt');
    const convo = Conversation.fromMessages([
      Message.fromRoleAndContent(Role.System, SystemContent.new().withConversationStartDate('2025-06-28').withBrowserTool()),
      Message.fromRoleAndContent(
        Role.Developer,
        DeveloperContent.new().withFunctionTools([
          ToolDescription.new(
            'lookup_weather',
            "Use this tool to lookup the weather in a given location. Call it with the parameter 'location', can be any textual description of a location.",
            { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
          ),
        ]),
      ),
    ]);
    const tokens = encoding.renderConversationForCompletion(convo, Role.Assistant);
    expect(encoding.decodeUtf8(tokens)).toBe(expectedOutput);
  });

  test('test_browser_and_python_tool', () => {
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
    const expectedOutput = loadTestData('test_browser_and_python_tool.txt');
    const convo = Conversation.fromMessages([
      Message.fromRoleAndContent(Role.System, SystemContent.new().withConversationStartDate('2025-06-28').withBrowserTool().withPythonTool()),
    ]);
    const tokens = encoding.renderConversationForCompletion(convo, Role.Assistant);
    expect(encoding.decodeUtf8(tokens)).toBe(expectedOutput);
  });

  test('test_dropping_cot_by_default', () => {
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
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
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
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
    // ensure that <|constrain|>json part is tokenized correctly as special tokens
    expect(encoding.encode(expectedOutput, all)).toEqual(tokens);
  });

  test('test_preserve_cot', () => {
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
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
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
    expect(encoding.decodeUtf8([200014])).toBe('<|reserved_200014|>');
    expect(encoding.decodeUtf8([201088])).toBe('<|reserved_201088|>');
  });

  test('test_keep_analysis_between_final_messages', () => {
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
    const expectedOutput = loadTestData('test_keep_analysis_between_finals.txt');
    const convo = Conversation.fromMessages([
      Message.fromRoleAndContent(Role.User, 'What is 2 + 2?'),
      Message.fromRoleAndContent(Role.Assistant, 'thinking 2+2').withChannel('analysis'),
      Message.fromRoleAndContent(Role.Assistant, '4').withChannel('final'),
      Message.fromRoleAndContent(Role.User, 'What is 3 + 5?'),
      Message.fromRoleAndContent(Role.Assistant, 'thinking 3+5').withChannel('analysis'),
      Message.fromRoleAndContent(Role.Assistant, '8').withChannel('final'),
    ]);
    const tokens = encoding.renderConversation(convo);
    expect(encoding.decodeUtf8(tokens)).toBe(expectedOutput);
  });

  test('test_render_and_render_conversation_roundtrip', () => {
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
    const msg = Message.fromRoleAndContent(Role.User, 'Hello');
    const convo = Conversation.fromMessages([msg]);
    const tokensMsg = encoding.render(msg);
    const tokensConvo = encoding.renderConversation(convo);
    expect(tokensMsg).toEqual(tokensConvo);
    const tokensCompletion = encoding.renderConversationForCompletion(convo, Role.Assistant);
    expect(tokensCompletion.slice(0, tokensConvo.length)).toEqual(tokensConvo);
  });

  test('test_render_conversation_for_training_final_channel', () => {
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
    const convo = Conversation.fromMessages([
      Message.fromRoleAndContent(Role.User, 'hi'),
      Message.fromRoleAndContent(Role.Assistant, 'hello').withChannel('final'),
    ]);
    const tokensTraining = encoding.renderConversationForTraining(convo);
    const tokensRegular = encoding.renderConversation(convo);
    const tokenReturn = encoding.encode('<|return|>', { allowedSpecial: new Set(['<|return|>']) })[0];
    const tokenEnd = encoding.encode('<|end|>', { allowedSpecial: new Set(['<|end|>']) })[0];
    expect(tokensRegular.slice(0, -1)).toEqual(tokensTraining.slice(0, -1));
    expect(tokensRegular.at(-1)).toBe(tokenEnd);
    expect(tokensTraining.at(-1)).toBe(tokenReturn);
  });

  test('test_render_conversation_for_training_non_final', () => {
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
    const convo = Conversation.fromMessages([Message.fromRoleAndContent(Role.User, 'hi')]);
    expect(encoding.renderConversationForTraining(convo)).toEqual(encoding.renderConversation(convo));
  });

  test('test_decode_utf8_invalid_token', () => {
    // Invalid tokens should raise an exception (type doesn't matter).
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
    expect(() => encoding.decodeUtf8([99999999])).toThrow(/Invalid token for decoding: 99999999/);
    expect(() =>
      encoding.renderConversationForCompletion(
        Conversation.fromMessages([SystemContent.new() as unknown as JsonObject]),
        Role.Assistant,
      ),
    ).toThrow(/Input should be a valid dictionary or instance of Message/);
  });

  test('test_encode_decode_roundtrip', () => {
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
    expect(encoding.decodeUtf8(encoding.encode('hello world'))).toBe('hello world');
    expect(encoding.decode(encoding.encode('hello world'))).toBe('hello world');
  });

  test('test_encode_allowed_special', () => {
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
    expect(encoding.encode('hello world')).toEqual([24912, 2375]);
    expect(encoding.encode('<|start|>', { allowedSpecial: new Set(['<|start|>']) })).toEqual([200006]);
    expect(encoding.encode('<|start|>', { allowedSpecial: 'all' })).toEqual([200006]);
    expect(() => encoding.encode('<|start|>')).toThrow(/Encountered text corresponding to disallowed special token/);
    expect(() => encoding.encode('<|start|>')).toThrow(UsageError);
    expect(encoding.encode('<|start|>', { disallowedSpecial: [] })).toEqual([27, 91, 5236, 91, 29]);
  });

  test('test_is_special_token', () => {
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
    expect(encoding.isSpecialToken(200006)).toBe(true);
    expect(encoding.isSpecialToken(24912)).toBe(false);
  });

  test('test_invalid_utf8_decoding', () => {
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
    const tokens = [132990, 9552];
    expect(() => encoding.decodeUtf8(tokens)).toThrow(/Invalid utf-8/);
    // decode replaces invalid UTF-8 instead of throwing, like tiktoken.
    expect(encoding.decode(tokens)).toContain('Chicken');
  });

  test('test_tool_response_parsing', () => {
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
    const textTokens = loadTestData('test_tool_response_parsing.txt');
    const expectedMessage = Message.fromAuthorAndContent(Author.new(Role.Tool, 'browser.search'), '{"result": "https://openai.com/"}')
      .withChannel('commentary')
      .withRecipient('assistant');
    const outputTokens = encoding.render(expectedMessage).slice(0, -1); // remove the <|end|> token
    const messages = encoding.parseMessagesFromCompletionTokens(outputTokens, null);
    expect(messages).toHaveLength(1);
    expect(encoding.decodeUtf8(outputTokens)).toBe(textTokens);
  });

  test('test_streamable_parser', () => {
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
    const tokens = encoding.encode(loadTestData('test_streamable_parser.txt'), all);
    const parser = new StreamableParser(encoding, Role.Assistant);
    for (const token of tokens) parser.process(token);
    expect(parser.messages).toHaveLength(3);
  });

  test('test_streamable_parser_tool_call_with_constrain_adjacent', () => {
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
    const text =
      '<|start|>assistant<|channel|>commentary to=functions.get_weather<|constrain|>json<|message|>{"latitude":48.8566,"longitude":2.3522}<|call|>';
    const parser = new StreamableParser(encoding, null);
    for (const token of encoding.encode(text, all)) parser.process(token);
    expect(parser.messages).toEqual([
      Message.fromRoleAndContent(Role.Assistant, '{"latitude":48.8566,"longitude":2.3522}')
        .withChannel('commentary')
        .withRecipient('functions.get_weather')
        .withContentType('<|constrain|>json'),
    ]);
  });

  const strictCases: Array<[boolean, boolean]> = [
    [false, false],
    [true, true],
  ];

  test.each(strictCases)('test_streamable_parser_missing_message_token[strict=%s-expect_error=%s]', (strict, expectError) => {
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
    const text =
      'I must refuse<|end|>' +
      '<|start|>assistant<|channel|>analysis<|message|>We must refuse<|end|>' +
      "<|start|>assistant<|channel|>final<|message|>I'm sorry, but I can't help with that.<|return|>";
    const tokens = encoding.encode(text, all);
    const parser = new StreamableParser(encoding, Role.Assistant, { strict });
    if (expectError) {
      expect(() => {
        for (const token of tokens) parser.process(token);
      }).toThrow(/unexpected tokens remaining in message header/);
      return;
    }
    for (const token of tokens) parser.process(token);
    expect(parser.messages).toEqual([
      Message.fromRoleAndContent(Role.Assistant, 'I must refuse'),
      Message.fromRoleAndContent(Role.Assistant, 'We must refuse').withChannel('analysis'),
      Message.fromRoleAndContent(Role.Assistant, "I'm sorry, but I can't help with that.").withChannel('final'),
    ]);
  });

  test.each(strictCases)(
    'test_streamable_parser_missing_message_token_other_initial_headers[strict=%s-expect_error=%s]',
    (strict, expectError) => {
      const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
      const text =
        '<|channel|>analysis I must refuse<|end|>' +
        '<|start|>assistant<|channel|>analysis<|message|>We must refuse<|end|>' +
        "<|start|>assistant<|channel|>final<|message|>I'm sorry, but I can't help with that.<|return|>";
      const tokens = encoding.encode(text, all);
      const parser = new StreamableParser(encoding, Role.Assistant, { strict });
      if (expectError) {
        expect(() => {
          for (const token of tokens) parser.process(token);
        }).toThrow(/unexpected tokens remaining in message header/);
        return;
      }
      for (const token of tokens) parser.process(token);
      expect(parser.messages).toEqual([
        Message.fromRoleAndContent(Role.Assistant, 'I must refuse').withChannel('analysis'),
        Message.fromRoleAndContent(Role.Assistant, 'We must refuse').withChannel('analysis'),
        Message.fromRoleAndContent(Role.Assistant, "I'm sorry, but I can't help with that.").withChannel('final'),
      ]);
    },
  );

  test.each(strictCases)('test_streamable_parser_missing_message_token_tool_call[strict=%s-expect_error=%s]', (strict, expectError) => {
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
    const text =
      "... Let's use the tool.<|end|>" +
      '<|start|>assistant to=functions.get_weather<|channel|>commentary json<|message|>{"location": "Tokyo"}<|call|>';
    const tokens = encoding.encode(text, all);
    const parser = new StreamableParser(encoding, Role.Assistant, { strict });
    if (expectError) {
      let error: unknown;
      try {
        for (const token of tokens) parser.process(token);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(HarmonyParseError);
      expect((error as HarmonyParseError).code).toBe(HarmonyErrorCode.MalformedHeader);
      expect((error as Error).message).toMatch(/unexpected tokens remaining in message header/);
      return;
    }
    for (const token of tokens) parser.process(token);
    expect(parser.messages).toEqual([
      Message.fromRoleAndContent(Role.Assistant, "... Let's use the tool."),
      Message.fromRoleAndContent(Role.Assistant, '{"location": "Tokyo"}')
        .withChannel('commentary')
        .withRecipient('functions.get_weather')
        .withContentType('json'),
    ]);
  });

  test('test_streamable_parser_invalid_utf8_decoding', () => {
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
    // token 9552 is the bytes [32, 240, 159]: a space, then an incomplete 4-byte sequence
    const invalidTokenSequence = [9552, 9552];
    expect(() => encoding.decodeUtf8(invalidTokenSequence)).toThrow(HarmonyParseError);
    const prefixTokens = encoding.encode('<|start|>assistant<|message|>', all);
    const suffixTokens = encoding.encode('worked<|end|>', all);
    const parser = new StreamableParser(encoding, null);
    for (const token of [...prefixTokens, ...invalidTokenSequence, ...suffixTokens]) parser.process(token);
    expect(parser.messages).toEqual([Message.fromRoleAndContent(Role.Assistant, ' \uFFFD \uFFFDworked')]);
  });

  test('test_streamable_parser_invalid_utf8_decoding_split_across_tokens', () => {
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
    const validTokenSequence = encoding.encode('XY');
    encoding.decodeUtf8(validTokenSequence);
    // 9552 starts a multi-byte sequence, so prepending it makes the sequence invalid
    const invalidTokenSequence = [9552, ...validTokenSequence];
    expect(() => encoding.decodeUtf8(invalidTokenSequence)).toThrow(HarmonyParseError);
    const prefixTokens = encoding.encode('<|start|>assistant<|message|>', all);
    const suffixTokens = encoding.encode('<|end|>', all);
    const parser = new StreamableParser(encoding, null);
    for (const token of [...prefixTokens, ...invalidTokenSequence, ...suffixTokens]) parser.process(token);
    expect(parser.messages).toEqual([Message.fromRoleAndContent(Role.Assistant, ' \uFFFDXY')]);
  });

  test('test_streamable_parser_invalid_utf8_decoding_multi_byte_token', () => {
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
    const validTokenSequence = encoding.encode(' interesting');
    encoding.decodeUtf8(validTokenSequence);
    const invalidTokenSequence = [9552, ...validTokenSequence];
    expect(() => encoding.decodeUtf8(invalidTokenSequence)).toThrow(HarmonyParseError);
    const prefixTokens = encoding.encode('<|start|>assistant<|message|>', all);
    const suffixTokens = encoding.encode('<|end|>', all);
    const parser = new StreamableParser(encoding, null);
    for (const token of [...prefixTokens, ...invalidTokenSequence, ...suffixTokens]) parser.process(token);
    expect(parser.messages).toEqual([Message.fromRoleAndContent(Role.Assistant, ' \uFFFD interesting')]);
  });

  test('test_streamable_parser_invalid_utf8_decoding_multi_byte_token_no_eos_marker', () => {
    // Ensure we don't leave partially decoded tokens with no EOS marker.
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
    const validTokenSequence = encoding.encode(' interesting');
    encoding.decodeUtf8(validTokenSequence);
    const invalidTokenSequence = [9552, ...validTokenSequence];
    expect(() => encoding.decodeUtf8(invalidTokenSequence)).toThrow(HarmonyParseError);
    const prefixTokens = encoding.encode('<|start|>assistant<|message|>', all);
    const suffixTokens = encoding.encode(' story');
    const parser = new StreamableParser(encoding, null);
    const contentDeltas: string[] = [];
    for (const token of [...prefixTokens, ...invalidTokenSequence, ...suffixTokens]) {
      parser.process(token);
      if (parser.lastContentDelta !== undefined) contentDeltas.push(parser.lastContentDelta);
    }
    // No EOS, so no full message, but the current content is there.
    expect(parser.currentContent).toBe(' \uFFFD interesting story');
    expect(contentDeltas.join('')).toBe(' \uFFFD interesting story');
    // Content keeps accumulating.
    parser.process(encoding.encode('Y')[0]!);
    expect(parser.lastContentDelta).toBe('Y');
    expect(parser.currentContent).toBe(' \uFFFD interesting storyY');
  });

  test('test_streamable_parser_tricky_utf8_decoding', () => {
    // Text with various kinds of UTF-8 sequences that are more likely to fail.
    const encoding = loadHarmonyEncoding(HarmonyEncodingName.HarmonyGptOss);
    const trickyUtf8Text =
      'Hello Müller, Γειά σου, Привет, שלום, مرحبا, नमस्ते, こんにちは, 안녕하세요,' +
      ' 你好. Normalized (na\u00efve) vs. decomposed (nai\u0308ve) characters. ' +
      'Some emojis: 😊👋🏾👨‍👩‍👧‍👦🇺🇸.';
    const validTokenSequence = encoding.encode(trickyUtf8Text);
    const prefixTokens = encoding.encode('<|start|>assistant<|message|>', all);
    const suffixTokens = encoding.encode('<|end|>', all);
    const parser = new StreamableParser(encoding, null);
    const contentDeltas: string[] = [];
    for (const token of [...prefixTokens, ...validTokenSequence, ...suffixTokens]) {
      parser.process(token);
      if (parser.lastContentDelta !== undefined) contentDeltas.push(parser.lastContentDelta);
    }
    expect(parser.messages).toEqual([Message.fromRoleAndContent(Role.Assistant, trickyUtf8Text)]);
    expect(contentDeltas.join('')).toBe(trickyUtf8Text);
  });
});
