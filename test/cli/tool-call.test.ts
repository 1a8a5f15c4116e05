/** The tool call an answer ends with: which messages count, the event, and a terminal-safe line. */
import { describe, expect, it } from 'vitest';
import { Message, Role } from '../../src/harmony/index.js';
import { toolCallLine, toolCallOf, toolCallRecord } from '../../src/cli/tool-call.js';
import { parseToolsDocument } from '../../src/client/tools.js';

const call = (recipient: string, text: string, contentType?: string) => {
  const message = Message.fromRoleAndContent(Role.Assistant, text).withChannel('commentary').withRecipient(recipient);
  if (contentType) message.withContentType(contentType);
  return message;
};

describe('toolCallOf', () => {
  it('parses JSON arguments only when the content type says JSON', () => {
    expect(toolCallRecord(toolCallOf([call('functions.f', '{"a":1}', '<|constrain|>json')])!)).toMatchObject({ name: 'f', namespace: 'functions', arguments: { a: 1 } });
    expect(toolCallRecord(toolCallOf([call('python', 'print(1)')])!)).toMatchObject({ name: 'python', namespace: 'python', arguments: null, raw: 'print(1)' });
    expect(toolCallRecord(toolCallOf([call('functions.f', '{"a":1}', 'code')])!)).toMatchObject({ arguments: null, content_type: 'code' });
  });

  it('a message to the user or assistant, or a recipient that names nothing, is not a call', () => {
    expect(toolCallOf([call('assistant', 'x')])).toBeUndefined();
    expect(toolCallOf([call('2?', 'x')])).toBeUndefined();
    expect(toolCallOf([Message.fromRoleAndContent(Role.Assistant, 'hi').withChannel('final')])).toBeUndefined();
  });

  it('the stderr line has no control sequences from the model', () => {
    const line = toolCallLine(toolCallOf([call('functions.f', '"\u001b[31mred\u0007\u202e"', 'json')])!);
    expect(line).toBe('tool call: functions.f "\\x1b[31mred\\x07\\u202e"');
    // eslint-disable-next-line no-control-regex
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
  });
});

describe('parseToolsDocument shapes', () => {
  const fn = { name: 'f', description: 'd', parameters: { type: 'object', properties: {} } };
  it('accepts the OpenAI array, a request body, a namespace, a ToolDescription list and DeveloperContent JSON', () => {
    for (const doc of [
      [{ type: 'function', function: fn }],
      { model: 'x', tools: [{ type: 'function', function: fn }] },
      { name: 'functions', tools: [fn] },
      [fn],
      { type: 'developer_content', tools: { functions: { name: 'functions', tools: [fn] } } },
    ]) {
      expect(parseToolsDocument(doc, 'f.json').map((tool) => tool.toDict())).toEqual([fn]);
    }
  });

  it('refuses other namespaces (built-ins come from --builtin)', () => {
    expect(() => parseToolsDocument({ name: 'browser', tools: [fn] }, 'f.json')).toThrow(/namespace 'browser' is not 'functions'/);
  });
});
