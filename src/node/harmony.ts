/**
 * The Harmony encoding of a Node process (the CLI and the router): one encoding over the rank
 * table of src/node/ranks.ts, loaded on its first encode/decode (so `--version` and `--help` never
 * touch it), with the pre-tokenizer's Unicode classes found at build time when they were found on
 * this engine (src/node/unicode-cache.ts). Code in src/ outside src/harmony takes its encoding
 * from here, never from src/harmony/index.ts (which carries gpt-tokenizer's module as the
 * library's default table).
 */
import { HarmonyEncoding } from '../harmony/encoding.js';
import { loadNodeRanks } from './ranks.js';
import { readClassesCache } from './unicode-cache.js';

let encoding: HarmonyEncoding | undefined;

/** The process's encoding (built on first call; its ranks load on its first encode/decode). */
export function nodeHarmonyEncoding(): HarmonyEncoding {
  return (encoding ??= new HarmonyEncoding(() => loadNodeRanks(), { preTokenizerClasses: () => readClassesCache() }));
}
