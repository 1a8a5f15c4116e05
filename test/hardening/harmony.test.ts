/**
 * Malformed Harmony (issue 6): malformed headers, unknown channels, a missing `<|end|>`, stray
 * special tokens, the recipient before and after the channel, huge messages, multi-byte
 * characters split across tokens. Strict mode fails with a HarmonyParseError code, lenient mode
 * recovers (and says so in `recoveries`); both are tested, token by token as the CLI feeds them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HarmonyErrorCode,
  HarmonyParseError,
  Role,
  SpecialToken,
  StreamableParser,
  loadHarmonyEncoding,
  type ParseOptions,
} from '../../src/harmony/index.js';
import { useSeed } from './helpers.js';

const SEED = useSeed();
const encoding = loadHarmonyEncoding('HarmonyGptOss');
const enc = (text: string) => encoding.encode(text, { allowedSpecial: 'all' });
const CHANNELS = ['analysis', 'commentary', 'final'] as const;
const STRICT: ParseOptions = { strict: true, strictContent: true, validChannels: CHANNELS };
const LENIENT: ParseOptions = { strict: false, validChannels: CHANNELS };

interface Parsed {
  readonly messages: Array<{ channel: string | null; recipient: string | null; text: string }>;
  readonly recoveries: string[];
  readonly deltas: string;
}

/** Feeds the tokens one at a time after `<|start|>assistant`, polling as the CLI does. */
function stream(tokens: readonly number[], options: ParseOptions): Parsed {
  const parser = new StreamableParser(encoding, Role.Assistant, options);
  let deltas = '';
  for (const token of tokens) {
    parser.process(token);
    void parser.currentContent;
    void parser.pendingChannel;
    deltas += parser.lastContentDelta ?? '';
  }
  parser.processEos();
  return {
    messages: parser.messages.map((message) => ({
      channel: message.channel ?? null,
      recipient: message.recipient ?? null,
      text: message.content.map((part) => ('text' in part ? part.text : '')).join(''),
    })),
    recoveries: parser.recoveries.map((recovery) => recovery.code),
    deltas,
  };
}

function strictCode(tokens: readonly number[]): string {
  try {
    stream(tokens, STRICT);
  } catch (error) {
    expect(error).toBeInstanceOf(HarmonyParseError);
    return (error as HarmonyParseError).code;
  }
  throw new Error('strict mode accepted a malformed completion');
}

const FINAL_4 = { channel: 'final', recipient: null, text: '4' };
const ANALYSIS = { channel: 'analysis', recipient: null, text: 'think' };

describe(`malformed completions: strict fails, lenient recovers (fast-check seed ${SEED})`, () => {
  const cases: Array<[string, string, string, Parsed['messages'], string[]]> = [
    ['junk words in a header', '<|channel|>final junk words here<|message|>4<|return|>', HarmonyErrorCode.MalformedHeader, [FINAL_4], [HarmonyErrorCode.MalformedHeader]],
    ['a channel marker with no value', '<|channel|> <|message|>4<|return|>', HarmonyErrorCode.MalformedHeader, [{ channel: null, recipient: null, text: '4' }], [HarmonyErrorCode.MalformedHeader]],
    [
      'an unknown channel',
      '<|channel|>scratchpad<|message|>think<|end|><|start|>assistant<|channel|>final<|message|>4<|return|>',
      HarmonyErrorCode.UnknownChannel,
      [{ channel: 'scratchpad', recipient: null, text: 'think' }, FINAL_4],
      [HarmonyErrorCode.UnknownChannel],
    ],
    [
      'a missing <|end|> before <|start|> (as llama.cpp strips it)',
      '<|channel|>analysis<|message|>think<|start|>assistant<|channel|>final<|message|>4<|return|>',
      HarmonyErrorCode.UnexpectedToken,
      [ANALYSIS, FINAL_4],
      [HarmonyErrorCode.UnexpectedToken],
    ],
    [
      'a missing <|end|><|start|>assistant before <|channel|>',
      '<|channel|>analysis<|message|>think<|channel|>final<|message|>4<|return|>',
      HarmonyErrorCode.UnexpectedToken,
      [ANALYSIS, FINAL_4],
      [HarmonyErrorCode.UnexpectedToken],
    ],
    ['a stray <|message|> inside content', '<|channel|>final<|message|>2 + 2 =<|message|> 4<|return|>', HarmonyErrorCode.UnexpectedToken, [{ ...FINAL_4, text: '2 + 2 = 4' }], [HarmonyErrorCode.UnexpectedToken]],
    ['a stray <|constrain|> inside content', '<|channel|>final<|message|>4<|constrain|><|return|>', HarmonyErrorCode.UnexpectedToken, [FINAL_4], [HarmonyErrorCode.UnexpectedToken]],
    [
      'a stray token between messages',
      '<|channel|>analysis<|message|>think<|end|><|message|><|start|>assistant<|channel|>final<|message|>4<|return|>',
      HarmonyErrorCode.UnexpectedToken,
      [ANALYSIS, FINAL_4],
      [HarmonyErrorCode.UnexpectedToken],
    ],
    [
      'a bare <|channel|> where <|start|> was expected',
      '<|channel|>analysis<|message|>think<|end|><|channel|>final<|message|>4<|return|>',
      HarmonyErrorCode.UnexpectedToken,
      [ANALYSIS, FINAL_4],
      [HarmonyErrorCode.UnexpectedToken],
    ],
    [
      'a <|start|> inside a header',
      '<|channel|>analysis<|message|>think<|end|><|start|>assistant<|channel|>fin<|start|>assistant<|channel|>final<|message|>4<|return|>',
      // Strict: the inner <|start|> is read as header text, leaving no role.
      HarmonyErrorCode.UnknownRole,
      [ANALYSIS, FINAL_4],
      [HarmonyErrorCode.MalformedHeader],
    ],
  ];

  it.each(cases)('%s', (_name, text, code, messages, recoveries) => {
    const tokens = enc(text);
    expect(strictCode(tokens)).toBe(code);
    const lenient = stream(tokens, LENIENT);
    expect(lenient.messages).toEqual(messages);
    expect(lenient.recoveries).toEqual(recoveries);
  });

  it('the reference behaviour stays the default: without strictContent, formatting tokens in content are text', () => {
    const tokens = enc('<|channel|>analysis<|message|>think<|start|>assistant<|channel|>final<|message|>4<|return|>');
    const parsed = stream(tokens, { strict: true });
    expect(parsed.messages).toEqual([{ channel: 'analysis', recipient: null, text: 'think<|start|>assistant<|channel|>final<|message|>4' }]);
  });

  it('a completion that stops inside content (no stop token) is complete in both modes; inside a header it is HARMONY_UNEXPECTED_EOS', () => {
    for (const options of [STRICT, LENIENT]) {
      expect(stream(enc('<|channel|>final<|message|>4'), options).messages).toEqual([FINAL_4]);
      expect(() => stream(enc('<|channel|>analysis<|message|>think<|end|><|start|>assistant<|channel|>fi'), options)).toThrow(
        expect.objectContaining({ code: HarmonyErrorCode.UnexpectedEos }),
      );
    }
  });

  it('the recipient before and after the channel (and a glued <|constrain|>) give the same message in both modes', () => {
    const variants = [
      ' to=functions.get_weather<|channel|>commentary <|constrain|>json<|message|>{"city":"東京"}<|call|>',
      '<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"city":"東京"}<|call|>',
      '<|channel|>commentary to=functions.get_weather<|constrain|>json<|message|>{"city":"東京"}<|call|>',
    ];
    const expected = [{ channel: 'commentary', recipient: 'functions.get_weather', text: '{"city":"東京"}' }];
    for (const options of [STRICT, LENIENT]) {
      for (const variant of variants) {
        const parsed = stream(enc(variant), options);
        expect(parsed.messages, variant).toEqual(expected);
        expect(parsed.recoveries).toEqual([]);
      }
    }
  });

  it('a huge message (400 000 characters, multi-byte) streams token by token to the same text in both modes', () => {
    const words = ['alpha', ' beta', ' 東京', ' 😀', ' Grüße', '\n', ' ½', ' 𝄞', ' 🦙', ' четыре'];
    let body = '';
    for (let i = 0; body.length < 400_000; i += 1) body += words[(i * 7) % words.length];
    const tokens = [...enc('<|channel|>final<|message|>'), ...encoding.encodeOrdinary(body), SpecialToken.Return];
    console.log(`[hardening] huge Harmony message: ${body.length} characters, ${tokens.length} tokens`);
    for (const options of [STRICT, LENIENT]) {
      const parsed = stream(tokens, options);
      expect(parsed.messages).toHaveLength(1);
      expect(parsed.messages[0]!.text === body).toBe(true);
      expect(parsed.deltas === body).toBe(true);
    }
  });

  it('a huge junk header (20 000 words, pendingChannel polled per token) is refused in strict mode and dropped in lenient mode', () => {
    // pendingChannel used to decode the whole header on every call: quadratic, minutes here.
    const tokens = enc(`<|channel|>final${' junk'.repeat(20_000)}<|message|>4<|return|>`);
    expect(strictCode(tokens)).toBe(HarmonyErrorCode.MalformedHeader);
    const lenient = stream(tokens, LENIENT);
    expect(lenient.messages).toEqual([FINAL_4]);
  });
});

/** An assistant turn of well-formed messages; the last one is `final`. */
const turnArb = fc
  .array(
    fc.record({
      channel: fc.constantFrom('analysis', 'commentary'),
      text: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).filter((t) => !t.includes('<|')),
    }),
    { minLength: 1, maxLength: 3 },
  )
  .chain((before) =>
    fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 30 })
      .filter((t) => !t.includes('<|'))
      .map((final) => [...before, { channel: 'final', text: final }]),
  );

const FAULTS = ['junk', 'unknown-channel', 'missing-end', 'missing-end-and-start', 'stray-message', 'stray-constrain', 'stray-between'] as const;
type Fault = (typeof FAULTS)[number];
const FAULT_CODE: Record<Fault, string> = {
  junk: HarmonyErrorCode.MalformedHeader,
  'unknown-channel': HarmonyErrorCode.UnknownChannel,
  'missing-end': HarmonyErrorCode.UnexpectedToken,
  'missing-end-and-start': HarmonyErrorCode.UnexpectedToken,
  'stray-message': HarmonyErrorCode.UnexpectedToken,
  'stray-constrain': HarmonyErrorCode.UnexpectedToken,
  'stray-between': HarmonyErrorCode.UnexpectedToken,
};

/** Tokens of the turn, with `fault` applied to message `at` (never the final one). */
function render(turn: ReadonlyArray<{ channel: string; text: string }>, fault: Fault | undefined, at: number, split: number): number[] {
  const out: number[] = [];
  turn.forEach((message, index) => {
    const faulty = fault !== undefined && index === at;
    const channel = faulty && fault === 'unknown-channel' ? 'scratchpad' : message.channel;
    if (index > 0 && !(fault === 'missing-end-and-start' && index === at + 1)) out.push(...enc('<|start|>assistant'));
    // Two extra words would read as recipient and content type: three cannot.
    out.push(...enc(`<|channel|>${channel}${faulty && fault === 'junk' ? ' junk words here' : ''}<|message|>`));
    const body = encoding.encodeOrdinary(message.text);
    if (faulty && (fault === 'stray-message' || fault === 'stray-constrain')) {
      body.splice(split % (body.length + 1), 0, fault === 'stray-message' ? SpecialToken.Message : SpecialToken.Constrain);
    }
    out.push(...body);
    const last = index === turn.length - 1;
    if (last) out.push(SpecialToken.Return);
    else if (!(faulty && (fault === 'missing-end' || fault === 'missing-end-and-start'))) out.push(SpecialToken.End);
    if (faulty && fault === 'stray-between') out.push(SpecialToken.Message);
  });
  return out;
}

describe(`random turns with one malformation (fast-check seed ${SEED})`, () => {
  it('strict mode names the fault; lenient mode returns every message, the final answer intact', () => {
    let runs = 0;
    fc.assert(
      fc.property(turnArb, fc.constantFrom(...FAULTS), fc.nat(), fc.nat(), (turn, fault, atSeed, split) => {
        if (turn.length < 2) return; // the final message is never the faulty one
        runs += 1;
        const at = atSeed % (turn.length - 1);
        const clean = stream(render(turn, undefined, at, split), STRICT);
        expect(clean.messages.map((m) => m.text)).toEqual(turn.map((m) => m.text));
        const tokens = render(turn, fault, at, split);
        expect(strictCode(tokens)).toBe(FAULT_CODE[fault]);
        const lenient = stream(tokens, LENIENT);
        const expected = clean.messages.map((m, i) => (i === at && fault === 'unknown-channel' ? { ...m, channel: 'scratchpad' } : m));
        expect(lenient.messages).toEqual(expected);
        expect(lenient.recoveries).toEqual([FAULT_CODE[fault]]);
        expect(lenient.messages.at(-1)).toEqual({ channel: 'final', recipient: null, text: turn.at(-1)!.text });
      }),
      { numRuns: 300 },
    );
    console.log(`[hardening] Harmony malformation property: ${runs} turns`);
  });

  it('multi-byte characters split across tokens: deltas never split a character, in either mode', () => {
    // Characters whose o200k tokens are not whole UTF-8 on their own (emoji, rare CJK, math).
    const rare = fc.constantFrom('🦙', '𝄞', 'ꙮ', '🧑‍🚀', '𓂀', '龘', '∰', 'ﷺ', '🇺🇳', 'é', '東京');
    fc.assert(
      fc.property(fc.array(fc.oneof(rare, fc.string({ unit: 'grapheme', maxLength: 3 })), { minLength: 1, maxLength: 20 }), fc.boolean(), (pieces, strict) => {
        const text = pieces.join('').replace(/<\|/g, '');
        const tokens = [...enc('<|channel|>final<|message|>'), ...encoding.encodeOrdinary(text), SpecialToken.Return];
        const parsed = stream(tokens, strict ? STRICT : LENIENT);
        expect(parsed.messages).toEqual([{ channel: 'final', recipient: null, text }]);
        expect(parsed.deltas).toBe(text);
        // A character cut off by a missing <|end|> in lenient mode ends as U+FFFD, never a lone surrogate.
        const cut = encoding.encodeOrdinary(text);
        const broken = [...enc('<|channel|>analysis<|message|>'), ...cut.slice(0, Math.max(1, cut.length - 1)), ...enc('<|start|>assistant<|channel|>final<|message|>ok<|return|>')];
        const recovered = stream(broken, LENIENT);
        expect(recovered.messages.at(-1)).toEqual({ channel: 'final', recipient: null, text: 'ok' });
        expect(recovered.messages[0]!.text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
      }),
      { numRuns: 200 },
    );
  });
});
