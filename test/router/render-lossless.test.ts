/**
 * The router reads a conversation with tool schemas from the request's text, as the reference
 * reads it: numbers keep their spelling (1.0, -0.0, integers past 2^53) and objects their key
 * order, which JSON.parse of the whole payload would lose.
 */
import { describe, expect, it } from 'vitest';

import { Conversation, Role, loadHarmonyEncoding } from '../../src/harmony/index.js';
import type { RequestPayload } from '../../src/hpke/index.js';
import { losslessSource, renderPrompt } from '../../src/router/render.js';

const schema = '{"type":"object","properties":{"b":{"type":"number","default":1.0},"1":{"type":"integer","default":9007199254740993}},"required":["b"]}';
const conversationText =
  '{"messages":[{"role":"system","content":[{"type":"system_content","reasoning_effort":"Medium","conversation_start_date":"2026-12-02"}]},' +
  '{"role":"developer","content":[{"type":"developer_content","tools":{"functions":{"name":"functions","tools":' +
  `[{"name":"weigh","description":"Weighs a thing","parameters":${schema}}]}}}]},` +
  '{"role":"user","content":[{"type":"text","text":"weigh it"}]}]}';
const payloadText = `{"v":1,"rid":"r1","iat":0,"model":"gpt-oss-20b","conversation":${conversationText},"params":{}}`;
const payload = JSON.parse(payloadText) as RequestPayload;
const encoder = new TextEncoder();

describe('router render: tool schemas from the request text', () => {
  const encoding = loadHarmonyEncoding('HarmonyGptOss');
  const expected = encoding.renderConversationForCompletion(Conversation.fromJson(conversationText), Role.Assistant);

  it('renders the same tokens as the library reading the conversation JSON itself', () => {
    const source = losslessSource(encoder.encode(`${payloadText}    `));
    expect(source).toBeDefined();
    const prompt = renderPrompt(payload, new Date(0), source);
    expect(prompt.tokens).toEqual(expected);
    const text = encoding.decodeUtf8(prompt.tokens);
    // Document order (b before 1), the float's spelling and the exact integer.
    expect(text).toContain('b: number, // default: 1.0\n1?: number, // default: 9007199254740993\n');
  });

  it('differs from a render of the JSON.parse payload (which is why the source is used)', () => {
    const lossy = renderPrompt(payload, new Date(0));
    expect(lossy.tokens).not.toEqual(expected);
  });

  it('uses no source for conversations without tool schemas', () => {
    expect(losslessSource(encoder.encode('{"v":1,"conversation":{"messages":[]}}'))).toBeUndefined();
  });
});
