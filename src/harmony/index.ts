/**
 * harmony-hpke/harmony: OpenAI's Harmony format (o200k_harmony) in TypeScript, agreeing with
 * openai/harmony v0.0.8 token for token. Pure and runtime-neutral: no process, file or network
 * I/O, no Node built-ins.
 *
 *   const enc = loadHarmonyEncoding('HarmonyGptOss');
 *   const ids = enc.renderConversationForCompletion(convo, Role.Assistant);
 *   const messages = enc.parseMessagesFromCompletionTokens(completionIds, Role.Assistant);
 *
 * The public surface, all named here:
 * - the encoding: `loadHarmonyEncoding`, `HarmonyEncoding` (render, encode/decode, parse, stop
 *   tokens), `HarmonyEncodingName`, and the rank table types for `{ ranks }`;
 * - the model: `Conversation`, `Message`, `Author`, `Role`, the content classes, tool
 *   descriptions, render configs (openai-harmony's JSON shapes);
 * - `StreamableParser` for token-by-token parsing, with its options, state and recoveries;
 * - special tokens (`SpecialToken`, `SpecialTokenText`, lookups, stop tokens, `VOCAB_SIZE`);
 * - the errors (`HarmonyParseError`, `UsageError`) and their codes (`HarmonyErrorCode`).
 *
 * This module imports gpt-tokenizer's o200k_base rank table (a plain JS module) as the default
 * for `loadHarmonyEncoding()`. Code inside this package never imports this file: it imports the
 * modules it needs and takes its encoding from src/node/harmony.ts, so the Node CLI and router read
 * their table from the build-time copy instead, and only when a token is needed.
 */
import o200kBase from 'gpt-tokenizer/bpeRanks/o200k_base';
import { HarmonyEncoding, HarmonyEncodingName, checkEncodingName } from './encoding.js';
import type { RanksSource } from './tokenizer.js';

export { HarmonyEncoding, HarmonyEncodingName } from './encoding.js';
export type { RanksSource, RawRanks, EncodeOptions, SpecialTokenSet } from './tokenizer.js';
export {
  Author,
  ChannelConfig,
  Conversation,
  DeveloperContent,
  Message,
  ReasoningEffort,
  RenderConversationConfig,
  RenderOptions,
  Role,
  SystemContent,
  TextContent,
  ToolDescription,
  ToolNamespaceConfig,
  type Content,
  type JsonObject,
  type JsonValue,
  type RenderConversationConfigLike,
  type RenderOptionsLike,
  type ToolNamespaces,
} from './model.js';
export type { MessageList } from './render.js';
export {
  StreamableParser,
  StreamState,
  type EncodingLike,
  type ParseOptions,
  type ParseRecovery,
  type StreamStateData,
} from './streamable-parser.js';
export {
  SpecialToken,
  SpecialTokenText,
  STOP_TOKENS,
  STOP_TOKENS_FOR_ASSISTANT_ACTIONS,
  VOCAB_SIZE,
  specialTokenId,
  specialTokenText,
  type SpecialTokenName,
} from './registry.js';
export { HarmonyErrorCode, HarmonyParseError, UsageError } from './errors.js';

export interface LoadHarmonyEncodingOptions {
  /**
   * o200k_base's rank table (gpt-tokenizer's format), or a function returning it that the
   * encoding calls on its first encode/decode. Default: gpt-tokenizer's module.
   */
  readonly ranks?: RanksSource | undefined;
}

let shared: HarmonyEncoding | undefined;

/**
 * Returns the encoding. With `{ ranks }`, a new encoding over that table (its own tokenizer and
 * caches); without, one shared encoding over gpt-tokenizer's table, the same each call (its lookup
 * tables are built once, on the first encode).
 */
export function loadHarmonyEncoding(options?: LoadHarmonyEncodingOptions): HarmonyEncoding;
export function loadHarmonyEncoding(name?: HarmonyEncodingName | string, options?: LoadHarmonyEncodingOptions): HarmonyEncoding;
export function loadHarmonyEncoding(
  nameOrOptions: HarmonyEncodingName | string | LoadHarmonyEncodingOptions = HarmonyEncodingName.HarmonyGptOss,
  maybeOptions?: LoadHarmonyEncodingOptions,
): HarmonyEncoding {
  const named = typeof nameOrOptions === 'string';
  checkEncodingName(named ? nameOrOptions : HarmonyEncodingName.HarmonyGptOss);
  const options = named ? maybeOptions : nameOrOptions;
  if (options?.ranks !== undefined) return new HarmonyEncoding(options.ranks);
  return (shared ??= new HarmonyEncoding(o200kBase));
}
