/**
 * Reading a message header for the StreamableParser: the header's tokens to a ParsedHeader,
 * strictly (the reference's errors) or leniently (the recoveries listed in streamable-parser.ts,
 * each reported through `recover`), and the checks on how a message ended.
 */
import { HarmonyErrorCode, HarmonyParseError } from './errors.js';
import { parseHeaderFromString, recoverHeaderFromString, type ParsedHeader } from './header.js';
import { Role } from './model.js';
import type { EncodingLike } from './parser-types.js';
import { SpecialToken, SpecialTokenText } from './registry.js';
import { utf8DecodeLossy } from './utf8.js';

/** Notes a recovery (code, message without the model's text). */
export type Recover = (code: string, message: string) => void;

/** What a channel name is normalised to when no validChannels are given: gpt-oss's three. */
const DEFAULT_CHANNELS: ReadonlySet<string> = new Set(['analysis', 'commentary', 'final']);
/** Recipients that are not tools. */
const NOT_TOOLS: ReadonlySet<string> = new Set(['all', 'user', 'assistant']);
export const ROLE_WORDS: ReadonlySet<string> = new Set(Object.values(Role));
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

/** An assistant message addressed to a tool. */
export function isToolCall(header: ParsedHeader): boolean {
  return header.author.role === Role.Assistant && header.recipient !== undefined && !NOT_TOOLS.has(header.recipient);
}

/** Lenient: notes a message closed by a stop token that does not fit it (the message is kept). */
export function checkStopToken(header: ParsedHeader, token: number, recover: Recover): void {
  const toTool = isToolCall(header);
  const channel = header.channel ?? '(none)';
  if (toTool && token !== SpecialToken.Call) {
    const name = token === SpecialToken.End ? SpecialTokenText.End : SpecialTokenText.Return;
    recover(HarmonyErrorCode.UnexpectedToken, `a tool call closed by ${name} instead of <|call|>: kept as the call`);
  } else if (!toTool && token === SpecialToken.Call) {
    recover(HarmonyErrorCode.UnexpectedToken, `<|call|> closed a message on channel ${channel.slice(0, 40)} addressed to no tool`);
  } else if (!toTool && token === SpecialToken.Return && header.author.role === Role.Assistant && header.channel !== undefined && header.channel !== 'final') {
    recover(HarmonyErrorCode.UnexpectedToken, `<|return|> closed a message on channel ${channel.slice(0, 40)}, not final`);
  }
}

/**
 * Lenient fixes to a header's text before it is parsed: Unicode spaces, junk between
 * `<|channel|>` and the name, a second `<|channel|>`, a role written twice.
 */
function lenientHeaderText(text: string, role: Role | undefined, recover: Recover): string {
  let out = text;
  if (UNICODE_SPACES.test(out)) {
    // The reference splits words on ASCII whitespace only: `to=functions.f` after U+00A0 would
    // be glued to the role.
    out = out.replace(UNICODE_SPACES_ALL, ' ');
    recover(HarmonyErrorCode.MalformedHeader, 'Unicode space characters in a message header: read as spaces');
  }
  const marker = SpecialTokenText.Channel;
  const first = out.indexOf(marker);
  if (first >= 0) {
    const second = out.indexOf(marker, first + marker.length);
    if (second >= 0) {
      // Keep the first channel; drop every later marker with its value.
      const rest = out.slice(second).replace(CHANNEL_MARKER_AND_VALUE, ' ');
      out = out.slice(0, second) + rest;
      recover(HarmonyErrorCode.MalformedHeader, 'a second <|channel|> in a message header: the first channel is kept');
    }
    const after = out.slice(first + marker.length);
    const junk = LEADING_CHANNEL_JUNK.exec(after);
    if (junk && junk[0].length > 0 && junk[0].length < after.length) {
      out = out.slice(0, first + marker.length) + after.slice(junk[0].length);
      recover(HarmonyErrorCode.MalformedHeader, `${junk[0].length} space characters before a channel name: dropped`);
    }
  }
  if (role === undefined) {
    const doubled = DOUBLED_ROLE.exec(out);
    if (doubled) {
      out = doubled[1]! + out.slice(doubled[0].length);
      recover(HarmonyErrorCode.UnknownRole, `the role '${doubled[1]}' written twice in a message header: read once`);
    }
  }
  return out;
}

/** Lenient: a recipient that names nothing (`<|channel|>final 2?`: the reference reads `2?` as one) is dropped. */
function checkRecipient(header: ParsedHeader, recover: Recover): ParsedHeader {
  const recipient = header.recipient;
  if (recipient === undefined || RECIPIENT_NAME.test(recipient)) return header;
  // A tool call is never dropped for a special token's text glued to its name
  // (`to=functions.get_weather<|start|>`): the name before it is the recipient.
  const name = recipient.split(SPECIAL_TOKEN_TEXT)[0]!;
  if (name !== recipient && RECIPIENT_NAME.test(name)) {
    recover(HarmonyErrorCode.MalformedHeader, 'special-token text glued to a recipient name: dropped, the name kept');
    return { ...header, recipient: name };
  }
  recover(HarmonyErrorCode.MalformedHeader, `a header word that names no recipient (${recipient.length} characters): dropped`);
  return { ...header, recipient: undefined };
}

/** Lenient: a channel name that is recognisably a valid one (`––commentary`, `final?`, `Ｆｉｎａｌ`). */
function normaliseChannel(header: ParsedHeader, validChannels: ReadonlySet<string> | undefined, recover: Recover): ParsedHeader {
  const channel = header.channel;
  const valid = validChannels ?? DEFAULT_CHANNELS;
  if (channel === undefined || valid.has(channel)) return header;
  const letters = /^[^\p{L}]*(\p{L}+)/u.exec(channel.normalize('NFKC'));
  const name = letters?.[1]?.toLowerCase();
  if (name === undefined || !valid.has(name)) return header;
  recover(HarmonyErrorCode.UnknownChannel, `channel name '${channel.slice(0, 40)}' read as '${name}'`);
  return { ...header, channel: name };
}

function lossyHeaderText(encoding: EncodingLike, tokens: readonly number[]): string {
  return tokens.map((token) => encoding.tokenString(token) ?? utf8DecodeLossy(encoding.tokenBytes(token) ?? new Uint8Array())).join('');
}

export interface HeaderRules {
  readonly strict: boolean;
  readonly validChannels: ReadonlySet<string> | undefined;
}

/** A header's tokens (between `<|start|>` and `<|message|>`) to the header, as strict or lenient as `rules`. */
export function parseHeaderTokens(
  encoding: EncodingLike,
  tokens: readonly number[],
  role: Role | undefined,
  rules: HeaderRules,
  recover: Recover,
): ParsedHeader {
  const { strict, validChannels } = rules;
  let text: string;
  try {
    text = encoding.decodeUtf8(tokens);
  } catch (error) {
    if (strict || !(error instanceof HarmonyParseError)) {
      throw new HarmonyParseError(HarmonyErrorCode.MalformedHeader, `could not decode header: ${(error as Error).message}`, { cause: error });
    }
    recover(HarmonyErrorCode.MalformedHeader, 'a message header that is not UTF-8: decoded lossily');
    text = lossyHeaderText(encoding, tokens);
  }
  if (!strict) text = lenientHeaderText(text, role, recover);
  let parsed: ReturnType<typeof parseHeaderFromString>;
  try {
    parsed = parseHeaderFromString(text, role, true);
  } catch (error) {
    // `<|channel|>` with no value: lenient mode drops the marker and parses the rest.
    if (strict || !(error instanceof HarmonyParseError) || error.code !== HarmonyErrorCode.MalformedHeader) throw error;
    recover(HarmonyErrorCode.MalformedHeader, `${error.message}: no channel`);
    text = text.split(SpecialTokenText.Channel).join(' ');
    parsed = parseHeaderFromString(text, role, true);
  }
  let { header } = parsed;
  if (parsed.remaining !== undefined) {
    const message = `unexpected tokens remaining in message header: Some(${JSON.stringify(parsed.remaining)})`;
    if (strict) throw new HarmonyParseError(HarmonyErrorCode.MalformedHeader, message);
    const recovered = recoverHeaderFromString(text, role);
    header = recovered.header;
    // The words themselves are the model's output: say how many were dropped, not what they were.
    recover(HarmonyErrorCode.MalformedHeader, `unexpected words in a message header: ${recovered.dropped} dropped`);
  }
  if (!strict) header = checkRecipient(normaliseChannel(header, validChannels, recover), recover);
  if (validChannels && header.channel !== undefined && !validChannels.has(header.channel)) {
    const message = `unknown channel '${header.channel.slice(0, 40)}' (valid: ${[...validChannels].join(', ')})`;
    if (strict) throw new HarmonyParseError(HarmonyErrorCode.UnknownChannel, message);
    recover(HarmonyErrorCode.UnknownChannel, `${message}: kept`);
  }
  return header;
}

/**
 * The channel a header names while it still streams in (`<|channel|>analysis` before its
 * `<|message|>`): a label for raw chunks, not the parse. Memoised by the header array's identity.
 */
export class HeaderChannelLabel {
  #memo: { header: readonly number[]; scanned: number; channelAt: number; bytes: number[]; complete: boolean; name: string | undefined } | undefined;

  read(encoding: EncodingLike, header: readonly number[]): string | undefined {
    // Called per chunk while a header streams in, so it resumes where its last call stopped and
    // decodes only up to the end of the channel name (ASCII whitespace, or '<', which also starts
    // every special token): a long header costs linear time, not quadratic.
    let memo = this.#memo;
    if (memo === undefined || memo.header !== header) {
      memo = { header, scanned: 0, channelAt: -1, bytes: [], complete: false, name: undefined };
      this.#memo = memo;
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
      for (const byte of encoding.tokenBytes(header[memo.scanned]!) ?? []) {
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
}
