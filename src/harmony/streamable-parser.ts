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
 * recovers where real models go wrong, and notes each recovery in `recoveries`:
 * - a stop token before `<|message|>` (a model that forgot the header): the words after role and
 *   channel become the message's text (as the reference's non-strict mode does);
 * - leftover words in a header (`<|channel|>final extra words json<|message|>`): dropped;
 * - `<|channel|>` with no value, or a header that is not UTF-8: no channel, lossy text;
 * - a stray `<|start|>` inside a header: the header starts again;
 * - `<|channel|>` where `<|start|>` was expected: an implicit `<|start|>assistant`;
 * - any other token where `<|start|>` was expected: skipped;
 * - with `validChannels`, a channel outside the list is kept (strict mode rejects it);
 * - a `<|start|>` or `<|channel|>` inside a message's content (the model, or a server such as
 *   llama.cpp, left out `<|end|>`): the message ends there and the next header begins
 *   (`<|channel|>` as an implicit `<|start|>assistant`); a stray `<|message|>` or `<|constrain|>`
 *   there is dropped.
 *
 * - text right after `<|end|>` with no `<|start|>` (what llama.cpp passes on without its reasoning
 *   parser): a role word (`assistant<|channel|>final...`) starts the header; other text starts an
 *   assistant `final` message (whitespace or punctuation alone between messages is skipped);
 * - junk or look-alike characters around a channel name (`<|channel|>––commentary`,
 *   `commentary?`, `Ｆｉｎａｌ`): the name is normalised to the valid channel it recognisably is
 *   (`validChannels`, else analysis/commentary/final); Unicode spaces in a header
 *   (`<|channel|>\u2009final`, `commentary\u00a0to=functions.f`) are read as ASCII spaces;
 * - a second `<|channel|>` in one header (`<|channel|>commentary to=assistant<|channel|>commentary?`):
 *   the first is kept; a role written twice (`assistantassistant`): one role;
 * - a message closed by the wrong stop token: a tool call closed by `<|end|>`/`<|return|>` is kept
 *   as the call, `<|call|>` on a message to no tool and `<|return|>` on a non-final message are
 *   noted (the messages are kept as they are, as the reference keeps them); a tool call cut off
 *   before `<|call|>` is kept as the call; a header word that cannot be a recipient (`final 2?`,
 *   which the reference reads as recipient `2?`) is dropped.
 *
 * Strict mode keeps the reference's handling of those four tokens inside content (appended as
 * text, which silently merges the next message into this one) unless `strictContent` asks for
 * HARMONY_UNEXPECTED_TOKEN: rendered content never holds them.
 */
import { HarmonyErrorCode, HarmonyParseError } from './errors.js';
import { parseHeaderFromString, recoverHeaderFromString, type ParsedHeader } from './header.js';
import { Author, Message, Role, TextContent } from './model.js';
import { SpecialToken, SpecialTokenText, isSpecialTokenId } from './registry.js';
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

const REPLACEMENT = '\uFFFD';

/** What a channel name is normalised to when no validChannels are given: gpt-oss's three. */
const DEFAULT_CHANNELS: ReadonlySet<string> = new Set(['analysis', 'commentary', 'final']);
/** Recipients that are not tools. */
const NOT_TOOLS: ReadonlySet<string> = new Set(['all', 'user', 'assistant']);
const ROLE_WORDS: ReadonlySet<string> = new Set(Object.values(Role));
/** What a recipient looks like: `functions.get_weather`, `functions.web-browsing`, `browser.search`, `python`, `assistant`. */
const RECIPIENT_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/;
/** A special token written as text (`<|start|>`) where a header word was expected. */
const SPECIAL_TOKEN_TEXT = /<\|[a-z_]+\|>/;
/** Spaces between `<|channel|>` and the name (Unicode ones are ASCII spaces by then). */
const LEADING_CHANNEL_JUNK = /^[ \t\n\f\r\v]+/;
/** Whitespace other than ASCII's (and zero-width spaces), as gpt-oss sometimes writes in headers. */
const UNICODE_SPACES = /[\u0085\u00a0\u1680\u2000-\u200d\u2028\u2029\u202f\u205f\u2060\u3000\ufeff]/;
const UNICODE_SPACES_ALL = new RegExp(UNICODE_SPACES.source, 'g');
/** A later `<|channel|>` and its value (up to whitespace or the next special token). */
const CHANNEL_MARKER_AND_VALUE = /<\|channel\|>[^\s<]*/g;
/** `assistantassistant...`: a role word repeated at the start of a header. */
const DOUBLED_ROLE = /^\s*(assistant|user|system|developer|tool)(?:\1)+(?![A-Za-z])/;

function isStopToken(token: number): boolean {
  return token === SpecialToken.End || token === SpecialToken.Return || token === SpecialToken.Call;
}

/** Formatting tokens that only ever appear in headers, never inside a message's content. */
const HEADER_TOKENS: ReadonlyMap<number, string> = new Map([
  [SpecialToken.Start, SpecialTokenText.Start],
  [SpecialToken.Channel, SpecialTokenText.Channel],
  [SpecialToken.Message, SpecialTokenText.Message],
  [SpecialToken.Constrain, SpecialTokenText.Constrain],
]);

export class StreamableParser {
  readonly strict: boolean;
  readonly #encoding: EncodingLike;
  readonly #strictContent: boolean;
  readonly #validChannels: ReadonlySet<string> | undefined;
  readonly #recoveries: ParseRecovery[] = [];
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
   * Lenient mode's guess that a `<|start|>`/`<|channel|>` inside content began a new message. The
   * reference keeps such tokens as content text; if the header that follows does not parse (or the
   * message stops or the stream ends inside it), the guess is undone and every token since is
   * content again, so lenient mode never fails where the reference's non-strict mode succeeds.
   */
  #speculation:
    | { header: ParsedHeader; parts: string[]; undecoded: number[]; pending: number[]; tokens: number[]; recoveries: number }
    | undefined;
  /** Lenient mode: the header tokens before an inner `<|start|>` restarted the header (and it). */
  #headerBeforeRestart: number[] | undefined;
  /** pendingChannel's memo for the header being read (by array identity). */
  #pendingChannel:
    | { header: number[]; scanned: number; channelAt: number; bytes: number[]; complete: boolean; name: string | undefined }
    | undefined;

  /**
   * @param encoding the encoding (from loadHarmonyEncoding)
   * @param role the role of the first message when the completion starts after `<|start|>role`
   *   (e.g. Role.Assistant after rendering for completion), or null when it starts with `<|start|>`.
   */
  constructor(encoding: EncodingLike, role: Role | null | undefined, options: ParseOptions = {}) {
    this.#encoding = encoding;
    this.strict = options.strict ?? true;
    this.#strictContent = options.strictContent ?? false;
    this.#validChannels = options.validChannels ? new Set(options.validChannels) : undefined;
    this.#nextRole = role ?? undefined;
    this.#state = role == null ? StreamState.ExpectStart : StreamState.Header;
  }

  /** Consumes one token. Throws HarmonyParseError where the reference returns an error. */
  process(token: number): this {
    this.#tokens.push(token);
    switch (this.#state) {
      case StreamState.ExpectStart:
        if (token !== SpecialToken.Start) {
          const message = `Unexpected token ${token} while expecting start token ${SpecialToken.Start}`;
          if (this.strict) throw new HarmonyParseError(HarmonyErrorCode.UnexpectedToken, message);
          if (token === SpecialToken.Channel) {
            this.#recover(HarmonyErrorCode.UnexpectedToken, `${message}: assumed <|start|>assistant`);
            this.#beginHeader(token);
          } else if (!isSpecialTokenId(token) && this.#textWithoutStart(token, message)) {
            return this;
          } else {
            this.#recover(HarmonyErrorCode.UnexpectedToken, `${message}: skipped`);
          }
          return this;
        }
        this.#beginHeader(token);
        return this;
      case StreamState.Header:
        if (this.#speculation) return this.#speculativeHeaderToken(token);
        this.#processHeaderToken(token);
        return this;
      case StreamState.Content:
        if (isStopToken(token)) {
          if (!this.strict) this.#checkStopToken(token);
          this.#finishMessage();
        }
        else if (HEADER_TOKENS.has(token) && (!this.strict || this.#strictContent)) this.#headerTokenInContent(token);
        else this.#processContentToken(token);
        return this;
    }
  }

  /** A formatting token inside content: an error in strict mode; lenient mode recovers. */
  #headerTokenInContent(token: number): void {
    const name = HEADER_TOKENS.get(token)!;
    const message = `Unexpected ${name} token inside a message's content (a missing <|end|>?)`;
    if (this.strict) throw new HarmonyParseError(HarmonyErrorCode.UnexpectedToken, message);
    this.#lastDelta = undefined;
    if (token === SpecialToken.Start || token === SpecialToken.Channel) {
      const snapshot = {
        header: this.#header!,
        parts: [...this.#parts],
        undecoded: [...this.#undecodedTokens],
        pending: [...this.#pendingBytes],
        tokens: [token],
        recoveries: this.#recoveries.length,
      };
      this.#recover(HarmonyErrorCode.UnexpectedToken, `${message}: the message ended there`);
      this.#finishMessage();
      this.#beginHeader(token);
      this.#speculation = snapshot;
      return;
    }
    this.#recover(HarmonyErrorCode.UnexpectedToken, `${message}: dropped`);
  }

  /**
   * Lenient: an ordinary token where `<|start|>` was expected (text right after `<|end|>`). A role
   * word starts a header as if `<|start|>` preceded it; whitespace is skipped (returns false);
   * other text starts an assistant `final` message with this token as its first content.
   */
  #textWithoutStart(token: number, message: string): boolean {
    const text = this.#encoding.tokenString(token);
    // Whitespace or punctuation alone between messages (vLLM saw `<|end|>.\n\n<|start|>`) is a stray token.
    if (text === undefined || !/[\p{L}\p{N}]/u.test(text)) return false;
    const word = text.trim();
    if (ROLE_WORDS.has(word)) {
      this.#recover(HarmonyErrorCode.UnexpectedToken, `${message}: a role with no <|start|> before it, assumed <|start|>`);
      this.#state = StreamState.Header;
      this.#nextRole = undefined;
      this.#headerTokens = [token];
      return true;
    }
    this.#recover(HarmonyErrorCode.UnexpectedToken, `${message}: text with no <|start|> after a message, taken as the assistant's final answer`);
    this.#startContent({ author: new Author(Role.Assistant), recipient: undefined, channel: 'final', contentType: undefined });
    this.#processContentToken(token);
    return true;
  }

  /** Lenient: notes a message closed by a stop token that does not fit it (the message is kept). */
  #checkStopToken(token: number): void {
    const header = this.#header!;
    const recipient = header.recipient;
    const toTool = header.author.role === Role.Assistant && recipient !== undefined && !NOT_TOOLS.has(recipient);
    const channel = header.channel ?? '(none)';
    if (toTool && token !== SpecialToken.Call) {
      const name = token === SpecialToken.End ? SpecialTokenText.End : SpecialTokenText.Return;
      this.#recover(HarmonyErrorCode.UnexpectedToken, `a tool call closed by ${name} instead of <|call|>: kept as the call`);
    } else if (!toTool && token === SpecialToken.Call) {
      this.#recover(HarmonyErrorCode.UnexpectedToken, `<|call|> closed a message on channel ${channel.slice(0, 40)} addressed to no tool`);
    } else if (!toTool && token === SpecialToken.Return && header.author.role === Role.Assistant && header.channel !== undefined && header.channel !== 'final') {
      this.#recover(HarmonyErrorCode.UnexpectedToken, `<|return|> closed a message on channel ${channel.slice(0, 40)}, not final`);
    }
  }

  /**
   * Lenient fixes to a header's text before it is parsed: junk between `<|channel|>` and the name,
   * a second `<|channel|>`, a role written twice.
   */
  #lenientHeaderText(text: string, role: Role | undefined): string {
    let out = text;
    if (UNICODE_SPACES.test(out)) {
      // The reference splits words on ASCII whitespace only: `to=functions.f` after U+00A0 would
      // be glued to the role.
      out = out.replace(UNICODE_SPACES_ALL, ' ');
      this.#recover(HarmonyErrorCode.MalformedHeader, 'Unicode space characters in a message header: read as spaces');
    }
    const marker = SpecialTokenText.Channel;
    const first = out.indexOf(marker);
    if (first >= 0) {
      const second = out.indexOf(marker, first + marker.length);
      if (second >= 0) {
        // Keep the first channel; drop every later marker with its value.
        const rest = out.slice(second).replace(CHANNEL_MARKER_AND_VALUE, ' ');
        out = out.slice(0, second) + rest;
        this.#recover(HarmonyErrorCode.MalformedHeader, 'a second <|channel|> in a message header: the first channel is kept');
      }
      const after = out.slice(first + marker.length);
      const junk = LEADING_CHANNEL_JUNK.exec(after);
      if (junk && junk[0].length > 0 && junk[0].length < after.length) {
        out = out.slice(0, first + marker.length) + after.slice(junk[0].length);
        this.#recover(HarmonyErrorCode.MalformedHeader, `${junk[0].length} space characters before a channel name: dropped`);
      }
    }
    if (role === undefined) {
      const doubled = DOUBLED_ROLE.exec(out);
      if (doubled) {
        out = doubled[1]! + out.slice(doubled[0].length);
        this.#recover(HarmonyErrorCode.UnknownRole, `the role '${doubled[1]}' written twice in a message header: read once`);
      }
    }
    return out;
  }

  /** Lenient: a recipient that names nothing (`<|channel|>final 2?`: the reference reads `2?` as one) is dropped. */
  #checkRecipient(header: ParsedHeader): ParsedHeader {
    const recipient = header.recipient;
    if (recipient === undefined || RECIPIENT_NAME.test(recipient)) return header;
    // A tool call is never dropped for a special token's text glued to its name
    // (`to=functions.get_weather<|start|>`): the name before it is the recipient.
    const name = recipient.split(SPECIAL_TOKEN_TEXT)[0]!;
    if (name !== recipient && RECIPIENT_NAME.test(name)) {
      this.#recover(HarmonyErrorCode.MalformedHeader, 'special-token text glued to a recipient name: dropped, the name kept');
      return { ...header, recipient: name };
    }
    this.#recover(HarmonyErrorCode.MalformedHeader, `a header word that names no recipient (${recipient.length} characters): dropped`);
    return { ...header, recipient: undefined };
  }

  /** Lenient: a channel name that is recognisably a valid one (`––commentary`, `final?`, `Ｆｉｎａｌ`). */
  #normaliseChannel(header: ParsedHeader): ParsedHeader {
    const channel = header.channel;
    const valid = this.#validChannels ?? DEFAULT_CHANNELS;
    if (channel === undefined || valid.has(channel)) return header;
    const letters = /^[^\p{L}]*(\p{L}+)/u.exec(channel.normalize('NFKC'));
    const name = letters?.[1]?.toLowerCase();
    if (name === undefined || !valid.has(name)) return header;
    this.#recover(HarmonyErrorCode.UnknownChannel, `channel name '${channel.slice(0, 40)}' read as '${name}'`);
    return { ...header, channel: name };
  }

  /** Starts reading a header at `<|start|>`, or (lenient) at a bare `<|channel|>` as if after `<|start|>assistant`. */
  #beginHeader(token: number): void {
    this.#state = StreamState.Header;
    this.#headerBeforeRestart = undefined;
    if (token === SpecialToken.Channel) {
      this.#nextRole = Role.Assistant;
      this.#headerTokens = [token];
    } else {
      this.#headerTokens = [];
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
        if (this.#speculation) {
          this.#undoSpeculation('the stream ended');
          this.#finishMessage();
          return this;
        }
        throw new HarmonyParseError(HarmonyErrorCode.UnexpectedEos, 'Unexpected EOS while waiting for message header to complete');
      case StreamState.Content: {
        const header = this.#header!;
        if (!this.strict && header.author.role === Role.Assistant && header.recipient !== undefined && !NOT_TOOLS.has(header.recipient)) {
          this.#recover(HarmonyErrorCode.UnexpectedEos, 'a tool call cut off before <|call|>: kept as the call');
        }
        this.#finishMessage();
        return this;
      }
    }
  }

  /** A header token while lenient mode guesses a new message began (see #speculation). */
  #speculativeHeaderToken(token: number): this {
    const speculation = this.#speculation!;
    if (isStopToken(token)) {
      this.#undoSpeculation('the message stopped');
      this.#finishMessage();
      return this;
    }
    speculation.tokens.push(token);
    if (token !== SpecialToken.Message) {
      this.#processHeaderToken(token);
      return this;
    }
    try {
      this.#processHeaderToken(token);
      this.#speculation = undefined;
    } catch (error) {
      if (!(error instanceof HarmonyParseError)) throw error;
      this.#undoSpeculation('the header did not parse');
    }
    return this;
  }

  /** Back to the message the guessed header ended: every token since is its content, as in the reference. */
  #undoSpeculation(why: string): void {
    const speculation = this.#speculation!;
    this.#speculation = undefined;
    this.#messages.pop();
    this.#recoveries.length = speculation.recoveries;
    this.#recover(HarmonyErrorCode.UnexpectedToken, `a formatting token inside a message's content: kept as content text (${why} before a header)`);
    this.#headerTokens = [];
    this.#nextRole = undefined;
    this.#startContent(speculation.header);
    this.#parts = speculation.parts;
    this.#undecodedTokens = speculation.undecoded;
    this.#pendingBytes = speculation.pending;
    for (const token of speculation.tokens) this.#processContentToken(token);
  }

  #processHeaderToken(token: number): void {
    if (token === SpecialToken.Message) {
      const headerTokens = this.#headerTokens;
      this.#headerTokens = [];
      // As in the reference: if the header is malformed, the parser is left expecting <|start|>.
      this.#state = StreamState.ExpectStart;
      const restarted = this.#headerBeforeRestart;
      this.#headerBeforeRestart = undefined;
      let header: ParsedHeader;
      if (restarted === undefined) header = this.#parseHeaderFromTokens(headerTokens, this.#nextRole);
      else {
        // A header restarted at an inner <|start|> (lenient): if the restarted header does not
        // parse, the whole header as the reference reads it (with the <|start|>) may.
        const recoveries = this.#recoveries.length;
        try {
          header = this.#parseHeaderFromTokens(headerTokens, this.#nextRole);
        } catch (error) {
          if (!(error instanceof HarmonyParseError)) throw error;
          this.#recoveries.length = recoveries;
          this.#recover(HarmonyErrorCode.MalformedHeader, 'the restarted header did not parse: read whole, with the inner <|start|>');
          header = this.#parseHeaderFromTokens([...restarted, ...headerTokens], this.#nextRole);
        }
      }
      this.#nextRole = undefined;
      this.#startContent(header);
      return;
    }
    if (!this.strict && isStopToken(token)) {
      // A message that ended before <|message|>: keep what the model said as its text.
      const role = this.#nextRole;
      if (role !== undefined && this.#headerTokens.length > 0) {
        const { header, remaining } = parseHeaderFromString(this.#encoding.decodeUtf8(this.#headerTokens), role, false);
        this.#messages.push(makeMessage(header, remaining ?? ''));
      }
      this.#headerBeforeRestart = undefined;
      this.#headerTokens = [];
      this.#state = StreamState.ExpectStart;
      this.#nextRole = undefined;
      return;
    }
    if (!this.strict && token === SpecialToken.Start) {
      this.#recover(HarmonyErrorCode.MalformedHeader, 'a <|start|> inside a message header: the header starts again');
      this.#headerBeforeRestart = [...(this.#headerBeforeRestart ?? []), ...this.#headerTokens, token];
      this.#headerTokens = [];
      return;
    }
    this.#headerTokens.push(token);
  }

  #recover(code: string, message: string): void {
    this.#recoveries.push({ code, message, tokenIndex: this.#tokens.length - 1 });
  }

  #parseHeaderFromTokens(tokens: readonly number[], role: Role | undefined): ParsedHeader {
    let text: string;
    try {
      text = this.#encoding.decodeUtf8(tokens);
    } catch (error) {
      if (this.strict || !(error instanceof HarmonyParseError)) {
        throw new HarmonyParseError(HarmonyErrorCode.MalformedHeader, `could not decode header: ${(error as Error).message}`, { cause: error });
      }
      this.#recover(HarmonyErrorCode.MalformedHeader, 'a message header that is not UTF-8: decoded lossily');
      text = lossyHeaderText(this.#encoding, tokens);
    }
    if (!this.strict) text = this.#lenientHeaderText(text, role);
    let parsed: ReturnType<typeof parseHeaderFromString>;
    try {
      parsed = parseHeaderFromString(text, role, true);
    } catch (error) {
      // `<|channel|>` with no value: lenient mode drops the marker and parses the rest.
      if (this.strict || !(error instanceof HarmonyParseError) || error.code !== HarmonyErrorCode.MalformedHeader) throw error;
      this.#recover(HarmonyErrorCode.MalformedHeader, `${error.message}: no channel`);
      text = text.split(SpecialTokenText.Channel).join(' ');
      parsed = parseHeaderFromString(text, role, true);
    }
    let { header } = parsed;
    if (parsed.remaining !== undefined) {
      const message = `unexpected tokens remaining in message header: Some(${JSON.stringify(parsed.remaining)})`;
      if (this.strict) throw new HarmonyParseError(HarmonyErrorCode.MalformedHeader, message);
      const recovered = recoverHeaderFromString(text, role);
      header = recovered.header;
      // The words themselves are the model's output: say how many were dropped, not what they were.
      this.#recover(HarmonyErrorCode.MalformedHeader, `unexpected words in a message header: ${recovered.dropped} dropped`);
    }
    if (!this.strict) header = this.#checkRecipient(this.#normaliseChannel(header));
    if (this.#validChannels && header.channel !== undefined && !this.#validChannels.has(header.channel)) {
      const message = `unknown channel '${header.channel.slice(0, 40)}' (valid: ${[...this.#validChannels].join(', ')})`;
      if (this.strict) throw new HarmonyParseError(HarmonyErrorCode.UnknownChannel, message);
      this.#recover(HarmonyErrorCode.UnknownChannel, `${message}: kept`);
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
        const text = this.#encoding.tokenString(token);
        if (text !== undefined) {
          this.#parts.push(text);
          this.#lastDelta = text;
          return;
        }
      }
      const bytes = this.#encoding.tokenBytes(token);
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
    // One join (a flat string) rather than a rope of one piece per token, unless someone polled.
    let text = this.#joinedParts === 0 ? this.#parts.join('') : this.currentContent;
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

  /** What lenient mode recovered from so far (always empty in strict mode). */
  get recoveries(): readonly ParseRecovery[] {
    return this.#recoveries;
  }

  /**
   * The channel named so far by a header still being read (`<|channel|>analysis` before its
   * `<|message|>`), else the current message's channel. For labelling raw chunks as they arrive.
   */
  get pendingChannel(): string | undefined {
    if (this.#state !== StreamState.Header) return this.currentChannel;
    // Called per chunk while a header streams in, so it resumes where its last call stopped and
    // decodes only up to the end of the channel name (ASCII whitespace, or '<', which also starts
    // every special token): a long header costs linear time, not quadratic.
    const header = this.#headerTokens;
    let memo = this.#pendingChannel;
    if (memo === undefined || memo.header !== header) {
      memo = { header, scanned: 0, channelAt: -1, bytes: [], complete: false, name: undefined };
      this.#pendingChannel = memo;
    }
    if (memo.complete) return memo.name;
    if (memo.channelAt < 0) {
      memo.channelAt = header.indexOf(SpecialToken.Channel, memo.scanned);
      if (memo.channelAt < 0) {
        memo.scanned = header.length;
        return undefined;
      }
      memo.scanned = memo.channelAt + 1;
    }
    if (memo.scanned === header.length && memo.bytes.length > 0) return memo.name;
    for (; memo.scanned < header.length && !memo.complete; memo.scanned += 1) {
      for (const byte of this.#encoding.tokenBytes(header[memo.scanned]!) ?? []) {
        memo.bytes.push(byte);
        if (byte === 0x3c || byte === 0x20 || (byte >= 0x09 && byte <= 0x0d)) memo.complete = true;
      }
      // A label, not the parse: a hostile name is cut at 1 KiB so that re-decoding stays bounded.
      if (memo.bytes.length >= 1024) memo.complete = true;
    }
    // The name so far, decoded again only when bytes were added.
    const match = /^[^\s<]+/.exec(utf8DecodeLossy(Uint8Array.from(memo.bytes)));
    memo.name = match ? match[0] : undefined;
    return memo.name;
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
          content_tokens: this.#parts.flatMap((part) => this.#encoding.encodeOrdinary(part)),
        };
      }
    }
  }
}

function lossyHeaderText(encoding: EncodingLike, tokens: readonly number[]): string {
  return tokens
    .map((token) => encoding.tokenString(token) ?? utf8DecodeLossy(encoding.tokenBytes(token) ?? new Uint8Array()))
    .join('');
}

function makeMessage(header: ParsedHeader, text: string): Message {
  const message = new Message(new Author(header.author.role, header.author.name), [new TextContent(text)]);
  message.channel = header.channel;
  message.recipient = header.recipient;
  message.contentType = header.contentType;
  return message;
}
