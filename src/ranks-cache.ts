/**
 * A copy of gpt-tokenizer's o200k_base rank table in V8's serialization format, written into
 * dist/ranks/ by `npm run build` and read by the CLI in place of requiring the 2.4 MB rank module:
 * deserializing takes about 30 ms and no compiler memory, where compiling the module's
 * 200,000-element literal takes about 130 ms and leaves some 30 MB resident. The copy names the
 * gpt-tokenizer version it was made from; a missing, unreadable or stale copy is ignored and the
 * tokenizer requires the module as before. (Outside src/harmony, which does no file I/O.)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import type { RawRanks } from './harmony/tokenizer.js';

const FORMAT = 'harmony-hpke-ranks/1';

/** dist/ranks/o200k_base.v8: one level up from dist/src/ and from the bundled dist/cli/ alike. */
export function defaultRanksCachePath(): string {
  return fileURLToPath(new URL('../ranks/o200k_base.v8', import.meta.url));
}

interface RanksCache {
  readonly format: string;
  readonly gptTokenizer: string;
  readonly ranks: RawRanks;
}

function gptTokenizerVersion(): string {
  return (createRequire(import.meta.url)('gpt-tokenizer/package.json') as { version: string }).version;
}

/** Writes the copy (build time). */
export function writeRanksCache(path: string = defaultRanksCachePath()): void {
  const ranks = (createRequire(import.meta.url)('gpt-tokenizer/cjs/bpeRanks/o200k_base') as { default: RawRanks }).default;
  const cache: RanksCache = { format: FORMAT, gptTokenizer: gptTokenizerVersion(), ranks };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, serialize(cache));
}

/** The rank table from the copy, or undefined when there is none or it does not match. */
export function readRanksCache(path: string = defaultRanksCachePath()): RawRanks | undefined {
  try {
    const cache = deserialize(readFileSync(path)) as Partial<RanksCache> | null;
    if (cache?.format !== FORMAT || cache.gptTokenizer !== gptTokenizerVersion() || !Array.isArray(cache.ranks)) return undefined;
    return cache.ranks;
  } catch {
    return undefined;
  }
}
