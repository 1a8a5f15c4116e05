/**
 * Error codes raised by the Harmony library, by name. Codes are part of the public interface; each
 * is registered (family and meaning) in src/core/error-codes.ts, so one not listed there fails the
 * typecheck.
 *
 * Malformed completions (parsing, decoding token ids) raise HarmonyParseError; bad input handed to
 * the library by its caller (a conversation it cannot render, JSON of the wrong shape, text with a
 * disallowed special token, an unknown encoding or role) raises UsageError. A broken install
 * (gpt-tokenizer's ranks missing) raises InternalError.
 */
import type { CodeIn } from '../core/error-codes.js';
import { HarmonyParseError, UsageError } from '../core/errors.js';

export { HarmonyParseError, UsageError };

export const HarmonyErrorCode = {
  /** A token id that is neither a BPE rank nor a special token. */
  InvalidToken: 'HARMONY_INVALID_TOKEN',
  /** Tokens decode to bytes that are not UTF-8 (decodeUtf8 only). */
  InvalidUtf8: 'HARMONY_INVALID_UTF8',
  /** The parser expected `<|start|>` and got something else. */
  UnexpectedToken: 'HARMONY_UNEXPECTED_TOKEN',
  /** The stream ended inside a message header. */
  UnexpectedEos: 'HARMONY_UNEXPECTED_EOS',
  /** A header that cannot be parsed (missing role or channel value, leftover words, bad UTF-8). */
  MalformedHeader: 'HARMONY_MALFORMED_HEADER',
  /** A header naming a channel outside ParseOptions.validChannels (strict mode). */
  UnknownChannel: 'HARMONY_UNKNOWN_CHANNEL',
  /** A header whose role is unknown and that names no recipient. */
  UnknownRole: 'HARMONY_UNKNOWN_ROLE',
  /** encode() met a special token that was not allowed. */
  DisallowedSpecialToken: 'HARMONY_DISALLOWED_SPECIAL_TOKEN',
  /** A message that cannot be rendered (tool without name, system content outside a system message...). */
  InvalidMessage: 'HARMONY_INVALID_MESSAGE',
  /** JSON that is not a conversation/message in openai-harmony's shape. */
  InvalidJson: 'HARMONY_INVALID_JSON',
  /** loadHarmonyEncoding() with a name other than HarmonyGptOss. */
  UnknownEncoding: 'HARMONY_UNKNOWN_ENCODING',
  /** gpt-tokenizer's rank table cannot be loaded (an InternalError: a broken install). */
  RanksUnavailable: 'HARMONY_RANKS_UNAVAILABLE',
} as const satisfies Record<string, CodeIn<'harmony'>>;

export type HarmonyErrorCode = (typeof HarmonyErrorCode)[keyof typeof HarmonyErrorCode];
