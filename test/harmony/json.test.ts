/**
 * Tool-schema JSON as the reference reads and prints it (serde_json with preserve_order), and the
 * inputs the reference refuses. Expected values are the reference's outputs (see the issue 14
 * differential fixtures for thousands more).
 */
import { describe, expect, test } from 'vitest';
import { Conversation, HarmonyErrorCode, Message, loadHarmonyEncoding, Role, UsageError } from '../../src/harmony/index.js';
import { formatJsonNumberText, parseJsonLossless, serdeJsonText } from '../../src/harmony/json.js';

const encoding = loadHarmonyEncoding();

function toolsPrompt(parameters: string): string {
  const json = `{"messages":[{"role":"developer","content":[{"type":"developer_content","tools":{"functions":{"name":"functions","tools":[{"name":"f","description":"d","parameters":${parameters}}]}}}]}]}`;
  return encoding.decode(encoding.renderConversation(Conversation.fromJson(json)));
}

describe('numbers as serde_json prints them', () => {
  test.each([
    ['1.0', '1.0'],
    ['-0', '-0.0'],
    ['1e5', '100000.0'],
    ['1e100', '1e100'],
    ['0.000001', '1e-6'],
    ['100000000000000000000', '1e20'],
    ['9007199254740993', '9007199254740993'],
    ['18446744073709551615', '18446744073709551615'],
    ['-9223372036854775808', '-9223372036854775808'],
    ['-9223372036854775809', '-9.223372036854776e18'],
    ['1.7976931348623157e307', '1.7976931348623155e307'], // serde_json's own (not correctly rounded) parse
    ['0.1', '0.1'],
    ['12', '12'],
  ])('%s prints as %s', (source, printed) => {
    expect(formatJsonNumberText(source)).toBe(printed);
    expect(toolsPrompt(`{"type":"object","properties":{"x":{"type":"number","default":${source}}}}`)).toContain(`// default: ${printed}\n`);
  });

  test('a number outside f64 is refused, as serde_json refuses it', () => {
    expect(() => parseJsonLossless('[1e400]')).toThrow(/out of range/);
  });
});

describe('member order', () => {
  test('integer-like keys keep their place in properties and in printed defaults', () => {
    const prompt = toolsPrompt('{"type":"object","properties":{"b":{"type":"string"},"1":{"type":"number","default":{"b":1,"1":2}}}}');
    expect(prompt.indexOf('b?: string')).toBeLessThan(prompt.indexOf('1?: number'));
    expect(prompt).toContain('// default: {"b":1,"1":2}');
  });

  test('a repeated key in a value keeps its first place and takes the last value', () => {
    expect(serdeJsonText(parseJsonLossless('{"a":1,"1":2,"a":3}'))).toBe('{"a":3,"1":2}');
  });
});

describe('what the reference refuses is a typed error', () => {
  const refused = (json: string) => {
    try {
      Conversation.fromJson(json);
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).code).toBe(HarmonyErrorCode.InvalidJson);
      return;
    }
    throw new Error('accepted');
  };
  test('a bare string inside the content list', () => refused('{"messages":[{"role":"user","content":["hi"]}]}'));
  test('a message without author.role', () => refused('{"messages":[{"content":"hi"}]}'));
  test('a nested author object instead of a role', () => refused('{"messages":[{"author":{"role":"user"},"content":"hi"}]}'));
  test.each(['HIGH', 'Low ', 'low', 'medium'])('reasoning_effort %s', (effort) =>
    refused(`{"messages":[{"role":"system","content":[{"type":"system_content","reasoning_effort":"${effort}"}]}]}`),
  );
  test('channel_config without channel_required', () =>
    refused('{"messages":[{"role":"system","content":[{"type":"system_content","channel_config":{"valid_channels":["final"]}}]}]}'),
  );
  test('a struct field given twice', () =>
    refused('{"messages":[{"role":"system","content":[{"type":"system_content","model_identity":"a","model_identity":"b"}]}]}'),
  );
  test('JSON nested deeper than 128 levels (127 is fine)', () => {
    const nested = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
    // The document itself nests 10 levels down to the default.
    const json = (depth: number) =>
      `{"messages":[{"role":"developer","content":[{"type":"developer_content","tools":{"functions":{"name":"functions","tools":[{"name":"f","description":"d","parameters":{"default":${nested(depth)}}}]}}}]}]}`;
    expect(() => Conversation.fromJson(json(127 - 10))).not.toThrow();
    refused(json(128 - 10));
  });
  test('the Exactly spelled efforts are accepted', () => {
    for (const effort of ['Low', 'Medium', 'High']) {
      expect(() => Message.fromJson(`{"role":"system","content":[{"type":"system_content","reasoning_effort":"${effort}"}]}`)).not.toThrow();
    }
  });
});

describe('lenient parsing never fails where the reference non-strict mode succeeds', () => {
  test('<|channel|> inside content followed by no valid header stays content', () => {
    const tokens = encoding.encode('<|channel|>final<|message|>a<|channel|> b<|return|>', { allowedSpecial: 'all' });
    const messages = encoding.parseMessagesFromCompletionTokens(tokens, Role.Assistant, { strict: false });
    expect(messages.map((m) => m.toDict())).toEqual([
      { role: 'assistant', name: null, content: [{ type: 'text', text: 'a<|channel|> b' }], channel: 'final' },
    ]);
  });
  test('an inner <|start|> whose restarted header does not parse: the whole header, and the tool call keeps its name', () => {
    const tokens = encoding.encode('<|channel|>final<|message|>x<|call|><|start|>assistant<|channel|>commentary to=functions.get_weather<|start|><|message|>y<|end|>', {
      allowedSpecial: 'all',
    });
    // Used to fail ('message header did not contain a role'); the reference's non-strict mode
    // gives final 'x' and commentary 'y' (recipient 'functions.get_weather<|start|>'); lenient
    // recoveries may tidy the recipient.
    const messages = encoding.parseMessagesFromCompletionTokens(tokens, Role.Assistant, { strict: false });
    // The reference (non-strict) reads the recipient as 'functions.get_weather<|start|>'; lenient
    // mode may recover more than the reference, never less: the call keeps its tool's name.
    expect(messages.map((m) => [m.channel, m.recipient, (m.content[0] as { text: string }).text])).toEqual([
      ['final', undefined, 'x'],
      ['commentary', 'functions.get_weather', 'y'],
    ]);
  });

  test('a real header after a missing <|end|> is still recovered', () => {
    const tokens = encoding.encode('<|channel|>analysis<|message|>think<|start|>assistant<|channel|>final<|message|>hi<|return|>', { allowedSpecial: 'all' });
    const messages = encoding.parseMessagesFromCompletionTokens(tokens, Role.Assistant, { strict: false });
    expect(messages.map((m) => [m.channel, m.content[0]])).toEqual([
      ['analysis', expect.objectContaining({ text: 'think' })],
      ['final', expect.objectContaining({ text: 'hi' })],
    ]);
  });
});
