/**
 * The o200k_harmony encoding as openai_harmony's `HarmonyEncoding`, in TypeScript naming. Each
 * encoding owns its tokenizer (built over the rank table it is given): rendering, encoding,
 * decoding and parsing all go through it, and two encodings share nothing.
 *
 * Whole-completion parsing is the reference's `parse_messages_from_completion_tokens`: a
 * StreamableParser over this encoding fed every token and then the end of stream. A completion
 * given as text (special tokens written out) is encoded with every special token allowed and
 * parsed the same way, so it yields the same messages as its tokens.
 */
import { HarmonyErrorCode, UsageError } from './errors.js';
import type { Message, RenderConversationConfigLike, RenderOptionsLike, Role } from './model.js';
import { STOP_TOKENS, STOP_TOKENS_FOR_ASSISTANT_ACTIONS, allSpecialTokens } from './registry.js';
import { render, renderConversation, renderConversationForCompletion, renderConversationForTraining, type MessageList } from './render.js';
import { StreamableParser, type EncodingLike, type ParseOptions } from './streamable-parser.js';
import { Tokenizer, type EncodeOptions, type RanksSource, type TokenizerOptions } from './tokenizer.js';

export const HarmonyEncodingName = { HarmonyGptOss: 'HarmonyGptOss' } as const;
export type HarmonyEncodingName = (typeof HarmonyEncodingName)[keyof typeof HarmonyEncodingName];

/** The encoding's name, checked (the reference's error text for any other). */
export function checkEncodingName(name: HarmonyEncodingName | string): HarmonyEncodingName {
  if (String(name) !== HarmonyEncodingName.HarmonyGptOss) {
    throw new UsageError(HarmonyErrorCode.UnknownEncoding, `Invalid HarmonyEncodingName: ${String(name)}`);
  }
  return HarmonyEncodingName.HarmonyGptOss;
}

export class HarmonyEncoding implements EncodingLike {
  readonly name: HarmonyEncodingName = HarmonyEncodingName.HarmonyGptOss;
  readonly tokenizerName = 'o200k_harmony';
  /** Context window (2^20) and longest assistant action (2^19), as in the reference registry. */
  readonly nCtx = 1_048_576;
  readonly maxActionLength = 524_288;
  readonly maxMessageTokens = 1_048_576 - 524_288;
  readonly #tokenizer: Tokenizer;

  /** An encoding over o200k_base's rank table (or a function returning it, called on first use). */
  constructor(ranks: RanksSource, options?: TokenizerOptions) {
    this.#tokenizer = new Tokenizer(ranks, options);
  }

  /** True once the rank table has been loaded (the first encode/decode, or preload()). */
  get ranksLoaded(): boolean {
    return this.#tokenizer.ranksLoaded;
  }

  /** Loads the ranks and builds the encoder now (a server warming up); returns how long that took, in ms. */
  preload(): number {
    return this.#tokenizer.preload();
  }

  /** Renders a conversation and opens the next turn (`<|start|>assistant`), ready for sampling. */
  renderConversationForCompletion(conversation: MessageList, nextTurnRole: Role, config?: RenderConversationConfigLike): number[] {
    return renderConversationForCompletion(this.#tokenizer, conversation, nextTurnRole, config);
  }

  /** Renders a conversation (analysis before a final answer dropped unless autoDropAnalysis is false). */
  renderConversation(conversation: MessageList, config?: RenderConversationConfigLike): number[] {
    return renderConversation(this.#tokenizer, conversation, config);
  }

  /** Renders for training: a trailing assistant final message ends in `<|return|>`. */
  renderConversationForTraining(conversation: MessageList, config?: RenderConversationConfigLike): number[] {
    return renderConversationForTraining(this.#tokenizer, conversation, config);
  }

  /** Renders one message. */
  render(message: Message, options?: RenderOptionsLike): number[] {
    return render(this.#tokenizer, message, options);
  }

  /** Encodes text; special tokens must be allowed (throws UsageError on a disallowed one). */
  encode(text: string, options?: EncodeOptions): number[] {
    return this.#tokenizer.encode(text, options);
  }

  /** Encodes text as ordinary text (special-token spellings are plain characters). */
  encodeOrdinary(text: string): number[] {
    return this.#tokenizer.encodeOrdinary(text);
  }

  /** Decodes to text, invalid UTF-8 replaced by U+FFFD. */
  decode(tokens: Iterable<number>): string {
    return this.#tokenizer.decode(tokens);
  }

  /** Decodes to text; throws HarmonyParseError (HARMONY_INVALID_UTF8 / HARMONY_INVALID_TOKEN). */
  decodeUtf8(tokens: Iterable<number>): string {
    return this.#tokenizer.decodeUtf8(tokens);
  }

  /** Raw bytes of the tokens. */
  decodeBytes(tokens: Iterable<number>): Uint8Array {
    return this.#tokenizer.decodeBytes(tokens);
  }

  /** The text of one token when its bytes alone are UTF-8, else undefined (a partial character, an unknown id). */
  tokenString(token: number): string | undefined {
    return this.#tokenizer.tokenString(token);
  }

  /** The bytes of one token, or undefined for an id outside the vocabulary. */
  tokenBytes(token: number): Uint8Array | undefined {
    return this.#tokenizer.tokenBytes(token);
  }

  isSpecialToken(token: number): boolean {
    return this.#tokenizer.isSpecialToken(token);
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

  /** Parses completion tokens to messages (strict by default, like the reference); `role` is the first message's role when its header omits it. */
  parseMessagesFromCompletionTokens(tokens: Iterable<number>, role?: Role | null, options: ParseOptions = {}): Message[] {
    const parser = new StreamableParser(this, role ?? null, options);
    for (const token of tokens) parser.process(token);
    parser.processEos();
    return [...parser.messages];
  }

  /** Parses a completion given as text with special tokens written out, e.g. `<|channel|>final<|message|>Hi<|return|>`. */
  parseMessagesFromCompletionText(text: string, role?: Role | null, options: ParseOptions = {}): Message[] {
    return this.parseMessagesFromCompletionTokens(this.#tokenizer.encodeWithSpecialTokens(text), role, options);
  }

  toString(): string {
    return `Renderer(${this.name})`;
  }
}
