/**
 * The golden files in fixtures/harmony-vectors are byte-for-byte copies of ../shared/harmony-vectors
 * (openai/harmony v0.0.8's test-data). When ../shared is beside the checkout (CI), every copy is
 * compared with its original; a fresh clone without it still checks that the copies are there.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { fixturesDir, repoRoot, testDataDir } from './helpers.js';

const sharedDir = path.join(path.resolve(repoRoot, '..', 'shared'), 'harmony-vectors');
const haveShared = existsSync(path.join(sharedDir, 'test-data'));

// The files the ported reference tests read.
const EXPECTED_FILES = [
  'test_browser_and_function_tool.txt',
  'test_browser_and_python_tool.txt',
  'test_browser_tool_only.txt',
  'test_does_not_drop_if_ongoing_analysis.txt',
  'test_dropping_cot_by_default.txt',
  'test_keep_analysis_between_finals.txt',
  'test_no_tools.txt',
  'test_preserve_cot.txt',
  'test_reasoning_system_message.txt',
  'test_reasoning_system_message_no_instruction.txt',
  'test_reasoning_system_message_with_dates.txt',
  'test_render_functions_with_parameters.txt',
  'test_simple_convo.txt',
  'test_simple_convo_high_effort.txt',
  'test_simple_convo_high_effort_no_instruction.txt',
  'test_simple_convo_low_effort.txt',
  'test_simple_convo_low_effort_no_instruction.txt',
  'test_simple_convo_medium_effort.txt',
  'test_simple_convo_medium_effort_no_instruction.txt',
  'test_simple_reasoning_response.txt',
  'test_simple_tool_call.txt',
  'test_streamable_parser.txt',
  'test_tool_response_parsing.txt',
];

describe('fixtures/harmony-vectors', () => {
  test('holds every golden file the conformance tests read', () => {
    const present = readdirSync(testDataDir).sort();
    expect(present).toEqual(expect.arrayContaining(EXPECTED_FILES));
    for (const name of EXPECTED_FILES) expect(readFileSync(path.join(testDataDir, name)).length).toBeGreaterThan(0);
    expect(existsSync(path.join(fixturesDir, 'README.md'))).toBe(true);
  });

  test.runIf(haveShared)('is a byte-for-byte copy of ../shared/harmony-vectors', () => {
    const shared = readdirSync(path.join(sharedDir, 'test-data')).sort();
    expect(readdirSync(testDataDir).sort()).toEqual(shared);
    for (const name of shared) {
      const copy = readFileSync(path.join(testDataDir, name));
      const original = readFileSync(path.join(sharedDir, 'test-data', name));
      expect(copy.equals(original), `${name} differs from ../shared`).toBe(true);
    }
    expect(readFileSync(path.join(fixturesDir, 'README.md')).equals(readFileSync(path.join(sharedDir, 'README.md')))).toBe(true);
  });
});
