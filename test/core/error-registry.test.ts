/**
 * The error registry (src/core/error-codes.ts) against the code that raises the errors, the CLI's
 * exit codes and README's exit-code table: a code thrown anywhere in src/ is registered, every
 * registered code is raised somewhere, and every family has its documented exit code.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exitCodeForFamily } from '../../src/cli/exit-codes.js';
import { ERROR_CODES, errorCodeEntries, errorCodeInfo, familyOf, isErrorCode, type ErrorCode } from '../../src/core/error-codes.js';
import { HarmonyParseError, IncompleteAnswerError, CheckFailedError, KeyError, UsageError } from '../../src/core/errors.js';
import { PROTOCOL_ERROR_CODES } from '../../src/hpke/errors.js';
import { repoRoot } from '../hpke/vectors-data.js';

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

const sources = sourceFiles(resolve(repoRoot, 'src')).map((path) => ({ path, text: readFileSync(path, 'utf8') }));
const registryFile = resolve(repoRoot, 'src', 'core', 'error-codes.ts');

/** SCREAMING_SNAKE literals in src/ that are not error codes: environment variables and Node's own codes. */
function isOtherName(literal: string): boolean {
  return (
    /^(HARMONY_HPKE_|HARMONY_(ENABLED|INCLUDE_ANALYSIS|REASONING_EFFORT)$|XDG_|NO_COLOR$|FORCE_COLOR$|CLICOLOR_FORCE$|GITHUB_ACTIONS$)/.test(literal) ||
    /^(E[A-Z]+|EAI_[A-Z]+|ERR_[A-Z_]+|HPE_[A-Z_]+)$/.test(literal)
  );
}

/** Codes built from a prefix: fileReadError(error, what, path, 'PREFIX') raises PREFIX_NOT_FOUND / PREFIX_UNREADABLE. */
function derivedCodes(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/fileReadError\([^;]*?'([A-Z][A-Z0-9_]*)'\)/g)) out.push(`${m[1]}_NOT_FOUND`, `${m[1]}_UNREADABLE`);
  return out;
}

/** What src/app/main.ts makes of commander's error codes (commander.unknownOption -> USAGE_UNKNOWN_OPTION). */
function commanderCodes(): string[] {
  const lib = resolve(repoRoot, 'node_modules', 'commander', 'lib');
  const names = new Set<string>();
  for (const file of readdirSync(lib)) {
    for (const m of readFileSync(join(lib, file), 'utf8').matchAll(/'commander\.([a-zA-Z]+)'/g)) names.add(m[1]!);
  }
  // help and version exit 0; executeSubCommandAsync needs executable subcommands, which the CLI has none of.
  for (const ok of ['help', 'helpDisplayed', 'version', 'executeSubCommandAsync']) names.delete(ok);
  return [...names].map((name) => `USAGE_${name.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`);
}

describe('the error registry', () => {
  it('has SCREAMING_SNAKE codes, each with a family that has an exit code, a scope and a meaning', () => {
    const entries = errorCodeEntries();
    expect(entries.length).toBe(Object.keys(ERROR_CODES).length);
    expect(entries.length).toBeGreaterThan(150);
    for (const entry of entries) {
      expect(entry.code).toMatch(/^[A-Z][A-Z0-9_]+$/);
      expect(entry.meaning.length, entry.code).toBeGreaterThan(8);
      expect(exitCodeForFamily(entry.family), entry.code).toBeTypeOf('number');
      expect(familyOf(entry.code)).toBe(entry.family);
      expect(isErrorCode(entry.code)).toBe(true);
    }
    expect(isErrorCode('NOT_A_CODE')).toBe(false);
    expect(isErrorCode('toString')).toBe(false);
    expect(errorCodeInfo('__proto__')).toBeUndefined();
  });

  it('gives every error its family from the code (and the class agrees)', () => {
    expect(new UsageError('BAD_URL', 'x').family).toBe('usage');
    expect(new KeyError('PIN_MISMATCH', 'x').family).toBe('key');
    expect(new HarmonyParseError('HARMONY_INVALID_TOKEN', 'x').family).toBe('harmony');
    // The one code with two families: the class says which.
    expect(new IncompleteAnswerError('ANSWER_CUT_AT_LENGTH', 'x', 'length').family).toBe('incomplete');
    expect(new CheckFailedError('ANSWER_CUT_AT_LENGTH', 'x').family).toBe('check');
    expect(exitCodeForFamily('incomplete')).toBe(11);
    expect(exitCodeForFamily('check')).toBe(10);
    const withTwo = errorCodeEntries().filter((entry) => entry.alsoFamily !== undefined);
    expect(withTwo.map((entry) => entry.code)).toEqual(['ANSWER_CUT_AT_LENGTH']);
  });

  it('lists every code src/ raises, and src/ raises every code it lists', () => {
    const used = new Set<string>();
    const prefixes = new Set<string>();
    for (const { path, text } of sources) {
      if (path === registryFile) continue;
      for (const m of text.matchAll(/'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z]{4,})'/g)) {
        if (!isOtherName(m[1]!)) used.add(m[1]!);
      }
      for (const code of derivedCodes(text)) used.add(code);
      for (const m of text.matchAll(/fileReadError\([^;]*?'([A-Z][A-Z0-9_]*)'\)/g)) prefixes.add(m[1]!);
    }
    for (const prefix of prefixes) used.delete(prefix);
    for (const code of commanderCodes()) used.add(code);
    // Upper-case words that are not codes (HTTP methods, log levels ...) are the only exceptions.
    const notCodes = [...used].filter((code) => !isErrorCode(code));
    expect(notCodes.filter((code) => code.includes('_'))).toEqual([]);
    const unused = Object.keys(ERROR_CODES).filter((code) => !used.has(code));
    expect(unused).toEqual([]);
  });

  it('is the source of the protocol table (scope protocol), in the same order', () => {
    expect(PROTOCOL_ERROR_CODES.map((entry) => entry.code)).toEqual(errorCodeEntries('protocol').map((entry) => entry.code));
    expect(PROTOCOL_ERROR_CODES.length).toBeGreaterThan(50);
    for (const entry of PROTOCOL_ERROR_CODES) expect(ERROR_CODES[entry.code as ErrorCode].scope).toBe('protocol');
  });

  it("agrees with README's exit-code table: every family's exit code is documented", () => {
    const readme = readFileSync(resolve(repoRoot, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Output, errors and exit codes'));
    const documented = new Set([...section.matchAll(/^\| (\d+) \| /gm)].map((m) => Number(m[1])));
    expect(documented.size).toBeGreaterThan(10);
    const families = new Set(errorCodeEntries().flatMap((entry) => [entry.family, ...(entry.alsoFamily ? [entry.alsoFamily] : [])]));
    for (const family of families) expect(documented.has(exitCodeForFamily(family)), family).toBe(true);
  });
});
