/**
 * Parsing a message header (the decoded text between `<|start|>` and `<|message|>`), ported from
 * `StreamableParser::parse_header_from_string` (openai/harmony src/encoding.rs).
 *
 * Real models put the recipient before or after the channel (`assistant to=functions.f<|channel|>
 * commentary json` and `assistant<|channel|>commentary to=functions.f json`) and glue
 * `<|constrain|>` to the recipient; all of these parse to the same header.
 */
import { HarmonyErrorCode, HarmonyParseError } from './errors.js';
import { Author, Role, isRole } from './model.js';
import { SpecialTokenText } from './registry.js';

export interface ParsedHeader {
  readonly author: Author;
  readonly recipient: string | undefined;
  readonly channel: string | undefined;
  readonly contentType: string | undefined;
}

// Rust's char::is_whitespace / str::trim use Unicode White_Space.
const WHITE_SPACE = String.raw`\t\n\v\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000`;
const CHANNEL_END = new RegExp(`[${WHITE_SPACE}<]`);
const TRIM = new RegExp(`^[${WHITE_SPACE}]+|[${WHITE_SPACE}]+$`, 'g');
// str::split_ascii_whitespace: space, \t, \n, form feed, \r (not vertical tab).
const ASCII_WHITESPACE = /[ \t\n\f\r]+/;

function rustTrim(text: string): string {
  return text.replace(TRIM, '');
}

function malformed(message: string): HarmonyParseError {
  return new HarmonyParseError(HarmonyErrorCode.MalformedHeader, message);
}

/**
 * Parses a header. With `parseRecipientAndType` false (a message that never reached `<|message|>`)
 * the words after role and channel are returned as content instead of recipient/content type.
 * Returns the header and any words left over (an error for a complete header).
 */
export function parseHeaderFromString(
  headerText: string,
  role: Role | undefined,
  parseRecipientAndType: boolean,
): { header: ParsedHeader; remaining: string | undefined } {
  let header = headerText;
  let channel: string | undefined;
  const marker = header.indexOf(SpecialTokenText.Channel);
  if (marker >= 0) {
    const after = header.slice(marker + SpecialTokenText.Channel.length);
    const endMatch = CHANNEL_END.exec(after);
    const end = endMatch ? endMatch.index : after.length;
    if (end === 0) throw malformed('channel marker present but no channel value found in header');
    channel = after.slice(0, end);
    header = header.slice(0, marker) + after.slice(end);
  }
  header = rustTrim(header);

  // `to=foo<|constrain|>json`: split the content type off the recipient.
  if (header.includes(SpecialTokenText.Constrain)) {
    header = rustTrim(header.split(SpecialTokenText.Constrain).join(` ${SpecialTokenText.Constrain}`));
  }

  const parts = header.split(ASCII_WHITESPACE).filter((part) => part.length > 0);

  let resolvedRole: Role;
  let roleText: string | undefined;
  if (role !== undefined) {
    resolvedRole = role;
  } else {
    const first = parts[0];
    if (first === undefined) throw malformed('message header did not contain a role');
    roleText = first;
    if (isRole(first)) {
      resolvedRole = first;
    } else if (parts.length > 1 || first.startsWith('to=')) {
      // An unknown author with a recipient is a tool answering (`browser.search to=assistant`).
      parts.shift();
      resolvedRole = Role.Tool;
    } else {
      throw new HarmonyParseError(HarmonyErrorCode.UnknownRole, `Unknown role: ${first}`);
    }
  }
  if (parts[0] === resolvedRole) parts.shift();

  let recipient: string | undefined;
  let contentType: string | undefined;
  if (parseRecipientAndType && parts.length > 0) {
    const count = parts.length;
    const last = parts.pop()!;
    if (last.startsWith('to=')) {
      recipient = last.slice(3);
    } else if (count === 1) {
      recipient = last;
    } else {
      contentType = last;
      const rawRecipient = parts.pop();
      if (rawRecipient !== undefined) recipient = rawRecipient.startsWith('to=') ? rawRecipient.slice(3) : rawRecipient;
    }
  }
  const remaining = parts.length > 0 ? parts.join(' ') : undefined;
  const author = new Author(resolvedRole, resolvedRole === Role.Tool ? roleText : undefined);
  return { header: { author, recipient, channel, contentType }, remaining };
}

/**
 * Lenient reading of a header with leftover words (`<|channel|>final some junk<|message|>`): keep
 * the channel, a `to=` recipient, and a content type only where it is marked as one (after
 * `<|constrain|>`, or right after the `to=` recipient); drop the other words. Returns how many
 * words were dropped.
 */
export function recoverHeaderFromString(headerText: string, role: Role | undefined): { header: ParsedHeader; dropped: number } {
  const { header: parsed } = parseHeaderFromString(headerText, role, false);
  let rest = headerText;
  const marker = rest.indexOf(SpecialTokenText.Channel);
  if (marker >= 0 && parsed.channel !== undefined) {
    const after = rest.slice(marker + SpecialTokenText.Channel.length + parsed.channel.length);
    rest = rest.slice(0, marker) + after;
  }
  rest = rustTrim(rest.split(SpecialTokenText.Constrain).join(` ${SpecialTokenText.Constrain}`));
  const words = rest.split(ASCII_WHITESPACE).filter((word) => word.length > 0);
  if (role === undefined) words.shift();
  else if (words[0] === role) words.shift();
  let recipient: string | undefined;
  let contentType: string | undefined;
  let kept = 0;
  const to = words.findIndex((word) => word.startsWith('to=') && word.length > 3);
  if (to >= 0) {
    recipient = words[to]!.slice(3);
    kept += 1;
  }
  const constrained = words.findIndex((word) => word.startsWith(SpecialTokenText.Constrain));
  const typeAt = constrained >= 0 ? constrained : to >= 0 && to + 1 < words.length ? to + 1 : -1;
  if (typeAt >= 0) {
    contentType = words[typeAt];
    kept += 1;
  }
  return {
    header: { author: parsed.author, recipient, channel: parsed.channel, contentType },
    dropped: words.length - kept,
  };
}
