/**
 * Incremental Harmony parser, equivalent to openai/harmony's `StreamableParser` (v0.0.8): fed one
 * token at a time, it tracks the current message's header and content and reports each content
 * delta as soon as it is whole UTF-8.
 *
 * The parser keeps the state machine and the lenient guesses that span tokens; the content
 * buffer (decoded pieces, split characters, U+FFFD placement) is parser-content.ts, reading a
 * header (strict errors and lenient fixes) parser-header.ts, the public types parser-types.ts.
 * (A little over 400 lines: the state machine and the recoveries that span tokens read best as
 * one class; splitting it further would scatter one transition over several files.)
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
import { parseHeaderFromString, type ParsedHeader } from './header.js';
import { Author, Message, Role, TextContent } from './model.js';
import { MessageContent, type ContentSnapshot } from './parser-content.js';
import { HeaderChannelLabel, ROLE_WORDS, checkStopToken, isToolCall, parseHeaderTokens } from './parser-header.js';
import { StreamState, type EncodingLike, type ParseOptions, type ParseRecovery, type StreamStateData } from './parser-types.js';
import { SpecialToken, SpecialTokenText, isSpecialTokenId } from './registry.js';

export { StreamState, type EncodingLike, type ParseOptions, type ParseRecovery, type StreamStateData } from './parser-types.js';

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
  /** The message being read (in the Content state). */
  #content: MessageContent | undefined;
  #lastDelta: string | undefined;
  /**
   * Lenient mode's guess that a `<|start|>`/`<|channel|>` inside content began a new message. The
   * reference keeps such tokens as content text; if the header that follows does not parse (or the
   * message stops or the stream ends inside it), the guess is undone and every token since is
   * content again, so lenient mode never fails where the reference's non-strict mode succeeds.
   */
  #speculation: { header: ParsedHeader; content: ContentSnapshot; tokens: number[]; recoveries: number } | undefined;
  /** Lenient mode: the header tokens before an inner `<|start|>` restarted the header (and it). */
  #headerBeforeRestart: number[] | undefined;
  /** pendingChannel's reading of the header being read. */
  readonly #channelLabel = new HeaderChannelLabel();

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
          if (!this.strict) checkStopToken(this.#header!, token, this.#recover);
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
      const snapshot = { header: this.#header!, content: this.#content!.snapshot(), tokens: [token], recoveries: this.#recoveries.length };
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
        if (!this.strict && isToolCall(this.#header!)) {
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
    this.#startContent(speculation.header, speculation.content);
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

  readonly #recover = (code: string, message: string): void => {
    this.#recoveries.push({ code, message, tokenIndex: this.#tokens.length - 1 });
  };

  #parseHeaderFromTokens(tokens: readonly number[], role: Role | undefined): ParsedHeader {
    return parseHeaderTokens(this.#encoding, tokens, role, { strict: this.strict, validChannels: this.#validChannels }, this.#recover);
  }

  #startContent(header: ParsedHeader, from?: ContentSnapshot): void {
    this.#header = header;
    this.#content = new MessageContent(this.#encoding, from);
    this.#state = StreamState.Content;
  }

  #processContentToken(token: number): void {
    this.#lastDelta = this.#content!.push(token);
  }

  #finishMessage(): void {
    this.#messages.push(makeMessage(this.#header!, this.#content!.finish()));
    this.#state = StreamState.ExpectStart;
    this.#header = undefined;
    this.#content = undefined;
    this.#lastDelta = undefined;
  }

  /** Text of the message in progress ('' outside a message body). */
  get currentContent(): string {
    return this.#state === StreamState.Content ? this.#content!.text : '';
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
    return this.#channelLabel.read(this.#encoding, this.#headerTokens);
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
          content_tokens: this.#content!.contentTokens(),
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
