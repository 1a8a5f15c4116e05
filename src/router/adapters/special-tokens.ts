/**
 * The Harmony special token ids the adapters need.
 *
 * TEMPORARY: src/harmony/registry.ts is the one place token ids live; until it exports them, this
 * single object stands in for it. Replace its body with a re-export from the registry (and delete
 * nothing else) once the registry lands: every adapter reads ids from here only.
 */
export const HARMONY_IDS = {
  /** `<|return|>`: ends the final answer. */
  return: 200002,
  /** `<|constrain|>`: introduces a content type such as `json` in a header. */
  constrain: 200003,
  /** `<|channel|>` */
  channel: 200005,
  /** `<|start|>` */
  start: 200006,
  /** `<|end|>`: ends a message that is not the last of the turn. */
  end: 200007,
  /** `<|message|>`: ends a header. */
  message: 200008,
  /** `<|call|>`: ends a tool call. */
  call: 200012,
} as const;

/** The texts of the special tokens the Harmony format uses (for text-only upstreams). */
export const HARMONY_SPECIAL_TEXTS = [
  '<|start|>',
  '<|end|>',
  '<|message|>',
  '<|channel|>',
  '<|constrain|>',
  '<|return|>',
  '<|call|>',
  '<|startoftext|>',
  '<|endoftext|>',
  '<|endofprompt|>',
] as const;
