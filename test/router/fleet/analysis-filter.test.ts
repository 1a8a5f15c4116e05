import { describe, expect, it } from 'vitest';
import { AnalysisFilter } from '../../../src/router/analysis-filter.js';
import { harmonyEncoding } from '../../../src/router/render.js';
import { echoCompletionTokens } from '../../../src/router/engines/echo.js';
import { Role } from '../../../src/harmony/index.js';

const enc = harmonyEncoding();
const tokens = (text: string) => enc.encode(text, { allowedSpecial: 'all' });
const text = (ids: readonly number[]) => enc.decodeUtf8(ids);

/** Feeds the completion in pieces of `size` tokens, as an engine would. */
function filtered(ids: readonly number[], size: number): { out: number[]; filter: AnalysisFilter } {
  const filter = new AnalysisFilter();
  const out: number[] = [];
  for (let i = 0; i < ids.length; i += size) out.push(...filter.push(ids.slice(i, i + size)));
  out.push(...filter.flush());
  return { out, filter };
}

describe('AnalysisFilter', () => {
  it.each([1, 3, 1000])('drops the first analysis message and the next message’s start (pieces of %i)', (size) => {
    const completion = echoCompletionTokens(enc, 'What is 2+2?');
    const { out, filter } = filtered(completion, size);
    expect(text(out)).toBe('<|channel|>final<|message|>2 + 2 = 4.<|return|>');
    expect(filter.withheldTokens).toBeGreaterThan(0);
    // What is forwarded parses as the assistant's turn: one final message, no analysis.
    const messages = enc.parseMessagesFromCompletionTokens(out, Role.Assistant);
    expect(messages.map((message) => message.channel)).toEqual(['final']);
  });

  it('drops analysis in the middle and keeps commentary and tool calls', () => {
    const completion = tokens(
      '<|channel|>commentary<|message|>Looking it up.<|end|>' +
        '<|start|>assistant<|channel|>analysis<|message|>secret reasoning<|end|>' +
        '<|start|>assistant to=functions.lookup<|channel|>commentary <|constrain|>json<|message|>{"q":1}<|call|>',
    );
    const { out } = filtered(completion, 2);
    const forwarded = text(out);
    expect(forwarded).not.toContain('secret');
    expect(forwarded).toBe(
      '<|channel|>commentary<|message|>Looking it up.<|end|>' +
        '<|start|>assistant to=functions.lookup<|channel|>commentary <|constrain|>json<|message|>{"q":1}<|call|>',
    );
  });

  it('a first message addressed to a tool keeps its recipient when analysis came before it', () => {
    const completion = tokens(
      '<|channel|>analysis<|message|>think<|end|><|start|>assistant to=functions.f<|channel|>commentary json<|message|>{}<|call|>',
    );
    const { out } = filtered(completion, 1);
    expect(text(out)).toBe(' to=functions.f<|channel|>commentary json<|message|>{}<|call|>');
    const messages = enc.parseMessagesFromCompletionTokens(out, Role.Assistant);
    expect(messages[0]?.recipient).toBe('functions.f');
  });

  it('withholds an analysis message cut short by max_tokens', () => {
    const completion = tokens('<|channel|>analysis<|message|>long reasoning that never');
    const { out } = filtered(completion, 4);
    expect(out).toEqual([]);
  });

  it('passes a completion with no analysis through unchanged', () => {
    const completion = tokens('<|channel|>final<|message|>hello<|return|>');
    expect(filtered(completion, 1).out).toEqual(completion);
  });
});
