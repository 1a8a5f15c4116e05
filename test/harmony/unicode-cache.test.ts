/**
 * The pre-tokenizer classes stored at build time (src/node/unicode-cache.ts) are exactly what the
 * scan finds on this engine, are used only on the engine they were found on, and an encoding given
 * them splits text exactly as one that scans.
 */
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HarmonyEncoding } from '../../src/harmony/encoding.js';
import { loadHarmonyEncoding, type RawRanks } from '../../src/harmony/index.js';
import { preTokenizerClasses } from '../../src/harmony/unicode-classes.js';
import { readClassesCache, writeClassesCache } from '../../src/node/unicode-cache.js';

const dir = mkdtempSync(join(tmpdir(), 'hh-unicode-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const path = join(dir, 'unicode-classes.json');
writeClassesCache(path);

describe('stored Unicode classes', () => {
  it('equal a fresh scan on this engine', () => {
    expect(readClassesCache(path)).toEqual(preTokenizerClasses());
  });

  it('are ignored on another engine, or when missing or broken', () => {
    const stored = JSON.parse(readFileSync(path, 'utf8')) as { engine: string };
    writeFileSync(join(dir, 'other.json'), JSON.stringify({ ...stored, engine: `${stored.engine} (another build)` }));
    expect(readClassesCache(join(dir, 'other.json'))).toBeUndefined();
    expect(readClassesCache(join(dir, 'missing.json'))).toBeUndefined();
    writeFileSync(join(dir, 'broken.json'), '{"format":"harmony-hpke-unicode-classes/1"');
    expect(readClassesCache(join(dir, 'broken.json'))).toBeUndefined();
    writeFileSync(join(dir, 'shape.json'), JSON.stringify({ ...stored, classes: { letter: 'x' } }));
    expect(readClassesCache(join(dir, 'shape.json'))).toBeUndefined();
  });

  it('split text as the scan does', () => {
    const scanning = loadHarmonyEncoding();
    let asked = 0;
    const table = (createRequire(import.meta.url)('gpt-tokenizer/cjs/bpeRanks/o200k_base') as { default: RawRanks }).default;
    const stored = new HarmonyEncoding(table, {
      preTokenizerClasses: () => {
        asked += 1;
        return readClassesCache(path);
      },
    });
    const text = "Ünïcödé \u{32EAE}'s 𝔘𝔫𝔦 ٣٤٥ 東京タワー ǅemal ᾈ \u{1E030}\u{11F00} x\u0301y 12345 ﷺ";
    expect(stored.encodeOrdinary(text)).toEqual(scanning.encodeOrdinary(text));
    expect(asked).toBe(1);
  });
});
