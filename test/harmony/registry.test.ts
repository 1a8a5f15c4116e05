/** The registry: reference ids for the named tokens and the reserved range, stop sets. */
import { describe, expect, test } from 'vitest';
import {
  STOP_TOKENS,
  STOP_TOKENS_FOR_ASSISTANT_ACTIONS,
  SpecialToken,
  SpecialTokenText,
  VOCAB_SIZE,
  loadHarmonyEncoding,
  specialTokenId,
  specialTokenText,
} from '../../src/harmony/index.js';
import { TOKEN_IDS, allSpecialTokens, isSpecialTokenId } from '../../src/harmony/registry.js';

describe('registry', () => {
  test('named special tokens sit at the reference ids', () => {
    expect(TOKEN_IDS).toEqual({
      '<|startoftext|>': 199_998,
      '<|endoftext|>': 199_999,
      '<|return|>': 200_002,
      '<|constrain|>': 200_003,
      '<|channel|>': 200_005,
      '<|start|>': 200_006,
      '<|end|>': 200_007,
      '<|message|>': 200_008,
      '<|call|>': 200_012,
    });
    for (const name of Object.keys(SpecialToken) as Array<keyof typeof SpecialToken>) {
      expect(specialTokenId(SpecialTokenText[name])).toBe(SpecialToken[name]);
      expect(specialTokenText(SpecialToken[name])).toBe(SpecialTokenText[name]);
    }
  });

  test('every other id from 199998 to 201088 is <|reserved_N|>, as in the reference', () => {
    const named = new Set<number>(Object.values(SpecialToken));
    for (let id = 199_998; id <= 201_088; id += 1) {
      expect(isSpecialTokenId(id)).toBe(true);
      if (!named.has(id)) expect(specialTokenText(id)).toBe(`<|reserved_${id}|>`);
    }
    expect(allSpecialTokens()).toHaveLength(201_088 - 199_998 + 1);
    expect(isSpecialTokenId(199_997)).toBe(false);
    expect(isSpecialTokenId(201_089)).toBe(false);
    expect(VOCAB_SIZE).toBe(201_089);
    // Named ids are not also reserved names.
    expect(specialTokenId('<|reserved_200002|>')).toBeUndefined();
  });

  test('stop sets', () => {
    expect([...STOP_TOKENS].sort()).toEqual([200_002, 200_007, 200_012]);
    expect([...STOP_TOKENS_FOR_ASSISTANT_ACTIONS].sort()).toEqual([200_002, 200_012]);
    const encoding = loadHarmonyEncoding('HarmonyGptOss');
    expect(encoding.stopTokens().sort()).toEqual([200_002, 200_007, 200_012]);
    expect(encoding.stopTokensForAssistantActions().sort()).toEqual([200_002, 200_012]);
  });

  test('loadHarmonyEncoding accepts the enum value and refuses other names', () => {
    expect(loadHarmonyEncoding('HarmonyGptOss').name).toBe('HarmonyGptOss');
    expect(() => loadHarmonyEncoding('o200k_base')).toThrow(/Invalid HarmonyEncodingName/);
  });
});
