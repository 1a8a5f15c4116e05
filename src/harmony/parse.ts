/**
 * Whole-completion parsing: the reference's `parse_messages_from_completion_tokens`, which feeds a
 * StreamableParser every token and then the end of stream. A completion given as text (special
 * tokens written out) is encoded with every special token allowed and parsed the same way, so it
 * yields the same messages as its tokens.
 */
import type { Message, Role } from './model.js';
import { StreamableParser, type EncodingLike, type ParseOptions } from './streamable-parser.js';
import { encodeWithSpecialTokens } from './tokenizer.js';

const ENCODING: EncodingLike = { name: 'HarmonyGptOss' };

/** Parses completion tokens into messages; `role` is the first message's role when its header omits it. */
export function parseMessagesFromCompletionTokens(
  tokens: Iterable<number>,
  role?: Role | null,
  options: ParseOptions = {},
): Message[] {
  const parser = new StreamableParser(ENCODING, role ?? null, options);
  for (const token of tokens) parser.process(token);
  parser.processEos();
  return [...parser.messages];
}

/** Parses a completion written as text, e.g. `<|channel|>final<|message|>Hi<|return|>`. */
export function parseMessagesFromCompletionText(text: string, role?: Role | null, options: ParseOptions = {}): Message[] {
  return parseMessagesFromCompletionTokens(encodeWithSpecialTokens(text), role, options);
}
