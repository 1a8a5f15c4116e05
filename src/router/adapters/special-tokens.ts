/**
 * The Harmony special tokens the adapters use, by name. The ids come from src/harmony/registry.ts,
 * the one place token ids live; this module only gives them the adapters' short names.
 */
import { SpecialToken, SpecialTokenText } from '../../harmony/registry.js';

export const HARMONY_IDS = {
  /** `<|return|>`: ends the final answer. */
  return: SpecialToken.Return,
  /** `<|constrain|>`: introduces a content type such as `json` in a header. */
  constrain: SpecialToken.Constrain,
  /** `<|channel|>` */
  channel: SpecialToken.Channel,
  /** `<|start|>` */
  start: SpecialToken.Start,
  /** `<|end|>`: ends a message that is not the last of the turn. */
  end: SpecialToken.End,
  /** `<|message|>`: ends a header. */
  message: SpecialToken.Message,
  /** `<|call|>`: ends a tool call. */
  call: SpecialToken.Call,
} as const;

/** The texts of the named special tokens (for text-only upstreams). */
export const HARMONY_SPECIAL_TEXTS: readonly string[] = Object.values(SpecialTokenText);
