/**
 * The pre-tokenizer's character classes, exactly as Unicode 16.0.0 defines them (the version of
 * the reference's regex tables), whatever the Unicode version of the running Node's ICU.
 *
 * Spelling the classes out as thousands of explicit ranges works but makes V8's matcher 3-10 times
 * slower on non-ASCII text than its own \p{...} (measured). So the classes are Node's \p{...}
 * corrected by set operations ('v' flag): `[[\p{L}--[cps Node has and Unicode 16 has not]][cps
 * Unicode 16 has and Node has not]]`. The corrections are found once, when the encoder is built:
 * every code point of planes 0-3 and 14 (planes 4-13 are unassigned in every Unicode version so
 * far; 15-16 are private use, never a letter, mark or number) is run through each class, and the
 * runs Node reports are compared with the generated Unicode 16 ranges (src/harmony/unicode16.ts).
 * test/harmony/unicode16.test.ts checks the result code point by code point.
 */
import * as U16 from './unicode16.js';
import { web } from './web-globals.js';

type Ranges = number[]; // inclusive [start0, end0, start1, end1, ...]

function decode(packed: string): Ranges {
  return packed.split(',').map((n) => parseInt(n, 36));
}

const SCANNED: ReadonlyArray<readonly [number, number]> = [
  [0x0, 0xd7ff],
  [0xe000, 0x3ffff],
  [0xe0000, 0xe0fff],
];

// UTF-16 offsets where the scanned text's astral parts begin (BMP less surrogates is 0xF800 units).
const PLANES_1_3_AT = 0xf800;
const PLANE_14_AT = PLANES_1_3_AT + 2 * 0x30000;

/** Every scanned code point once, in order (built from UTF-16 code units in one decode). */
function scanText(): string {
  const units = new Uint16Array(PLANE_14_AT + 2 * 0x1000);
  let at = 0;
  for (const [start, end] of SCANNED) {
    for (let cp = start; cp <= end; cp += 1) {
      if (cp < 0x10000) units[at++] = cp;
      else {
        units[at++] = 0xd800 + ((cp - 0x10000) >> 10);
        units[at++] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
      }
    }
  }
  return new web.TextDecoder('utf-16le').decode(units);
}

/** The code point at a UTF-16 offset of the scanned text. */
function cpAt(offset: number): number {
  if (offset < 0xd800) return offset;
  if (offset < PLANES_1_3_AT) return offset + 0x800;
  if (offset < PLANE_14_AT) return 0x10000 + ((offset - PLANES_1_3_AT) >> 1);
  return 0xe0000 + ((offset - PLANE_14_AT) >> 1);
}

/** The scanned code points that `classBody` (Node's \p{...} classes) matches, as ranges. */
function nodeRanges(text: string, classBody: string): Ranges {
  const out: Ranges = [];
  for (const match of text.matchAll(new RegExp(`[${classBody}]+`, 'gu'))) {
    out.push(cpAt(match.index), cpAt(match.index + match[0].length - 1));
  }
  return out;
}

/** a minus b, both sorted disjoint inclusive ranges, restricted to the scanned planes. */
function subtract(a: Ranges, b: Ranges): Ranges {
  const out: Ranges = [];
  let j = 0;
  for (let i = 0; i < a.length; i += 2) {
    let start = a[i]!;
    const end = a[i + 1]!;
    while (j < b.length && b[j + 1]! < start) j += 2;
    let k = j;
    while (start <= end) {
      if (k >= b.length || b[k]! > end) {
        out.push(start, end);
        break;
      }
      if (b[k]! > start) out.push(start, b[k]! - 1);
      start = Math.max(start, b[k + 1]! + 1);
      k += 2;
    }
  }
  return out;
}

function inScannedPlanes(ranges: Ranges): Ranges {
  const out: Ranges = [];
  for (let i = 0; i < ranges.length; i += 2) {
    for (const [s, e] of SCANNED) {
      const a = Math.max(s, ranges[i]!);
      const b = Math.min(e, ranges[i + 1]!);
      if (a <= b) out.push(a, b);
    }
  }
  return out;
}

const hex = (cp: number) => `\\u{${cp.toString(16)}}`;

function rangesClass(ranges: Ranges): string {
  let out = '';
  for (let i = 0; i < ranges.length; i += 2) out += ranges[i] === ranges[i + 1] ? hex(ranges[i]!) : `${hex(ranges[i]!)}-${hex(ranges[i + 1]!)}`;
  return `[${out}]`;
}

export interface CorrectedClass {
  /** A nested class for a 'v' RegExp, e.g. `[[\p{L}--[...]][...]]`. */
  readonly source: string;
  /** Code points Node's classes have and Unicode 16's do not (removed), and the reverse (added). */
  readonly removed: number;
  readonly added: number;
}

function corrected(text: string, nodeBody: string, packed: string): CorrectedClass {
  const wanted = decode(packed);
  const node = nodeRanges(text, nodeBody);
  const remove = subtract(node, wanted);
  const add = subtract(inScannedPlanes(wanted), node);
  const count = (r: Ranges) => r.reduce((sum, v, i) => (i % 2 ? sum + v - r[i - 1]! + 1 : sum), 0);
  let source = `[${nodeBody}]`;
  if (remove.length > 0) source = `[${source}--${rangesClass(remove)}]`;
  if (add.length > 0) source = `[${source}${rangesClass(add)}]`;
  return { source, removed: count(remove), added: count(add) };
}

export interface PreTokenizerClasses {
  readonly letter: CorrectedClass;
  readonly number: CorrectedClass;
  readonly upperish: CorrectedClass;
  readonly lowerish: CorrectedClass;
}

/** The four classes of the o200k pattern, corrected to Unicode 16 for the running Node. */
export function preTokenizerClasses(): PreTokenizerClasses {
  const text = scanText();
  return {
    letter: corrected(text, '\\p{L}', U16.LETTER),
    number: corrected(text, '\\p{N}', U16.NUMBER),
    upperish: corrected(text, '\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}', U16.UPPERISH),
    lowerish: corrected(text, '\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}', U16.LOWERISH),
  };
}

/** Unicode 16 ranges of a class (for tests). */
export function unicode16Ranges(name: 'LETTER' | 'NUMBER' | 'UPPERISH' | 'LOWERISH'): Ranges {
  return decode(U16[name]);
}
