/**
 * Lazy loading and ownership: an encoding given a rank source calls it on its first
 * encode/decode, never before (model building, JSON, stop tokens, special-token queries and a
 * parser need no BPE), and once; two encodings share nothing; a broken source is an InternalError.
 * And the Node side: no module of the CLI or router imports the library facade (which carries
 * gpt-tokenizer's module as its default table), so they load ranks only through src/node/harmony.ts,
 * on first use.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  Conversation,
  HarmonyErrorCode,
  Message,
  Role,
  StreamableParser,
  SystemContent,
  loadHarmonyEncoding,
  type RawRanks,
} from '../../src/harmony/index.js';
import { nodeHarmonyEncoding } from '../../src/node/harmony.js';
import { repoRoot } from './helpers.js';

const table = (createRequire(import.meta.url)('gpt-tokenizer/cjs/bpeRanks/o200k_base') as { default: RawRanks }).default;

function counted(): { source: () => RawRanks; calls: () => number } {
  let calls = 0;
  return {
    source: () => {
      calls += 1;
      return table;
    },
    calls: () => calls,
  };
}

describe('BPE ranks load on first use', () => {
  test('loadHarmonyEncoding({ ranks }) and rank-free calls leave the source uncalled; the first encode calls it once', () => {
    const { source, calls } = counted();
    const encoding = loadHarmonyEncoding({ ranks: source });
    const convo = Conversation.fromMessages([
      Message.fromRoleAndContent(Role.System, SystemContent.new()),
      Message.fromRoleAndContent(Role.User, 'hi'),
    ]);
    expect(Conversation.fromJson(convo.toJson()).toJson()).toBe(convo.toJson());
    expect(encoding.stopTokensForAssistantActions()).toEqual([200_002, 200_012]);
    expect(encoding.isSpecialToken(200_006)).toBe(true);
    expect(encoding.specialTokens()).toHaveLength(1091);
    const parser = new StreamableParser(encoding, Role.Assistant);
    expect(parser.currentRole).toBe(Role.Assistant);
    expect(encoding.ranksLoaded).toBe(false);
    expect(calls()).toBe(0);

    expect(encoding.encode('hello world')).toEqual([24912, 2375]);
    expect(encoding.ranksLoaded).toBe(true);
    expect(encoding.decode([24912, 2375])).toBe('hello world');
    // Loading happened once; asking again reports the same measured load time.
    expect(encoding.preload()).toBeGreaterThan(0);
    expect(encoding.preload()).toBe(encoding.preload());
    expect(calls()).toBe(1);
  });

  test('a decoder loads the table for its first decode; the parser decodes through its own encoding', () => {
    const { source, calls } = counted();
    const encoding = loadHarmonyEncoding('HarmonyGptOss', { ranks: source });
    const parser = new StreamableParser(encoding, Role.Assistant);
    expect(calls()).toBe(0);
    for (const token of [200_005, 17196, 200_008, 24912, 200_002]) parser.process(token);
    expect(calls()).toBe(1);
    expect(parser.messages.map((m) => [m.channel, m.content[0]])).toEqual([['final', { type: 'text', text: 'hello' }]]);
  });

  test('two encodings share nothing: loading one leaves the other unloaded', () => {
    const a = counted();
    const b = counted();
    const first = loadHarmonyEncoding({ ranks: a.source });
    const second = loadHarmonyEncoding({ ranks: b.source });
    expect(first).not.toBe(second);
    first.encode('hi');
    expect([a.calls(), b.calls(), second.ranksLoaded]).toEqual([1, 0, false]);
    // Without ranks: one shared encoding over gpt-tokenizer's table.
    expect(loadHarmonyEncoding()).toBe(loadHarmonyEncoding('HarmonyGptOss'));
  });

  test('a table of the wrong size, or a source that throws, is HARMONY_RANKS_UNAVAILABLE on first use', () => {
    const short = loadHarmonyEncoding({ ranks: ['a', 'b'] });
    expect(() => short.encode('hi')).toThrow(expect.objectContaining({ code: HarmonyErrorCode.RanksUnavailable }));
    const failing = loadHarmonyEncoding({
      ranks: () => {
        throw new Error('no such file');
      },
    });
    expect(() => failing.decode([1])).toThrow(expect.objectContaining({ code: HarmonyErrorCode.RanksUnavailable, message: expect.stringContaining('no such file') }));
  });

  test("the Node process's encoding loads nothing until its first encode/decode", () => {
    const encoding = nodeHarmonyEncoding();
    expect(encoding).toBe(nodeHarmonyEncoding());
    expect(encoding.ranksLoaded).toBe(false);
    new StreamableParser(encoding, Role.Assistant);
    expect(encoding.ranksLoaded).toBe(false);
    expect(encoding.encode('hello world')).toEqual([24912, 2375]);
    expect(encoding.ranksLoaded).toBe(true);
  });

  test('no module of the CLI or router imports the library facade src/harmony/index.ts', () => {
    // The facade imports gpt-tokenizer's 2.4 MB module at import time (the library's default
    // table); a CLI module importing it would load that module as well as the build-time copy.
    // Library entry points (src/index.ts) may re-export it.
    const src = path.join(repoRoot, 'src');
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (file.endsWith('.ts')) {
          const relative = path.relative(src, file).split(path.sep).join('/');
          if (relative.startsWith('harmony/') || relative === 'index.ts') continue;
          // `import type` is erased at build time: it loads nothing.
          const runtimeImport = /^\s*(?:import|export)\s+(?!type\b)[^;]*?from\s+'[./]*harmony\/index\.js'|import\(\s*'[./]*harmony\/index\.js'/m;
          if (runtimeImport.test(readFileSync(file, 'utf8'))) offenders.push(relative);
        }
      }
    };
    walk(src);
    expect(offenders).toEqual([]);
  });
});
