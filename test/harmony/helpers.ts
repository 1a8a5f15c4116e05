/** Shared helpers of the Harmony conformance tests: golden files live in fixtures/harmony-vectors. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { HarmonyEncoding } from '../../src/harmony/index.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixturesDir = path.join(repoRoot, 'fixtures', 'harmony-vectors');
export const testDataDir = path.join(fixturesDir, 'test-data');

/** A golden file as the reference tests read it: CRLF normalised, trailing whitespace trimmed. */
export function loadTestData(name: string): string {
  return readFileSync(path.join(testDataDir, name), 'utf8').replace(/\r\n/g, '\n').trimEnd();
}

/** A golden file of whitespace-separated token ids. */
export function readExpectedTokens(name: string): number[] {
  return loadTestData(name)
    .split(/\s+/)
    .filter((s) => s.length > 0)
    .map(Number);
}

/** Token ids must match; on failure the message shows both decodings, like the reference's helper. */
export function assertTokensEq(encoding: HarmonyEncoding, expected: readonly number[], actual: readonly number[]): void {
  if (expected.length === actual.length && expected.every((id, i) => id === actual[i])) {
    expect(actual).toEqual(expected);
    return;
  }
  const decode = (ids: readonly number[]) => {
    try {
      return encoding.decodeUtf8(ids);
    } catch {
      return '<undecodable>';
    }
  };
  expect(
    { tokens: actual, decoded: decode(actual) },
    'tokens are not equal (expected / actual)',
  ).toEqual({ tokens: expected, decoded: decode(expected) });
}
