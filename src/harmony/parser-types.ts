/** The StreamableParser's public types: its states, options, recoveries and what it needs of an encoding. */
import type { Role } from './model.js';

export const StreamState = {
  ExpectStart: 'ExpectStart',
  Header: 'Header',
  Content: 'Content',
} as const;
export type StreamState = (typeof StreamState)[keyof typeof StreamState];

export interface ParseOptions {
  /** Throw on malformed headers (default true, like the reference); false recovers where it can. */
  readonly strict?: boolean | undefined;
  /**
   * Channels a header may name (e.g. SystemContent's valid channels). Unset: any channel, as in the
   * reference. Set: strict mode throws HARMONY_UNKNOWN_CHANNEL for others; lenient mode keeps them.
   */
  readonly validChannels?: readonly string[] | undefined;
  /**
   * Strict mode only: refuse `<|start|>`, `<|channel|>`, `<|message|>` and `<|constrain|>` inside
   * a message's content (HARMONY_UNEXPECTED_TOKEN; a missing `<|end|>`). Unset, as in the reference,
   * they are kept as content text. Lenient mode always recovers from them.
   */
  readonly strictContent?: boolean | undefined;
}

/** A malformation lenient mode recovered from (the message text is never included). */
export interface ParseRecovery {
  readonly code: string;
  readonly message: string;
  /** Index of the token that triggered it. */
  readonly tokenIndex: number;
}

/** The parser's state in the reference's `state_json` shape. */
export type StreamStateData =
  | { readonly state: 'ExpectStart' }
  | { readonly state: 'Header'; readonly header_tokens: number[] }
  | {
      readonly state: 'Content';
      readonly header: {
        author: { role: Role; name?: string };
        recipient: string | null;
        channel: string | null;
        content_type: string | null;
      };
      readonly content_tokens: number[];
    };

/** What the parser needs of its encoding: a HarmonyEncoding (from loadHarmonyEncoding) has all four. */
export interface EncodingLike {
  decodeUtf8(tokens: Iterable<number>): string;
  encodeOrdinary(text: string): number[];
  tokenString(id: number): string | undefined;
  tokenBytes(id: number): Uint8Array | undefined;
}
