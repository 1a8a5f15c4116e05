import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  closingTokenFor,
  IdDeltaTracker,
  IncrementalEncoder,
  ndjsonMessages,
  sseMessages,
  stableLength,
  TextDeltaTracker,
  type UpstreamMessage,
} from '../../../src/router/adapters/stream.js';
import { ANSWER_IDS, CALL, ids, RETURN, tokenizer, TOOL_CALL_TEXT } from './helpers.js';

async function* chunks(...parts: string[]): AsyncGenerator<string> {
  for (const part of parts) yield part;
}

async function collect(source: AsyncIterable<UpstreamMessage>): Promise<{ messages: UpstreamMessage[]; error?: unknown }> {
  const messages: UpstreamMessage[] = [];
  try {
    for await (const message of source) messages.push(message);
  } catch (error) {
    return { messages, error };
  }
  return { messages };
}

describe('sseMessages', () => {
  it('parses data events split anywhere, skips comments, and passes [DONE] on', async () => {
    const { messages, error } = await collect(
      sseMessages(chunks(': ping\n\nda', 'ta: {"a"', ':1}\r\n\r\n:keep-alive\n\ndata: [DONE]\n\n')),
    );
    expect(error).toBeUndefined();
    expect(messages).toEqual([{ type: 'json', value: { a: 1 } }, { type: 'done' }]);
  });

  it('joins multi-line data fields', async () => {
    const { messages } = await collect(sseMessages(chunks('data: {"a":\ndata: 2}\n\n')));
    expect(messages).toEqual([{ type: 'json', value: { a: 2 } }]);
  });

  it("reports `event: error` and llama.cpp's `error:` field as UPSTREAM_STREAM_ERROR", async () => {
    for (const body of ['event: error\ndata: {"m":"x"}\n\n', 'data: {"a":1}\n\nerror: {"code":500}\n\n']) {
      const { error } = await collect(sseMessages(chunks(body)));
      expect(error).toMatchObject({ code: 'UPSTREAM_STREAM_ERROR' });
    }
  });

  it('reports non-SSE lines and non-JSON data as UPSTREAM_BAD_STREAM, delivering what came before', async () => {
    const first = await collect(sseMessages(chunks('data: {"a":1}\n\n{"not":"sse"}\n\n')));
    expect(first.messages).toEqual([{ type: 'json', value: { a: 1 } }]);
    expect(first.error).toMatchObject({ code: 'UPSTREAM_BAD_STREAM' });
    const second = await collect(sseMessages(chunks('data: {secret prompt text\n\n')));
    expect(second.error).toMatchObject({ code: 'UPSTREAM_BAD_STREAM' });
    expect((second.error as Error).message).not.toContain('secret');
  });
});

describe('ndjsonMessages', () => {
  it('parses lines split anywhere, with or without a final newline', async () => {
    const { messages } = await collect(ndjsonMessages(chunks('{"a"', ':1}\n\n{"b":2}\r\n{"c"', ':3}')));
    expect(messages).toEqual([
      { type: 'json', value: { a: 1 } },
      { type: 'json', value: { b: 2 } },
      { type: 'json', value: { c: 3 } },
    ]);
  });

  it('reports a malformed line as UPSTREAM_BAD_STREAM', async () => {
    const { error } = await collect(ndjsonMessages(chunks('{"a":1}\n{oops\n')));
    expect(error).toMatchObject({ code: 'UPSTREAM_BAD_STREAM' });
  });
});

describe('IdDeltaTracker', () => {
  it('passes incremental ids through', () => {
    const tracker = new IdDeltaTracker('incremental');
    expect(tracker.next([1, 2])).toEqual([1, 2]);
    expect(tracker.next([1, 2])).toEqual([1, 2]);
    expect(tracker.all).toEqual([1, 2, 1, 2]);
  });

  it('turns cumulative ids into increments and refuses ids that do not extend', () => {
    const tracker = new IdDeltaTracker('cumulative');
    expect(tracker.next([1])).toEqual([1]);
    expect(tracker.next([1, 2, 3])).toEqual([2, 3]);
    expect(tracker.next([1, 2, 3])).toEqual([]);
    expect(() => tracker.next([1, 9, 3, 4])).toThrow(expect.objectContaining({ code: 'UPSTREAM_BAD_STREAM' }));
  });

  it('tells cumulative from incremental by the upstream total, even when ids repeat', () => {
    const cumulative = new IdDeltaTracker('auto');
    cumulative.next([13], 1);
    expect(cumulative.next([13, 13], 2)).toEqual([13]);
    expect(cumulative.resolvedMode).toBe('cumulative');
    const incremental = new IdDeltaTracker('auto');
    incremental.next([13], 1);
    expect(incremental.next([13, 13], 3)).toEqual([13, 13]);
    expect(incremental.resolvedMode).toBe('incremental');
  });

  it('falls back to the prefix rule without a total', () => {
    const tracker = new IdDeltaTracker('auto');
    tracker.next([5, 6]);
    expect(tracker.next([7])).toEqual([7]);
    expect(tracker.resolvedMode).toBe('incremental');
  });
});

describe('TextDeltaTracker', () => {
  it('handles cumulative and incremental text', () => {
    const auto = new TextDeltaTracker('auto');
    expect(auto.next('Hel')).toBe('Hel');
    expect(auto.next('Hello')).toBe('lo');
    expect(auto.next('Hello!')).toBe('!');
    const incremental = new TextDeltaTracker('auto');
    incremental.next('Hel');
    expect(incremental.next('lo')).toBe('lo');
  });
});

describe('stableLength', () => {
  it('holds back the last word, trailing whitespace and partial special tokens', () => {
    expect(stableLength('Hello wor')).toBe(5);
    expect(stableLength('Hello world  ')).toBe(11);
    expect(stableLength('<|channel|>anal')).toBe(11);
    expect(stableLength('<|channel|>analysis<|mess')).toBe(11);
    expect(stableLength('<|channel|>analysis<|message|>')).toBe(30);
    expect(stableLength('a! \n')).toBe(2);
    expect(stableLength('end.\n\nNext')).toBe(0);
    expect(stableLength('x <')).toBe(1);
  });
});

describe('IncrementalEncoder', () => {
  it('emits exactly the ids of the whole text, for the fixtures’ completions cut every 3 characters', () => {
    for (const text of [tokenizer.decode(ANSWER_IDS), TOOL_CALL_TEXT]) {
      const encoder = new IncrementalEncoder(tokenizer);
      const out: number[] = [];
      for (let i = 0; i < text.length; i += 3) out.push(...encoder.push(text.slice(i, i + 3)));
      out.push(...encoder.flush());
      expect(out).toEqual(ids(text));
    }
  });

  it('emits the ids of the whole text however the text is cut (property)', () => {
    const pieces = fc.constantFrom(
      'Hello', ' world', ' ', '  ', '\n', '\n\n', '\t', '.', '!', '?"', ' "', '2', '+', '12345', "'s", "'ll", 'ABc',
      'é', '—', ' четыре', '四', ' ✅', '🦙', ' 🦙', '\u00a0', '\u0085', '/', '<', '|', '>', '<|', '<|channel|>',
      '<|message|>', '<|end|>', '<|start|>', 'assistant', '<|constrain|>', 'json', '<|return|>', '<|call|>', ' to=functions.get_weather',
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 40 }), fc.array(fc.nat({ max: 400 }), { maxLength: 12 }), (parts, cutsRaw) => {
        const text = parts.join('');
        const cuts = [...new Set(cutsRaw.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        const encoder = new IncrementalEncoder(tokenizer);
        const out: number[] = [];
        let from = 0;
        for (const cut of [...cuts, text.length]) {
          out.push(...encoder.push(text.slice(from, cut)));
          from = cut;
        }
        out.push(...encoder.flush());
        expect(out).toEqual(ids(text));
      }),
      { numRuns: 300 },
    );
  });
});

describe('closingTokenFor', () => {
  it('is <|call|> when the last header names a recipient, else <|return|>', () => {
    expect(closingTokenFor(ids(TOOL_CALL_TEXT).slice(0, -1), tokenizer)).toBe(CALL);
    expect(closingTokenFor(ANSWER_IDS.slice(0, -1), tokenizer)).toBe(RETURN);
    expect(closingTokenFor(ids('<|channel|>commentary to=functions.f <|constrain|>json<|message|>{}'), tokenizer)).toBe(CALL);
    expect(closingTokenFor(ids('<|channel|>final<|message|>I will go to=the market'), tokenizer)).toBe(RETURN);
    expect(closingTokenFor([], tokenizer)).toBe(RETURN);
  });
});
