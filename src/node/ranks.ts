/**
 * The o200k_base rank table for Node: a copy of gpt-tokenizer's table in V8's serialization
 * format, written into dist/ranks/ by `npm run build`, read in place of the 2.4 MB rank module:
 * deserializing takes about 30 ms and no compiler memory, where compiling the module's
 * 200,000-element literal takes about 130 ms and leaves some 30 MB resident. The copy names the
 * gpt-tokenizer version it was made from; a missing, unreadable or stale copy is ignored and the
 * module is required instead. The pure library (src/harmony) does no file I/O: the CLI and the
 * router pass `loadNodeRanks` to their encoding (src/node/harmony.ts).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import type { RawRanks } from '../harmony/tokenizer.js';

const FORMAT = 'harmony-hpke-ranks/1';
const require = createRequire(import.meta.url);

/**
 * dist/ranks/o200k_base.v8, found from where this code runs: dist/src/node/ (two levels up), the
 * bundled CLI's dist/cli/ (one level up), and src/node/ run from source (tests: ../../dist/ranks)
 * alike. The first candidate that exists wins; a wrong or stale file is refused by its format and
 * version check anyway.
 */
export function defaultRanksCachePath(from: string = import.meta.url): string {
  const candidates = ['../ranks/o200k_base.v8', '../../ranks/o200k_base.v8', '../../dist/ranks/o200k_base.v8'].map((relative) =>
    fileURLToPath(new URL(relative, from)),
  );
  return candidates.find((path) => existsSync(path)) ?? candidates[0]!;
}

interface RanksCache {
  readonly format: string;
  readonly gptTokenizer: string;
  readonly ranks: RawRanks;
}

function gptTokenizerVersion(): string {
  return (require('gpt-tokenizer/package.json') as { version: string }).version;
}

/** gpt-tokenizer's own table: its CommonJS module, the synchronous way to load it on Node 20. */
export function requireModuleRanks(): RawRanks {
  return (require('gpt-tokenizer/cjs/bpeRanks/o200k_base') as { default: RawRanks }).default;
}

/** Writes the copy (build time). */
export function writeRanksCache(path: string): void {
  const cache: RanksCache = { format: FORMAT, gptTokenizer: gptTokenizerVersion(), ranks: requireModuleRanks() };
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

/** The table for a Node process: the build-time copy when it is there and current, else the module. */
export function loadNodeRanks(path?: string): RawRanks {
  return readRanksCache(path) ?? requireModuleRanks();
}
