/**
 * Incremental Harmony parser, equivalent to openai/harmony's `StreamableParser` (v0.0.8): fed one
 * token at a time, it tracks the current message's header and content and reports each content
 * delta as soon as it is whole UTF-8.
 *
 * Fast path: a content token whose bytes are complete UTF-8 on their own (nearly all) is appended
 * as its text, with no decoding or re-encoding. The reference keeps the content as re-encoded
 * token ids; we keep the decoded pieces and re-encode them only if `stateData` asks for them.
 * Bytes of a character split across tokens wait in a small buffer, and invalid bytes become
 * U+FFFD exactly where the reference puts them (one error per token, like `from_utf8`).
 *
 * Strict mode (the reference default) throws HarmonyParseError on malformed headers. Lenient mode
 * additionally recovers when a stop token arrives before `<|message|>` (a model that forgot the
 * header): the words after role and channel become the message's text.
 */
import { HarmonyErrorCode, HarmonyParseError } from './errors.js';
import { parseHeaderFromString, type ParsedHeader } from './header.js';
import { Author, Message, TextContent, type Role } from './model.js';
import { SpecialToken } from './registry.js';
import { decodeUtf8, encodeOrdinary, tokenBytes, tokenString } from './tokenizer.js';
import { checkUtf8, utf8DecodeLossy, utf8DecodeValid } from './utf8.js';

export const StreamState = {
  ExpectStart: 'ExpectStart',
  Header: 'Header',
  Content: 'Content',
} as const;
export type StreamState = (typeof StreamState)[keyof typeof StreamState];

export interface ParseOptions {
  /** Throw on malformed headers (default true, like the reference); false recovers where it can. */
  readonly strict?: boolean | undefined;
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

/** Anything naming the encoding (there is one: HarmonyGptOss). */
export interface EncodingLike {
  readonly name: string;
}

const REPLACEMENT = '\uFFFD';

function isStopToken(token: number): boolean {
  return token === SpecialToken.End || token === SpecialToken.Return || token === SpecialToken.Call;
}

export class StreamableParser {
  readonly strict: boolean;
  readonly #tokens: number[] = [];
  readonly #messages: Message[] = [];
  #state: StreamState;
  #nextRole: Role | undefined;
  #headerTokens: number[] = [];
  #header: ParsedHeader | undefined;
  /** Content so far, as the pieces the reference would re-encode (joined lazily). */
  #parts: string[] = [];
  #joined = '';
  #joinedParts = 0;
  #lastDelta: string | undefined;
  /** Tokens that failed to decode (an id outside the vocabulary): the rest of the message waits here. */
  #undecodedTokens: number[] = [];
  /** Bytes of an incomplete (or not yet reported invalid) UTF-8 sequence. */
  #pendingBytes: number[] = [];

  /**
   * @param encoding the encoding (from loadHarmonyEncoding)
   * @param role the role of the first message when the completion starts after `<|start|>role`
   *   (e.g. Role.Assistant after rendering for completion), or null when it starts with `<|start|>`.
   */
  constructor(encoding: EncodingLike, role: Role | null | undefined, options: ParseOptions = {}) {
    void encoding;
    this.strict = options.strict ?? true;
    this.#nextRole = role ?? undefined;
    this.#state = role == null ? StreamState.ExpectStart : StreamState.Header;
  }

  /** Consumes one token. Throws HarmonyParseError where the reference returns an error. */
  process(token: number): this {
    this.#tokens.push(token);
    switch (this.#state) {
      case StreamState.ExpectStart:
        if (token !== SpecialToken.Start) {
          throw new HarmonyParseError(
            HarmonyErrorCode.UnexpectedToken,
            `Unexpected token ${token} while expecting start token ${SpecialToken.Start}`,
          );
        }
        this.#state = StreamState.Header;
        this.#headerTokens = [];
        return this;
      case StreamState.Header:
        this.#processHeaderToken(token);
        return this;
      case StreamState.Content:
        if (isStopToken(token)) this.#finishMessage();
        else this.#processContentToken(token);
        return this;
    }
  }

  /** Consumes several tokens (same as calling process for each). */
  processTokens(tokens: Iterable<number>): this {
    for (const token of tokens) this.process(token);
    return this;
  }

  /** Signals the end of the stream: completes a message in progress. */
  processEos(): this {
    switch (this.#state) {
      case StreamState.ExpectStart:
        return this;
      case StreamState.Header:
        throw new HarmonyParseError(HarmonyErrorCode.UnexpectedEos, 'Unexpected EOS while waiting for message header to complete');
      case StreamState.Content:
        this.#finishMessage();
        return this;
    }
  }

  #processHeaderToken(token: number): void {
    if (token === SpecialToken.Message) {
      const headerTokens = this.#headerTokens;
      this.#headerTokens = [];
      // As in the reference: if the header is malformed, the parser is left expecting <|start|>.
      this.#state = StreamState.ExpectStart;
      const header = this.#parseHeaderFromTokens(headerTokens, this.#nextRole);
      this.#nextRole = undefined;
      this.#startContent(header);
      return;
    }
    if (!this.strict && isStopToken(token)) {
      // A message that ended before <|message|>: keep what the model said as its text.
      const role = this.#nextRole;
      if (role !== undefined && this.#headerTokens.length > 0) {
        const { header, remaining } = parseHeaderFromString(decodeUtf8(this.#headerTokens), role, false);
        this.#messages.push(makeMessage(header, remaining ?? ''));
      }
      this.#headerTokens = [];
      this.#state = StreamState.ExpectStart;
      this.#nextRole = undefined;
      return;
    }
    this.#headerTokens.push(token);
  }

  #parseHeaderFromTokens(tokens: readonly number[], role: Role | undefined): ParsedHeader {
    let text: string;
    try {
      text = decodeUtf8(tokens);
    } catch (error) {
      throw new HarmonyParseError(HarmonyErrorCode.MalformedHeader, `could not decode header: ${(error as Error).message}`, { cause: error });
    }
    const { header, remaining } = parseHeaderFromString(text, role, true);
    if (remaining !== undefined) {
      throw new HarmonyParseError(
        HarmonyErrorCode.MalformedHeader,
        `unexpected tokens remaining in message header: Some(${JSON.stringify(remaining)})`,
      );
    }
    return header;
  }

  #startContent(header: ParsedHeader): void {
    this.#header = header;
    this.#parts = [];
    this.#joined = '';
    this.#joinedParts = 0;
    this.#state = StreamState.Content;
  }

  #processContentToken(token: number): void {
    if (this.#undecodedTokens.length === 0) {
      if (this.#pendingBytes.length === 0) {
        const text = tokenString(token);
        if (text !== undefined) {
          this.#parts.push(text);
          this.#lastDelta = text;
          return;
        }
      }
      const bytes = tokenBytes(token);
      if (bytes !== undefined) {
        this.#processBytes(bytes);
        return;
      }
    }
    // An id outside the vocabulary: the reference retries decoding all undecoded tokens together,
    // which keeps failing, so the rest of the message waits here and ends as one U+FFFD.
    this.#undecodedTokens.push(token);
    this.#lastDelta = undefined;
  }

  /** The reference's from_utf8 handling of the pending bytes plus one token's bytes. */
  #processBytes(tokenBytesValue: Uint8Array): void {
    const pending = this.#pendingBytes;
    for (const byte of tokenBytesValue) pending.push(byte);
    const bytes = Uint8Array.from(pending);
    const check = checkUtf8(bytes);
    if (check.ok) {
      const text = utf8DecodeValid(bytes);
      this.#parts.push(text);
      this.#lastDelta = text;
      this.#pendingBytes = [];
      return;
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
    this.#pendingBytes = pending.slice(consumed);
    this.#lastDelta = delta.length > 0 ? delta : undefined;
  }

  #finishMessage(): void {
    const header = this.#header!;
    let text = this.currentContent;
    // Left-overs: undecodable tokens become one U+FFFD, incomplete bytes are decoded lossily.
    if (this.#undecodedTokens.length > 0) text += REPLACEMENT;
    if (this.#pendingBytes.length > 0) text += utf8DecodeLossy(Uint8Array.from(this.#pendingBytes));
    this.#messages.push(makeMessage(header, text));
    this.#state = StreamState.ExpectStart;
    this.#header = undefined;
    this.#parts = [];
    this.#joined = '';
    this.#joinedParts = 0;
    this.#lastDelta = undefined;
    this.#undecodedTokens = [];
    this.#pendingBytes = [];
  }

  /** Text of the message in progress ('' outside a message body). */
  get currentContent(): string {
    if (this.#state !== StreamState.Content) return '';
    // Appends only the pieces added since the last call, so polling per token stays linear.
    const parts = this.#parts;
    for (let i = this.#joinedParts; i < parts.length; i += 1) this.#joined += parts[i]!;
    this.#joinedParts = parts.length;
    return this.#joined;
  }

  /** Role of the message in progress (or of the next one, when given to the constructor). */
  get currentRole(): Role | undefined {
    return this.#state === StreamState.Content ? this.#header!.author.role : this.#nextRole;
  }

  get currentChannel(): string | undefined {
    return this.#state === StreamState.Content ? this.#header!.channel : undefined;
  }

  get currentRecipient(): string | undefined {
    return this.#state === StreamState.Content ? this.#header!.recipient : undefined;
  }

  get currentContentType(): string | undefined {
    return this.#state === StreamState.Content ? this.#header!.contentType : undefined;
  }

  /** Text added by the last token, undefined when it added none (stop token, partial character). */
  get lastContentDelta(): string | undefined {
    return this.#lastDelta;
  }

  /** Completed messages (the parser's own array: read, do not modify). */
  get messages(): readonly Message[] {
    return this.#messages;
  }

  /** Every token processed so far (the parser's own array: read, do not modify). */
  get tokens(): readonly number[] {
    return this.#tokens;
  }

  get state(): StreamState {
    return this.#state;
  }

  /** The state with its data, shaped like the reference's `state_json`. */
  get stateData(): StreamStateData {
    switch (this.#state) {
      case StreamState.ExpectStart:
        return { state: 'ExpectStart' };
      case StreamState.Header:
        return { state: 'Header', header_tokens: [...this.#headerTokens] };
      case StreamState.Content: {
        const header = this.#header!;
        const author: { role: Role; name?: string } = { role: header.author.role };
        if (header.author.name !== undefined) author.name = header.author.name;
        return {
          state: 'Content',
          header: {
            author,
            recipient: header.recipient ?? null,
            channel: header.channel ?? null,
            content_type: header.contentType ?? null,
          },
          content_tokens: this.#parts.flatMap((part) => encodeOrdinary(part)),
        };
      }
    }
  }
}

function makeMessage(header: ParsedHeader, text: string): Message {
  const message = new Message(new Author(header.author.role, header.author.name), [new TextContent(text)]);
  message.channel = header.channel;
  message.recipient = header.recipient;
  message.contentType = header.contentType;
  return message;
}
