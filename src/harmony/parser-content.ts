/**
 * The content of the message a StreamableParser is reading, token by token.
 *
 * Fast path: a content token whose bytes are complete UTF-8 on their own (nearly all) is appended
 * as its text, with no decoding or re-encoding. The reference keeps the content as re-encoded
 * token ids; we keep the decoded pieces and re-encode them only if asked (`contentTokens`).
 * Bytes of a character split across tokens wait in a small buffer, and invalid bytes become
 * U+FFFD exactly where the reference puts them (one error per token, like `from_utf8`).
 */
import type { EncodingLike } from './parser-types.js';
import { checkUtf8, utf8DecodeLossy, utf8DecodeValid } from './utf8.js';

const REPLACEMENT = '\uFFFD';

/** What a lenient parser keeps to resume a message's content after a wrong guess. */
export interface ContentSnapshot {
  readonly parts: string[];
  readonly undecoded: number[];
  readonly pending: number[];
}

export class MessageContent {
  readonly #encoding: EncodingLike;
  /** Content so far, as the pieces the reference would re-encode (joined lazily). */
  #parts: string[];
  #joined = '';
  #joinedParts = 0;
  /** Tokens that failed to decode (an id outside the vocabulary): the rest of the message waits here. */
  #undecoded: number[];
  /** Bytes of an incomplete (or not yet reported invalid) UTF-8 sequence. */
  #pending: number[];

  constructor(encoding: EncodingLike, from?: ContentSnapshot) {
    this.#encoding = encoding;
    this.#parts = from ? from.parts : [];
    this.#undecoded = from ? from.undecoded : [];
    this.#pending = from ? from.pending : [];
  }

  /** Appends one content token; returns the text it added (undefined: none yet, e.g. a partial character). */
  push(token: number): string | undefined {
    if (this.#undecoded.length === 0) {
      if (this.#pending.length === 0) {
        const text = this.#encoding.tokenString(token);
        if (text !== undefined) {
          this.#parts.push(text);
          return text;
        }
      }
      const bytes = this.#encoding.tokenBytes(token);
      if (bytes !== undefined) return this.#pushBytes(bytes);
    }
    // An id outside the vocabulary: the reference retries decoding all undecoded tokens together,
    // which keeps failing, so the rest of the message waits here and ends as one U+FFFD.
    this.#undecoded.push(token);
    return undefined;
  }

  /** The reference's from_utf8 handling of the pending bytes plus one token's bytes. */
  #pushBytes(tokenBytes: Uint8Array): string | undefined {
    const pending = this.#pending;
    for (const byte of tokenBytes) pending.push(byte);
    const bytes = Uint8Array.from(pending);
    const check = checkUtf8(bytes);
    if (check.ok) {
      const text = utf8DecodeValid(bytes);
      this.#parts.push(text);
      this.#pending = [];
      return text;
    }
    let delta = '';
    let consumed = 0;
    if (check.validUpTo > 0) {
      const valid = utf8DecodeValid(bytes.subarray(0, check.validUpTo));
      this.#parts.push(valid);
      delta += valid;
      consumed = check.validUpTo;
    }
    if (check.errorLen !== undefined) {
      // One invalid sequence per token; bytes after it wait for the next token (or the end).
      this.#parts.push(REPLACEMENT);
      delta += REPLACEMENT;
      consumed += check.errorLen;
    }
    this.#pending = pending.slice(consumed);
    return delta.length > 0 ? delta : undefined;
  }

  /** The text so far. Appends only the pieces added since the last call, so polling per token stays linear. */
  get text(): string {
    const parts = this.#parts;
    for (let i = this.#joinedParts; i < parts.length; i += 1) this.#joined += parts[i]!;
    this.#joinedParts = parts.length;
    return this.#joined;
  }

  /** The message's whole text: undecodable tokens become one U+FFFD, incomplete bytes are decoded lossily. */
  finish(): string {
    // One join (a flat string) rather than a rope of one piece per token, unless someone polled.
    let text = this.#joinedParts === 0 ? this.#parts.join('') : this.text;
    if (this.#undecoded.length > 0) text += REPLACEMENT;
    if (this.#pending.length > 0) text += utf8DecodeLossy(Uint8Array.from(this.#pending));
    return text;
  }

  /** A copy of the state, to resume from (see MessageContent's constructor). */
  snapshot(): ContentSnapshot {
    return { parts: [...this.#parts], undecoded: [...this.#undecoded], pending: [...this.#pending] };
  }

  /** The content as the reference keeps it: its pieces re-encoded. */
  contentTokens(): number[] {
    return this.#parts.flatMap((part) => this.#encoding.encodeOrdinary(part));
  }
}
