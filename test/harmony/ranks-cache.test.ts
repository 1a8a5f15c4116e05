/**
 * The Node rank table (src/node/ranks.ts): the build-time copy round-trips to exactly
 * gpt-tokenizer's table, a stale or broken copy is ignored (the module is required instead), the
 * copy is found from the compiled library (dist/src/node/), the bundled CLI (dist/cli/) and the
 * sources (src/node/, for tests) alike, and an encoding given the loader reads it once.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { serialize } from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import { loadHarmonyEncoding, type RawRanks } from '../../src/harmony/index.js';
import { defaultRanksCachePath, loadNodeRanks, readRanksCache, writeRanksCache } from '../../src/node/ranks.js';

const dir = mkdtempSync(join(tmpdir(), 'hh-ranks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const moduleRanks = (createRequire(import.meta.url)('gpt-tokenizer/cjs/bpeRanks/o200k_base') as { default: RawRanks }).default;

function differing(a: RawRanks, b: RawRanks): number {
  let count = 0;
  for (let id = 0; id < a.length; id += 1) {
    const x = a[id]!;
    const y = b[id]!;
    if (typeof x === 'string' ? x !== y : typeof y === 'string' || x.length !== y.length || x.some((byte, i) => byte !== y[i])) count += 1;
  }
  return count;
}

describe('rank table copy', () => {
  it('reads back exactly the table of the gpt-tokenizer module', () => {
    const path = join(dir, 'o200k_base.v8');
    writeRanksCache(path);
    const ranks = readRanksCache(path);
    expect(ranks).toHaveLength(moduleRanks.length);
    expect(differing(moduleRanks, ranks!)).toBe(0);
  });

  it('ignores a missing, corrupt or stale copy; the loader then requires the module', () => {
    expect(readRanksCache(join(dir, 'missing.v8'))).toBeUndefined();
    writeFileSync(join(dir, 'corrupt.v8'), 'not a serialized value');
    expect(readRanksCache(join(dir, 'corrupt.v8'))).toBeUndefined();
    writeFileSync(join(dir, 'stale.v8'), serialize({ format: 'harmony-hpke-ranks/1', gptTokenizer: '0.0.0', ranks: ['a'] }));
    expect(readRanksCache(join(dir, 'stale.v8'))).toBeUndefined();
    expect(loadNodeRanks(join(dir, 'stale.v8'))).toBe(moduleRanks);
  });

  it('is found as dist/ranks/ from the compiled library and from the bundled CLI', () => {
    const dist = join(dir, 'pkg', 'dist');
    mkdirSync(join(dist, 'ranks'), { recursive: true });
    writeFileSync(join(dist, 'ranks', 'o200k_base.v8'), 'x');
    const expected = join(dist, 'ranks', 'o200k_base.v8');
    expect(defaultRanksCachePath(pathToFileURL(join(dist, 'src', 'node', 'ranks.js')).href)).toBe(expected);
    expect(defaultRanksCachePath(pathToFileURL(join(dist, 'cli', 'chunk-ABC.js')).href)).toBe(expected);
    // Run from source (the tests), src/node/ reads the built copy too.
    expect(defaultRanksCachePath(pathToFileURL(join(dir, 'pkg', 'src', 'node', 'ranks.ts')).href)).toBe(expected);
  });

  it('is what an encoding reads when given the loader, once', () => {
    const path = join(dir, 'source.v8');
    writeRanksCache(path);
    let calls = 0;
    const encoding = loadHarmonyEncoding({
      ranks: () => {
        calls += 1;
        return loadNodeRanks(path);
      },
    });
    expect(calls).toBe(0);
    expect(encoding.encode('hello world')).toEqual([24912, 2375]);
    expect(encoding.decode([24912, 2375])).toBe('hello world');
    expect(calls).toBe(1);
  });
});
