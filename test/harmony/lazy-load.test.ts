/**
 * Lazy loading: importing the library, loading the encoding and everything that needs no BPE
 * (model building, JSON, stop tokens, special-token queries) must not load the 2.4 MB rank table.
 * Runs in its own file so no other test has loaded the ranks into this module instance first.
 */
import { describe, expect, test } from 'vitest';
import {
  Conversation,
  Message,
  Role,
  StreamableParser,
  SystemContent,
  isRanksLoaded,
  loadHarmonyEncoding,
  preloadRanks,
} from '../../src/harmony/index.js';

describe('BPE ranks load on first use', () => {
  test('import, loadHarmonyEncoding and rank-free calls leave them unloaded; the first encode loads them', () => {
    expect(isRanksLoaded()).toBe(false);
    const encoding = loadHarmonyEncoding('HarmonyGptOss');
    const convo = Conversation.fromMessages([
      Message.fromRoleAndContent(Role.System, SystemContent.new()),
      Message.fromRoleAndContent(Role.User, 'hi'),
    ]);
    expect(Conversation.fromJson(convo.toJson()).toJson()).toBe(convo.toJson());
    expect(encoding.stopTokensForAssistantActions()).toEqual([200_002, 200_012]);
    expect(encoding.isSpecialToken(200_006)).toBe(true);
    expect(encoding.specialTokens()).toHaveLength(1091);
    expect(encoding.decodeUtf8([200_006, 200_008, 200_007])).toBe('<|start|><|message|><|end|>');
    const parser = new StreamableParser(encoding, Role.Assistant);
    expect(parser.currentRole).toBe(Role.Assistant);
    expect(isRanksLoaded()).toBe(false);

    expect(encoding.encode('hello world')).toEqual([24912, 2375]);
    expect(isRanksLoaded()).toBe(true);
    // Loading happened once; asking again reports the same measured load time.
    expect(preloadRanks()).toBeGreaterThan(0);
    expect(preloadRanks()).toBe(preloadRanks());
  });
});
