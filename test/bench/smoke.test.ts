/**
 * `npm run bench` smoke test (no timing assertion): the harmony bench runs in its reduced mode
 * and measures what it says, and the report marks a figure past its goal REGRESSED.
 */
import { describe, expect, it } from 'vitest';
import { benchHarmony } from '../../bench/harmony.js';
import { figure } from '../../bench/lib.js';
import { formatTable } from '../../bench/report.js';

describe('bench', () => {
  it('runs the harmony figures in quick mode: both tokenizers see the same texts', async () => {
    const figures = await benchHarmony({ quick: true, log: () => {} });
    expect(figures.map((f) => f.id)).toEqual(['harmony.tokenize', 'harmony.long-piece', 'harmony.fromjson-lossless', 'harmony.stream-parse']);
    for (const f of figures) {
      expect(f.value).toBeGreaterThan(0);
      expect(f.baseline).toBeGreaterThan(0);
      expect(Number.isFinite(f.ratio)).toBe(true);
    }
    const byId = (id: string) => figures.find((f) => f.id === id)!;
    const detail = byId('harmony.tokenize').detail as { renderedTokens: number; baselineTokens: number };
    // Rendering adds only the Harmony headers around the same texts.
    expect(detail.renderedTokens).toBeGreaterThan(detail.baselineTokens);
    expect(detail.renderedTokens).toBeLessThan(detail.baselineTokens * 1.1);
    expect((byId('harmony.stream-parse').detail as { messages: number }).messages).toBeGreaterThan(10);
  }, 60_000);

  it('prints PASS within a goal and REGRESSED past it', () => {
    const base = { unit: 'ms', baselineLabel: 'node -e 0', baseline: 40, baselineUnit: 'ms', rounds: 3 } as const;
    const table = formatTable([
      figure({ id: 'a', label: 'fast', value: 50, ratio: 1.25, goal: { kind: 'ratio-max', value: 1.6 }, ...base }),
      figure({ id: 'b', label: 'slow', value: 80, ratio: 2, goal: { kind: 'ratio-max', value: 1.6 }, ...base }),
      figure({ id: 'c', label: 'rate', value: 90_000, ratio: 1, goal: { kind: 'value-min', value: 100_000 }, ...base, unit: 'chunks/s' }),
    ]);
    const lines = table.split('\n');
    expect(lines[2]).toMatch(/^fast .* PASS$/);
    expect(lines[3]).toMatch(/^slow .* 2\.00x .* REGRESSED$/);
    expect(lines[4]).toMatch(/^rate .*>= 100,000 chunks\/s +REGRESSED$/);
  });
});
