/**
 * The byte-pair merge: the heap path for long pieces gives the same tokens as the reference's
 * rescanning algorithm (the short path), and a leading U+FEFF reaches the ranks that start with it.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { LONG_PIECE_BYTES, bytePairEncode } from '../../src/harmony/bpe.js';
import { loadHarmonyEncoding } from '../../src/harmony/index.js';

const encoding = loadHarmonyEncoding();
const encodeOrdinary = (text: string) => encoding.encodeOrdinary(text);
const decode = (tokens: number[]) => encoding.decode(tokens);

// A toy rank table over bytes a-d, so both paths can be driven on any length.
const toyRanks = new Map<string, number>();
let next = 0;
for (const c of 'abcd') toyRanks.set(c, next++);
for (const piece of ['ab', 'ba', 'cd', 'dc', 'aa', 'bb', 'abab', 'aab', 'cdcd', 'abc', 'dcab', 'bba', 'aaaa', 'abcd', 'cc']) toyRanks.set(piece, next++);

/** The reference's algorithm, written out as plainly as possible (oracle). */
function reference(piece: string): number[] {
  let parts = [...piece];
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < parts.length; i += 1) {
      const rank = toyRanks.get(parts[i]! + parts[i + 1]!);
      if (rank !== undefined && rank < bestRank) {
        bestRank = rank;
        best = i;
      }
    }
    if (best < 0) break;
    parts = [...parts.slice(0, best), parts[best]! + parts[best + 1]!, ...parts.slice(best + 2)];
  }
  return parts.map((p) => toyRanks.get(p)!);
}

describe('byte-pair merge', () => {
  test('short and long paths agree with the reference algorithm on any piece', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[abcd]{2,400}$/), (piece) => {
        const out: number[] = [];
        bytePairEncode(piece, toyRanks, out);
        expect(out).toEqual(reference(piece));
      }),
      { numRuns: 400 },
    );
    expect(LONG_PIECE_BYTES).toBeLessThan(400);
  });

  test('long pieces of real text round-trip and match the short path piecewise', () => {
    const cjk = '漢字仮名交じり文'.repeat(300);
    const tokens = encodeOrdinary(cjk);
    expect(decode(tokens)).toBe(cjk);
    const emoji = '👩🏽‍💻🎉🇯🇵'.repeat(200);
    expect(decode(encodeOrdinary(emoji))).toBe(emoji);
  });

  test('40k CJK characters without a space (one piece, the heap path) round-trip', () => {
    // Speed is in `npm run bench` (harmony.long-piece): 4.9 s with the old quadratic merge.
    const text = '東京都渋谷区'.repeat(7000);
    expect(decode(encodeOrdinary(text))).toBe(text);
  });

  test('U+FEFF at the start of a piece gives the ranks that begin with EF BB BF', () => {
    expect(encodeOrdinary('\ufeff')).toEqual([5574]);
    expect(encodeOrdinary('\ufeffusing')).toEqual([9251]);
    expect(decode([5574])).toBe('\ufeff');
  });
});
