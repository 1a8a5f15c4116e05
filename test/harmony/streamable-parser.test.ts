/**
 * StreamableParser beyond the reference's own tests: getters and state through a message, typed
 * errors and their codes, header variants real models produce, and the lenient/strict split.
 */
import { describe, expect, test } from 'vitest';
import {
  Author,
  HarmonyErrorCode,
  HarmonyParseError,
  Message,
  Role,
  SpecialToken,
  StreamState,
  StreamableParser,
  loadHarmonyEncoding,
} from '../../src/harmony/index.js';

const encoding = loadHarmonyEncoding('HarmonyGptOss');
const enc = (text: string) => encoding.encode(text, { allowedSpecial: 'all' });

function thrown(fn: () => unknown): HarmonyParseError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HarmonyParseError);
    return error as HarmonyParseError;
  }
  throw new Error('expected a HarmonyParseError');
}

describe('StreamableParser getters and state', () => {
  test('through a tool call: header fields appear with <|message|>, deltas per token, reset at the stop token', () => {
    const parser = new StreamableParser(encoding, Role.Assistant);
    expect(parser.state).toBe(StreamState.Header);
    expect(parser.currentRole).toBe(Role.Assistant);
    parser.processTokens(enc('<|channel|>commentary to=functions.get_weather <|constrain|>json'));
    expect(parser.state).toBe(StreamState.Header);
    expect(parser.currentChannel).toBeUndefined();
    expect(parser.stateData).toEqual({ state: 'Header', header_tokens: enc('<|channel|>commentary to=functions.get_weather <|constrain|>json') });
    parser.process(SpecialToken.Message);
    expect(parser.state).toBe(StreamState.Content);
    expect(parser.currentChannel).toBe('commentary');
    expect(parser.currentRecipient).toBe('functions.get_weather');
    expect(parser.currentContentType).toBe('<|constrain|>json');
    expect(parser.lastContentDelta).toBeUndefined();
    const body = enc('{"location": "Tokyo"}');
    const deltas: string[] = [];
    for (const token of body) {
      parser.process(token);
      deltas.push(parser.lastContentDelta!);
    }
    expect(deltas.join('')).toBe('{"location": "Tokyo"}');
    expect(parser.currentContent).toBe('{"location": "Tokyo"}');
    expect(parser.stateData).toEqual({
      state: 'Content',
      header: { author: { role: 'assistant' }, recipient: 'functions.get_weather', channel: 'commentary', content_type: '<|constrain|>json' },
      content_tokens: body,
    });
    parser.process(SpecialToken.Call);
    expect(parser.state).toBe(StreamState.ExpectStart);
    expect(parser.currentRole).toBeUndefined();
    expect(parser.currentChannel).toBeUndefined();
    expect(parser.lastContentDelta).toBeUndefined();
    expect(parser.messages).toEqual([
      Message.fromRoleAndContent(Role.Assistant, '{"location": "Tokyo"}')
        .withChannel('commentary')
        .withRecipient('functions.get_weather')
        .withContentType('<|constrain|>json'),
    ]);
    expect(parser.tokens).toHaveLength(enc('<|channel|>commentary to=functions.get_weather <|constrain|>json').length + 1 + body.length + 1);
    parser.processEos();
    expect(parser.messages).toHaveLength(1);
  });

  test('an unknown author with a recipient is a tool, named by its header', () => {
    const messages = encoding.parseMessagesFromCompletionTokens(enc('<|start|>python to=assistant<|channel|>analysis<|message|>42<|end|>'));
    expect(messages).toEqual([
      Message.fromAuthorAndContent(Author.new(Role.Tool, 'python'), '42').withRecipient('assistant').withChannel('analysis'),
    ]);
  });

  test('the recipient before or after the channel gives the same header', () => {
    const a = encoding.parseMessagesFromCompletionText('<|start|>assistant to=functions.f<|channel|>commentary json<|message|>{}<|call|>');
    const b = encoding.parseMessagesFromCompletionText('<|start|>assistant<|channel|>commentary to=functions.f json<|message|>{}<|call|>');
    expect(a).toEqual(b);
    expect(a[0]!.recipient).toBe('functions.f');
    expect(a[0]!.contentType).toBe('json');
  });
});

describe('typed errors (codes are stable)', () => {
  test('a completion that does not start with <|start|> (no role given)', () => {
    const error = thrown(() => encoding.parseMessagesFromCompletionTokens(enc('hello'), null));
    expect(error.code).toBe(HarmonyErrorCode.UnexpectedToken);
    expect(error.message).toContain(`expecting start token ${SpecialToken.Start}`);
  });

  test('end of stream inside a header, in both modes', () => {
    for (const strict of [true, false]) {
      const error = thrown(() => encoding.parseMessagesFromCompletionTokens(enc('<|start|>assistant<|channel|>final'), null, { strict }));
      expect(error.code).toBe(HarmonyErrorCode.UnexpectedEos);
    }
  });

  test('an unknown role without a recipient', () => {
    expect(thrown(() => encoding.parseMessagesFromCompletionText('<|start|>robot<|message|>x<|end|>')).code).toBe(HarmonyErrorCode.UnknownRole);
  });

  test('a channel marker without a value', () => {
    expect(thrown(() => encoding.parseMessagesFromCompletionText('<|start|>assistant<|channel|> <|message|>x<|end|>')).code).toBe(
      HarmonyErrorCode.MalformedHeader,
    );
  });

  test('leftover words in a header (strict) and the lenient recovery from a missing <|message|>', () => {
    const text = 'Thinking out loud<|end|><|start|>assistant<|channel|>final<|message|>Done<|return|>';
    const error = thrown(() => encoding.parseMessagesFromCompletionText(text, Role.Assistant));
    expect(error.code).toBe(HarmonyErrorCode.MalformedHeader);
    expect(encoding.parseMessagesFromCompletionText(text, Role.Assistant, { strict: false })).toEqual([
      Message.fromRoleAndContent(Role.Assistant, 'Thinking out loud'),
      Message.fromRoleAndContent(Role.Assistant, 'Done').withChannel('final'),
    ]);
  });

  test('after a header error the parser expects <|start|> (like the reference)', () => {
    const parser = new StreamableParser(encoding, Role.Assistant);
    parser.processTokens(enc('junk words here'));
    expect(() => parser.process(SpecialToken.Message)).toThrow(HarmonyParseError);
    expect(parser.state).toBe(StreamState.ExpectStart);
    parser.processTokens(enc('<|start|>assistant<|message|>ok<|end|>'));
    expect(parser.messages).toEqual([Message.fromRoleAndContent(Role.Assistant, 'ok')]);
  });
});
