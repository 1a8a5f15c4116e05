/**
 * The one place untrusted text (model output, router messages, problem details, upstream names,
 * file contents) is made safe for a terminal: every C0 control but the ones a caller keeps, DEL,
 * every C1 control, the bidi controls and the line/paragraph separators become visible escapes
 * (`\x1b`, `\x9b`, `\u202e`), so nothing can move the cursor, clear the screen, set the title,
 * write the clipboard (OSC 52) or reorder what is shown. Pipes and files get the bytes unchanged:
 * callers apply this only where text meets a terminal (or a one-line diagnostic).
 */

// C0 (but \t and \n, handled by the caller's choice), DEL, C1, ALM, LRM/RLM, LRE..RLO, LRI..PDI,
// LS/PS, and the BOM/ZWNBSP (invisible; harmless but confusing inside a diagnostic).
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;
// eslint-disable-next-line no-control-regex
const UNSAFE_ONE_LINE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

function escapeChar(ch: string): string {
  const code = ch.charCodeAt(0);
  if (ch === '\n') return '\\n';
  if (ch === '\r') return '\\r';
  if (ch === '\t') return '\\t';
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Text for a terminal that may span lines (model text): keeps \n and \t, escapes the rest. */
export function terminalText(text: string): string {
  UNSAFE.lastIndex = 0;
  return UNSAFE.test(text) ? text.replace(UNSAFE, escapeChar) : text;
}

/** Text for a one-line diagnostic: escapes every control, newlines and tabs included. */
export function oneLineText(text: string): string {
  UNSAFE_ONE_LINE.lastIndex = 0;
  return UNSAFE_ONE_LINE.test(text) ? text.replace(UNSAFE_ONE_LINE, escapeChar) : text;
}

// What JSON.stringify leaves raw inside strings that a terminal would act on or reorder.
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/**
 * JSON.stringify, with DEL, C1, bidi controls and the separators written as \uXXXX escapes: the
 * same JSON value, but safe to show on a terminal (JSON.stringify already escapes C0).
 */
export function safeJson(value: unknown): string {
  const json = JSON.stringify(value);
  JSON_UNSAFE.lastIndex = 0;
  return JSON_UNSAFE.test(json) ? json.replace(JSON_UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
}

// Python's str.isprintable() is false for Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs other than the space;
// repr() escapes exactly those characters.
const PY_NONPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/** Python's repr() of a str, as the old decode_hpke_response.py printed chunks. */
export function pythonRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch !== ' ' && PY_NONPRINTABLE.test(ch)) {
      if (code < 0x100) out += `\\x${code.toString(16).padStart(2, '0')}`;
      else if (code < 0x10000) out += `\\u${code.toString(16).padStart(4, '0')}`;
      else out += `\\U${code.toString(16).padStart(8, '0')}`;
    } else out += ch;
  }
  return out + quote;
}
