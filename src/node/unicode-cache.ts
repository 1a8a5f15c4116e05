/**
 * The pre-tokenizer's Unicode classes, found once at build time instead of once per process.
 *
 * src/harmony/unicode-classes.ts corrects the engine's \p{...} classes to Unicode 16 by running
 * every code point of planes 0-3 and 14 through them, a few hundred ms on each process's first
 * encode (the CLI, every router render worker). The result depends only on the engine's Unicode
 * data, so `npm run build` stores it in dist/ranks/ with the engine it was found on (Node, V8,
 * ICU and Unicode versions); a process on the same engine reads it back (a small JSON file), any
 * other engine, or a missing or broken file, scans as before. test/harmony/unicode-cache.test.ts
 * checks that the stored result equals a fresh scan.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { preTokenizerClasses, type PreTokenizerClasses } from '../harmony/unicode-classes.js';

const FORMAT = 'harmony-hpke-unicode-classes/1';

/** What the classes depend on: the engine's build and its Unicode data. */
export function engineKey(): string {
  const { node, v8, icu, unicode } = process.versions;
  return `node ${node} v8 ${v8} icu ${icu ?? 'none'} unicode ${unicode ?? 'none'}`;
}

/** dist/ranks/unicode-classes.json, from dist/src/node/ and from the bundled dist/cli/ alike. */
export function defaultClassesCachePath(from: string = import.meta.url): string {
  const candidates = ['../ranks/unicode-classes.json', '../../ranks/unicode-classes.json'].map((relative) => fileURLToPath(new URL(relative, from)));
  return candidates.find((path) => existsSync(path)) ?? candidates[0]!;
}

/** Scans now and writes the result for this engine (build time). */
export function writeClassesCache(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify({ format: FORMAT, engine: engineKey(), classes: preTokenizerClasses() })}\n`);
}

function isClass(value: unknown): boolean {
  const c = value as { source?: unknown; removed?: unknown; added?: unknown } | null;
  return typeof c === 'object' && c !== null && typeof c.source === 'string' && typeof c.removed === 'number' && typeof c.added === 'number';
}

/** The stored classes when they were found on this very engine, else undefined (scan). */
export function readClassesCache(path: string = defaultClassesCachePath()): PreTokenizerClasses | undefined {
  try {
    const stored = JSON.parse(readFileSync(path, 'utf8')) as { format?: unknown; engine?: unknown; classes?: Record<string, unknown> } | null;
    if (stored?.format !== FORMAT || stored.engine !== engineKey()) return undefined;
    const classes = stored.classes;
    if (!classes || !['letter', 'number', 'upperish', 'lowerish'].every((name) => isClass(classes[name]))) return undefined;
    return classes as unknown as PreTokenizerClasses;
  } catch {
    return undefined;
  }
}
