/**
 * JSON as the reference (serde_json 1.0.140 with `preserve_order`) reads and prints it, for the
 * values a conversation carries verbatim: tool parameter schemas, their defaults, enums, examples.
 *
 * - Numbers keep their source text (JsonNumber) and print like serde_json: an integer that fits
 *   u64/i64 as written, anything else as an f64 in Rust's shortest form (`1.0`, `-0.0`, `1e20`,
 *   `1e-6`, `100000.0`). A plain JS number (an object built in code, or parsed by JSON.parse)
 *   prints as an integer when it is one, else the same way.
 * - Object members keep document order, integer-like keys ("1", "42") included, which a plain JS
 *   object would move to the front: the order rides along in a symbol-keyed array.
 * - Nesting deeper than serde_json's recursion limit (128) is refused, as the reference does.
 *
 * Parsing is done by jsonc-parser's visitor (it reports each literal's source offset and each
 * member in order); a document is first checked by JSON.parse, so only valid JSON gets there.
 * Chosen by measurement (800 randomized conversations with tool schemas): lossless-json and
 * json-bigint refused 12% and 16% of them that serde_json accepts (duplicate keys, `constructor`
 * or `__proto__` keys) and both reorder integer-like keys; jsonc-parser accepted all and was as
 * fast as they were (about 2.5x JSON.parse).
 */
import { visit } from 'jsonc-parser';
import { HarmonyErrorCode, UsageError } from './errors.js';

/** A JSON number as written in the source. */
export class JsonNumber {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  valueOf(): number {
    return Number(this.text);
  }

  toJSON(): number {
    return Number(this.text);
  }

  toString(): string {
    return this.text;
  }
}

/** Member order of a parsed object (present when it differs from what Object.keys would give). */
const KEY_ORDER: unique symbol = Symbol('harmony.keyOrder');

type Ordered = Record<string, unknown> & { [KEY_ORDER]?: string[]; [DUPLICATE_KEYS]?: Set<string> };

/** Keys an object was given more than once (a parsed object; serde's structs refuse these). */
export const DUPLICATE_KEYS: unique symbol = Symbol('harmony.duplicateKeys');

/** serde_json's default recursion limit: the 128th nested array/object is refused. */
const MAX_DEPTH = 127;

function invalid(message: string): UsageError {
  return new UsageError(HarmonyErrorCode.InvalidJson, message);
}

/** Keys of an object in document order. */
export function orderedKeys(value: object): string[] {
  return (value as Ordered)[KEY_ORDER] ?? Object.keys(value);
}

/** Deepest nesting of arrays/objects in a parsed value (iterative: any depth is safe). */
export function jsonDepth(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== 'object' || item === null || item instanceof JsonNumber) continue;
    const here = depth + 1;
    if (here > max) max = here;
    if (max > MAX_DEPTH) return max;
    for (const child of Array.isArray(item) ? item : Object.values(item)) stack.push([child, here]);
  }
  return max;
}

/** Parses JSON keeping number texts and member order; refuses what serde_json refuses. */
export function parseJsonLossless(text: string): unknown {
  // JSON.parse first: the syntax errors and the depth limit are the same as parseJsonChecked's.
  parseJsonChecked(text);
  type Frame = { value: unknown[] | Ordered; key: string | undefined };
  const stack: Frame[] = [];
  let root: unknown;
  let rangeError: string | undefined;
  const put = (value: unknown) => {
    const top = stack[stack.length - 1];
    if (!top) {
      root = value;
      return;
    }
    if (Array.isArray(top.value)) {
      top.value.push(value);
      return;
    }
    const object = top.value;
    const key = top.key!;
    const order = object[KEY_ORDER]!;
    if (Object.prototype.hasOwnProperty.call(object, key)) {
      // serde_json's IndexMap insert: a repeated key keeps its first place, takes the last value.
      object[key] = value;
      if (!object[DUPLICATE_KEYS]) Object.defineProperty(object, DUPLICATE_KEYS, { value: new Set<string>(), enumerable: false });
      object[DUPLICATE_KEYS]!.add(key);
      return;
    }
    Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
    order.push(key);
  };
  visit(text, {
    onObjectBegin: () => {
      const object: Ordered = {};
      Object.defineProperty(object, KEY_ORDER, { value: [], enumerable: false, writable: true });
      put(object);
      stack.push({ value: object, key: undefined });
    },
    onObjectProperty: (property) => {
      stack[stack.length - 1]!.key = property;
    },
    onObjectEnd: () => {
      stack.pop();
    },
    onArrayBegin: () => {
      const array: unknown[] = [];
      put(array);
      stack.push({ value: array, key: undefined });
    },
    onArrayEnd: () => {
      stack.pop();
    },
    onLiteralValue: (value: unknown, offset: number, length: number) => {
      if (typeof value !== 'number') {
        put(value);
        return;
      }
      const source = text.slice(offset, offset + length);
      try {
        serdeNumber(source);
      } catch (error) {
        if (error instanceof NumberOutOfRange) rangeError ??= error.message;
        else throw error;
      }
      put(new JsonNumber(source));
    },
  });
  if (rangeError !== undefined) throw invalid(`invalid JSON: ${rangeError}`);
  return root;
}

/** Parses JSON with JSON.parse, refusing nesting deeper than the reference accepts. */
export function parseJsonChecked(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(HarmonyErrorCode.InvalidJson, `invalid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (jsonDepth(value) > MAX_DEPTH) throw invalid('invalid JSON: recursion limit exceeded (more than 127 nested arrays/objects)');
  return value;
}

const U64_MAX = 18446744073709551615n;
const I64_MAGNITUDE_MAX = 9223372036854775808n; // |i64::MIN|
const I32_MAX = 2147483647;
const NUMBER = /^(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?)([0-9]+))?$/;

/** What serde_json (without float_roundtrip) makes of a JSON number: an exact integer or an f64. */
type SerdeNumber = { readonly kind: 'int'; readonly value: bigint } | { readonly kind: 'float'; readonly value: number };

/** The number is outside f64 (serde_json's "number out of range"). */
class NumberOutOfRange extends Error {}

/**
 * serde_json's number parsing, step for step: up to 20 significant digits gathered into a u64
 * (integer digits past that only raise the exponent, fraction digits past it are dropped), then
 * `significand as f64` scaled by one power of ten from its table (two steps below 1e-308). This
 * is not always the correctly rounded double (JSON.parse's): 1.7976931348623157e307 becomes
 * 1.7976931348623155e307, and the reference prints that.
 */
function serdeNumber(text: string): SerdeNumber {
  const m = NUMBER.exec(text);
  if (!m) throw new NumberOutOfRange(`not a JSON number: ${text}`);
  const positive = m[1] === '';
  const integer = m[2]!;
  const fraction = m[3];
  let significand = 0n;
  let exponent = 0;
  let overflowed = false;
  for (let i = 0; i < integer.length; i += 1) {
    if (overflowed) {
      exponent += 1;
      continue;
    }
    const next = significand * 10n + BigInt(integer.charCodeAt(i) - 48);
    if (next > U64_MAX) {
      overflowed = true;
      exponent += 1;
    } else significand = next;
  }
  if (fraction === undefined && m[5] === undefined && !overflowed) {
    if (positive) return { kind: 'int', value: significand };
    if (significand === 0n) return { kind: 'float', value: -0 };
    if (significand <= I64_MAGNITUDE_MAX) return { kind: 'int', value: -significand };
    return { kind: 'float', value: -Number(significand) };
  }
  if (fraction !== undefined) {
    for (let i = 0; i < fraction.length && !overflowed; i += 1) {
      const next = significand * 10n + BigInt(fraction.charCodeAt(i) - 48);
      if (next > U64_MAX) overflowed = true;
      else {
        significand = next;
        exponent -= 1;
      }
    }
  }
  if (m[5] !== undefined) {
    const positiveExp = m[4] !== '-';
    let exp = 0;
    for (let i = 0; i < m[5].length; i += 1) {
      const next = exp * 10 + (m[5].charCodeAt(i) - 48);
      if (next > I32_MAX) {
        if (significand !== 0n && positiveExp) throw new NumberOutOfRange(`number out of range: ${text}`);
        return { kind: 'float', value: positive ? 0 : -0 };
      }
      exp = next;
    }
    exponent = positiveExp ? Math.min(I32_MAX, exponent + exp) : Math.max(-I32_MAX - 1, exponent - exp);
  }
  let f = Number(significand);
  for (;;) {
    const magnitude = Math.abs(exponent);
    if (magnitude <= 308) {
      const pow = Number(`1e${magnitude}`);
      if (exponent >= 0) {
        f *= pow;
        if (!Number.isFinite(f)) throw new NumberOutOfRange(`number out of range: ${text}`);
      } else f /= pow;
      break;
    }
    if (f === 0) break;
    if (exponent >= 0) throw new NumberOutOfRange(`number out of range: ${text}`);
    f /= 1e308;
    exponent += 308;
  }
  return { kind: 'float', value: positive ? f : -f };
}

/** serde_json's Display of a number given by its JSON source text. */
export function formatJsonNumberText(text: string): string {
  const number = serdeNumber(text);
  return number.kind === 'int' ? number.value.toString() : formatF64(number.value);
}

/** serde_json's Display of a JS number: an integer as one, else as an f64. */
function formatJsNumber(value: number): string {
  if (Number.isSafeInteger(value) && !Object.is(value, -0)) return String(value);
  return formatF64(value);
}

/** Rust's f64 Display as serde_json writes it (ryu's shortest digits, its layout rules). */
function formatF64(value: number): string {
  if (!Number.isFinite(value)) return 'null'; // serde_json writes non-finite floats as null
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const sign = value < 0 ? '-' : '';
  const [mantissa, exponent] = Math.abs(value).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const length = digits.length;
  const kk = Number(exponent) + 1; // 10^(kk-1) <= |value| < 10^kk
  let out: string;
  if (length <= kk && kk <= 16) out = `${digits}${'0'.repeat(kk - length)}.0`;
  else if (0 < kk && kk <= 16) out = `${digits.slice(0, kk)}.${digits.slice(kk)}`;
  else if (-5 < kk && kk <= 0) out = `0.${'0'.repeat(-kk)}${digits}`;
  else if (length === 1) out = `${digits}e${kk - 1}`;
  else out = `${digits[0]}.${digits.slice(1)}e${kk - 1}`;
  return sign + out;
}

/** serde_json's compact Display of a value (what the reference prints for defaults and enums). */
export function serdeJsonText(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (value instanceof JsonNumber) return formatJsonNumberText(value.text);
  if (typeof value === 'number') return formatJsNumber(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(serdeJsonText).join(',')}]`;
  if (typeof value === 'object') {
    const object = value as Record<string, unknown>;
    const keys = orderedKeys(object).filter((key) => object[key] !== undefined);
    return `{${keys.map((key) => `${JSON.stringify(key)}:${serdeJsonText(object[key])}`).join(',')}}`;
  }
  return 'null';
}
