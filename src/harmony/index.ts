/**
 * harmony-hpke/harmony: OpenAI's Harmony format (o200k_harmony) in TypeScript, agreeing with
 * openai/harmony v0.0.8 token for token. Pure: no process, file or network I/O.
 *
 *   const enc = loadHarmonyEncoding('HarmonyGptOss');
 *   const ids = enc.renderConversationForCompletion(convo, Role.Assistant);
 *   const messages = enc.parseMessagesFromCompletionTokens(completionIds, Role.Assistant);
 *
 * loadHarmonyEncoding() is cheap; the BPE ranks load on the first encode/decode.
 */
import { HarmonyErrorCode, UsageError } from './errors.js';
import type { Message, RenderConversationConfigLike, RenderOptionsLike, Role } from './model.js';
import { parseMessagesFromCompletionText, parseMessagesFromCompletionTokens } from './parse.js';
import { STOP_TOKENS, STOP_TOKENS_FOR_ASSISTANT_ACTIONS, allSpecialTokens } from './registry.js';
import {
  render,
  renderConversation,
  renderConversationForCompletion,
  renderConversationForTraining,
  type MessageList,
} from './render.js';
import type { ParseOptions } from './streamable-parser.js';
import * as tokenizer from './tokenizer.js';

export * from './model.js';
export { HarmonyErrorCode, HarmonyParseError, UsageError } from './errors.js';
export {
  SpecialToken,
  SpecialTokenText,
  TOKEN_IDS,
  STOP_TOKENS,
  STOP_TOKENS_FOR_ASSISTANT_ACTIONS,
  VOCAB_SIZE,
  allSpecialTokens,
  isSpecialTokenId,
  specialTokenId,
  specialTokenText,
  type SpecialTokenName,
} from './registry.js';
export { StreamableParser, StreamState, type ParseOptions, type ParseRecovery, type StreamStateData, type EncodingLike } from './streamable-parser.js';
export { isRanksLoaded, preloadRanks, type EncodeOptions, type SpecialTokenSet } from './tokenizer.js';
export { jsonSchemaToTypescript } from './render-tools.js';
export { pythonJsonDumps, type JsonObject, type JsonValue } from './python-json.js';
export type { MessageList } from './render.js';
export type { ParsedHeader } from './header.js';

export const HarmonyEncodingName = { HarmonyGptOss: 'HarmonyGptOss' } as const;
export type HarmonyEncodingName = (typeof HarmonyEncodingName)[keyof typeof HarmonyEncodingName];

/** The o200k_harmony encoding as openai_harmony's `HarmonyEncoding`, in TypeScript naming. */
export class HarmonyEncoding {
  readonly name: HarmonyEncodingName = HarmonyEncodingName.HarmonyGptOss;
  readonly tokenizerName = 'o200k_harmony';
  /** Context window (2^20) and longest assistant action (2^19), as in the reference registry. */
  readonly nCtx = 1_048_576;
  readonly maxActionLength = 524_288;
  readonly maxMessageTokens = 1_048_576 - 524_288;

  /** Renders a conversation and opens the next turn (`<|start|>assistant`), ready for sampling. */
  renderConversationForCompletion(conversation: MessageList, nextTurnRole: Role, config?: RenderConversationConfigLike): number[] {
    return renderConversationForCompletion(conversation, nextTurnRole, config);
  }

  /** Renders a conversation (analysis before a final answer dropped unless autoDropAnalysis is false). */
  renderConversation(conversation: MessageList, config?: RenderConversationConfigLike): number[] {
    return renderConversation(conversation, config);
  }

  /** Renders for training: a trailing assistant final message ends in `<|return|>`. */
  renderConversationForTraining(conversation: MessageList, config?: RenderConversationConfigLike): number[] {
    return renderConversationForTraining(conversation, config);
  }

  /** Renders one message. */
  render(message: Message, options?: RenderOptionsLike): number[] {
    return render(message, options);
  }

  /** Encodes text; special tokens must be allowed (throws UsageError on a disallowed one). */
  encode(text: string, options?: tokenizer.EncodeOptions): number[] {
    return tokenizer.encode(text, options);
  }

  /** Encodes text as ordinary text (special-token spellings are plain characters). */
  encodeOrdinary(text: string): number[] {
    return tokenizer.encodeOrdinary(text);
  }

  /** Decodes to text, invalid UTF-8 replaced by U+FFFD. */
  decode(tokens: Iterable<number>): string {
    return tokenizer.decode(tokens);
  }

  /** Decodes to text; throws HarmonyParseError (HARMONY_INVALID_UTF8 / HARMONY_INVALID_TOKEN). */
  decodeUtf8(tokens: Iterable<number>): string {
    return tokenizer.decodeUtf8(tokens);
  }

  /** Raw bytes of the tokens. */
  decodeBytes(tokens: Iterable<number>): Uint8Array {
    return tokenizer.decodeBytes(tokens);
  }

  isSpecialToken(token: number): boolean {
    return tokenizer.isSpecialToken(token);
  }

  /** All 1,091 special tokens' texts. */
  specialTokens(): string[] {
    return allSpecialTokens();
  }

  /** `<|return|>`, `<|end|>`, `<|call|>`: where a message ends. */
  stopTokens(): number[] {
    return [...STOP_TOKENS];
  }

  /** `<|return|>`, `<|call|>`: where the assistant's turn ends (sampling stops). */
  stopTokensForAssistantActions(): number[] {
    return [...STOP_TOKENS_FOR_ASSISTANT_ACTIONS];
  }

  /** Parses completion tokens to messages (strict by default, like the reference). */
  parseMessagesFromCompletionTokens(tokens: Iterable<number>, role?: Role | null, options?: ParseOptions): Message[] {
    return parseMessagesFromCompletionTokens(tokens, role, options);
  }

  /** Parses a completion given as text with special tokens written out. */
  parseMessagesFromCompletionText(text: string, role?: Role | null, options?: ParseOptions): Message[] {
    return parseMessagesFromCompletionText(text, role, options);
  }

  toString(): string {
    return `Renderer(${this.name})`;
  }
}

let shared: HarmonyEncoding | undefined;

/** Returns the encoding (cheap: the tokenizer's ranks load on first use). */
export function loadHarmonyEncoding(name: HarmonyEncodingName | string = HarmonyEncodingName.HarmonyGptOss): HarmonyEncoding {
  if (String(name) !== HarmonyEncodingName.HarmonyGptOss) {
    throw new UsageError(HarmonyErrorCode.UnknownEncoding, `Invalid HarmonyEncodingName: ${String(name)}`);
  }
  return (shared ??= new HarmonyEncoding());
}

export { parseMessagesFromCompletionTokens, parseMessagesFromCompletionText };
export { render, renderConversation, renderConversationForCompletion, renderConversationForTraining };
