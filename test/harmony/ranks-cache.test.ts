/**
 * The rank table copy the CLI reads at start-up (src/ranks-cache.ts): it round-trips to exactly
 * gpt-tokenizer's table, a stale or broken copy is ignored, and the tokenizer takes its table from
 * the source it is given (falling back to the module when the source has none).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import { isRanksLoaded, loadHarmonyEncoding } from '../../src/harmony/index.js';
import { setRanksSource, type RawRanks } from '../../src/harmony/tokenizer.js';
import { readRanksCache, writeRanksCache } from '../../src/ranks-cache.js';

const dir = mkdtempSync(join(tmpdir(), 'hh-ranks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const moduleRanks = (createRequire(import.meta.url)('gpt-tokenizer/cjs/bpeRanks/o200k_base') as { default: RawRanks }).default;

describe('rank table copy', () => {
  it('reads back exactly the table of the gpt-tokenizer module', () => {
    const path = join(dir, 'o200k_base.v8');
    writeRanksCache(path);
    const ranks = readRanksCache(path);
    expect(ranks).toHaveLength(moduleRanks.length);
    let differing = 0;
    for (let id = 0; id < moduleRanks.length; id += 1) {
      const a = moduleRanks[id]!;
      const b = ranks![id]!;
      if (typeof a === 'string' ? a !== b : typeof b === 'string' || a.length !== b.length || a.some((byte, i) => byte !== b[i])) differing += 1;
    }
    expect(differing).toBe(0);
  });

  it('ignores a missing, corrupt or stale copy', () => {
    expect(readRanksCache(join(dir, 'missing.v8'))).toBeUndefined();
    writeFileSync(join(dir, 'corrupt.v8'), 'not a serialized value');
    expect(readRanksCache(join(dir, 'corrupt.v8'))).toBeUndefined();
    writeFileSync(join(dir, 'stale.v8'), serialize({ format: 'harmony-hpke-ranks/1', gptTokenizer: '0.0.0', ranks: ['a'] }));
    expect(readRanksCache(join(dir, 'stale.v8'))).toBeUndefined();
  });

  it('is what the tokenizer uses when given as its source', () => {
    expect(isRanksLoaded()).toBe(false);
    const path = join(dir, 'source.v8');
    writeRanksCache(path);
    let calls = 0;
    setRanksSource(() => {
      calls += 1;
      return readRanksCache(path);
    });
    const encoding = loadHarmonyEncoding('HarmonyGptOss');
    expect(encoding.encode('hello world')).toEqual([24912, 2375]);
    expect(encoding.decode([24912, 2375])).toBe('hello world');
    expect(calls).toBe(1);
  });
});
