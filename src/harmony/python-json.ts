/**
 * `json.dumps` as Python writes it (default arguments), so Conversation.toJson() produces the same
 * bytes as openai_harmony's `Conversation.to_json()`: `", "` and `": "` separators, every non-ASCII
 * character escaped as \uXXXX (ensure_ascii), floats in Python's repr.
 *
 * JavaScript has one number type, so an integral float (Python `1.0`) is written as `1`; JSON
 * parsed in JavaScript has already lost that distinction.
 */
import { JsonNumber, orderedKeys } from './json.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

function escapeString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code === 0x22) out += '\\"';
    else if (code === 0x5c) out += '\\\\';
    else if (code >= 0x20 && code < 0x7f) out += text[i];
    else if (code === 0x0a) out += '\\n';
    else if (code === 0x0d) out += '\\r';
    else if (code === 0x09) out += '\\t';
    else if (code === 0x08) out += '\\b';
    else if (code === 0x0c) out += '\\f';
    else out += `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return `${out}"`;
}

/** Python's float repr: shortest round-trip digits, exponent form below 1e-4 and from 1e16 on. */
function pythonFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  if (Number.isInteger(value) && Math.abs(value) < 1e16) return String(value);
  const [mantissa = '', exponentText = '0'] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const sign = exponent < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return String(value);
}

function dumpNumber(value: number): string {
  // Integers as Python ints (JSON ints stay ints in Python); others as Python float repr.
  if (Number.isSafeInteger(value)) return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return BigInt(value).toString();
  return pythonFloat(value);
}

/** A number parsed from JSON text as Python's json.loads reads it: an int, or a float (repr). */
function dumpJsonNumber(text: string): string {
  if (/^-?(?:0|[1-9][0-9]*)$/.test(text)) return BigInt(text).toString();
  const value = Number(text);
  if (Object.is(value, -0)) return '-0.0';
  const repr = pythonFloat(value);
  return Number.isFinite(value) && Number.isInteger(value) && !/[e.]/.test(repr) ? `${repr}.0` : repr;
}

/** Serialises like Python's `json.dumps(value)`; undefined object members are skipped. */
export function pythonJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'number') return dumpNumber(value);
  if (value instanceof JsonNumber) return dumpJsonNumber(value.text);
  if (typeof value === 'string') return escapeString(value);
  if (Array.isArray(value)) return `[${value.map((item) => pythonJsonDumps(item)).join(', ')}]`;
  if (value instanceof Map) {
    return `{${[...value.entries()].map(([key, item]) => `${escapeString(String(key))}: ${pythonJsonDumps(item)}`).join(', ')}}`;
  }
  if (typeof value === 'object') {
    const object = value as Record<string, unknown>;
    const entries = orderedKeys(object)
      .map((key): [string, unknown] => [key, object[key]])
      .filter(([, item]) => item !== undefined);
    return `{${entries.map(([key, item]) => `${escapeString(key)}: ${pythonJsonDumps(item)}`).join(', ')}}`;
  }
  throw new TypeError(`cannot serialise a ${typeof value} as JSON`);
}
