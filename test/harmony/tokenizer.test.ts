/**
 * The tokenizer: special tokens are split out by us (gpt-tokenizer 4.0.0 misses most of them in
 * running text), ordinary text agrees with gpt-tokenizer's o200k BPE, and the registry's special
 * token ids agree with gpt-tokenizer's o200k_harmony table wherever both name a token.
 */
import { createRequire } from 'node:module';
import { describe, expect, test } from 'vitest';
import {
  HarmonyErrorCode,
  HarmonyParseError,
  SpecialToken,
  SpecialTokenText,
  UsageError,
  loadHarmonyEncoding,
  specialTokenId,
} from '../../src/harmony/index.js';

const require = createRequire(import.meta.url);
const encoding = loadHarmonyEncoding('HarmonyGptOss');
const { encodeOrdinary, decodeBytes, tokenString } = {
  encodeOrdinary: (text: string) => encoding.encodeOrdinary(text),
  decodeBytes: (tokens: Iterable<number>) => encoding.decodeBytes(tokens),
  tokenString: (id: number) => encoding.tokenString(id),
};

interface GptTokenizerEncoding {
  encode(text: string, options?: { allowedSpecial?: Set<string> | 'all'; disallowedSpecial?: Set<string> | 'all' }): number[];
}
// The CommonJS build shares its rank table with our tokenizer (same module), so this is cheap.
const gptHarmony = require('gpt-tokenizer/cjs/encoding/o200k_harmony') as GptTokenizerEncoding;
const { O200KHarmony } = require('gpt-tokenizer/cjs/encodingParams/o200k_harmony') as {
  O200KHarmony: (ranks: readonly unknown[]) => { specialTokensEncoder: Map<string, number> };
};

const header = '<|start|>assistant<|channel|>analysis<|message|>Hi there<|end|><|start|>assistant<|channel|>final<|message|>4<|return|>';

describe('special-token splitting', () => {
  test('every special token in running text becomes its single id', () => {
    const ids = encoding.encode(header, { allowedSpecial: 'all' });
    const specials = ids.filter((id) => encoding.isSpecialToken(id));
    expect(specials).toEqual([
      SpecialToken.Start,
      SpecialToken.Channel,
      SpecialToken.Message,
      SpecialToken.End,
      SpecialToken.Start,
      SpecialToken.Channel,
      SpecialToken.Message,
      SpecialToken.Return,
    ]);
    expect(encoding.decodeUtf8(ids)).toBe(header);
    // Text between specials is encoded on its own, exactly as encodeOrdinary does.
    expect(ids.slice(1, ids.indexOf(SpecialToken.Channel))).toEqual(encodeOrdinary('assistant'));
  });

  test("gpt-tokenizer 4.0.0's own o200k_harmony encode misses specials after the start (why we split ourselves)", () => {
    const theirs = gptHarmony.encode(header, { allowedSpecial: 'all' });
    expect(theirs[0]).toBe(SpecialToken.Start);
    expect(theirs).not.toContain(SpecialToken.Channel);
    expect(theirs).not.toContain(SpecialToken.Message);
    expect(theirs).not.toContain(SpecialToken.Return);
    expect(encoding.encode(header, { allowedSpecial: 'all' })).not.toEqual(theirs);
  });

  test('<|constrain|>, <|call|> and reserved tokens split out too; unknown spellings stay text', () => {
    const text = 'to=functions.f<|constrain|>json<|message|>{}<|call|><|reserved_200014|><|reserved_200002|><|nope|>';
    const ids = encoding.encode(text, { allowedSpecial: 'all' });
    expect(ids.filter((id) => encoding.isSpecialToken(id))).toEqual([SpecialToken.Constrain, SpecialToken.Message, SpecialToken.Call, 200_014]);
    expect(encoding.decodeUtf8(ids)).toBe(text);
  });

  test('allowedSpecial as a set or list allows only those; the rest must be disallowed explicitly or throw', () => {
    expect(encoding.encode('<|start|><|end|>', { allowedSpecial: ['<|start|>', '<|end|>'] })).toEqual([SpecialToken.Start, SpecialToken.End]);
    let error: unknown;
    try {
      encoding.encode('<|start|>x<|end|>', { allowedSpecial: new Set(['<|start|>']) });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).code).toBe(HarmonyErrorCode.DisallowedSpecialToken);
    expect((error as Error).message).toContain("'<|end|>'");
    const ids = encoding.encode('<|start|>x<|end|>', { allowedSpecial: new Set(['<|start|>']), disallowedSpecial: [] });
    expect(ids[0]).toBe(SpecialToken.Start);
    expect(ids).not.toContain(SpecialToken.End);
    expect(encoding.decodeUtf8(ids)).toBe('<|start|>x<|end|>');
  });

  test('an explicitly disallowed plain string throws (like the reference wrapper)', () => {
    expect(() => encoding.encode('say hello', { disallowedSpecial: ['hello'] })).toThrow(UsageError);
  });

  test('encodeOrdinary never produces special ids', () => {
    const ids = encoding.encodeOrdinary(header);
    expect(ids.some((id) => encoding.isSpecialToken(id))).toBe(false);
    expect(encoding.decodeUtf8(ids)).toBe(header);
  });
});

describe('ordinary text agrees with gpt-tokenizer o200k BPE', () => {
  const samples = [
    'hello world',
    "I'm sure they'll say it's FINE. WE'RE DONE'S",
    '  leading spaces, trailing   \n\n\tmixed\r\nwhitespace  ',
    'numbers 1234567 3.14159 -42 1,000,000',
    'Hello Müller, Γειά σου, Привет, שלום, مرحبا, नमस्ते, こんにちは, 안녕하세요, 你好',
    'emoji 😊👋🏾👨‍👩‍👧‍👦🇺🇸 and symbols ©®™ ∑∫√ <tag attr="x"/>',
    'code:\n```ts\nconst x = (a: number) => a ** 2; // comment\n```\n',
    'URL https://example.com/path?q=1&r=2#frag and path /usr/local/bin/',
  ];
  test.each(samples)('%j', (text) => {
    expect(encodeOrdinary(text)).toEqual(gptHarmony.encode(text, { disallowedSpecial: new Set() }));
  });
});

describe('registry agrees with gpt-tokenizer where both name a token', () => {
  test('same id for every shared special-token spelling', () => {
    const theirs = O200KHarmony([]).specialTokensEncoder;
    let shared = 0;
    for (const [text, id] of theirs) {
      const ours = specialTokenId(text);
      if (ours === undefined) continue;
      expect(ours, text).toBe(id);
      shared += 1;
    }
    // All but their extra <|endofprompt|> alias; they stop one short of the reference's 201088.
    expect(shared).toBe(theirs.size - 1);
    expect(theirs.get('<|endofprompt|>')).toBe(200_018);
    expect(specialTokenId('<|reserved_201088|>')).toBe(201_088);
    for (const name of Object.keys(SpecialToken) as Array<keyof typeof SpecialToken>) {
      expect(theirs.get(SpecialTokenText[name]), name).toBe(SpecialToken[name]);
    }
  });
});

describe('decoding', () => {
  test('decodeBytes gives raw bytes; decode replaces invalid UTF-8; decodeUtf8 throws a typed error', () => {
    expect([...decodeBytes([9552])]).toEqual([32, 240, 159]);
    expect([...encoding.decodeBytes([24912, 2375])]).toEqual([...new TextEncoder().encode('hello world')]);
    expect(encoding.decode([9552, 9552])).toBe(' \uFFFD \uFFFD');
    let error: unknown;
    try {
      encoding.decodeUtf8([9552]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(HarmonyParseError);
    expect((error as HarmonyParseError).code).toBe(HarmonyErrorCode.InvalidUtf8);
  });

  test('ids outside the vocabulary are typed errors in every decoder', () => {
    for (const bad of [-1, 1.5, 199_998 - 0.5, 201_089, 99_999_999]) {
      const decoders: Array<(tokens: number[]) => unknown> = [
        (tokens) => encoding.decode(tokens),
        (tokens) => encoding.decodeUtf8(tokens),
        (tokens) => encoding.decodeBytes(tokens),
      ];
      for (const decode of decoders) {
        let error: unknown;
        try {
          decode([24912, bad]);
        } catch (caught) {
          error = caught;
        }
        expect(error, String(bad)).toBeInstanceOf(HarmonyParseError);
        expect((error as HarmonyParseError).code).toBe(HarmonyErrorCode.InvalidToken);
      }
    }
  });

  test('special tokens decode to their names; tokenString is undefined for partial characters', () => {
    expect(encoding.decode([SpecialToken.StartOfText, SpecialToken.EndOfText, 200_000, 200_013])).toBe(
      '<|startoftext|><|endoftext|><|reserved_200000|><|reserved_200013|>',
    );
    expect(tokenString(9552)).toBeUndefined();
    expect(tokenString(24912)).toBe('hello');
    expect(tokenString(SpecialToken.Call)).toBe('<|call|>');
  });

  test('lone surrogates are encoded as U+FFFD, like the reference wrapper', () => {
    expect(encoding.decodeUtf8(encoding.encode('a\uD800b'))).toBe('a\uFFFDb');
  });
});
