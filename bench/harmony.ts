/**
 * Harmony: rendering + tokenizing a ~100k-token conversation, and stream-parsing 1M completion
 * tokens, each against gpt-tokenizer (the package that provides the o200k ranks) encoding the
 * same text, measured in alternation in this process after warm-up (ranks loaded, JIT warm).
 */
import { encode as gptEncode } from 'gpt-tokenizer/encoding/o200k_base';
import { Conversation, loadHarmonyEncoding, Message, Role, StreamableParser, SystemContent } from '../src/harmony/index.js';
import { alternate, figure, median, relativeIqr, syntheticText, type BenchOptions, type Figure } from './lib.js';

function ms(fn: () => void): number {
  const started = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** A conversation of user/assistant turns whose texts add up to about `targetTokens` tokens. */
function bigConversation(targetTokens: number): { conversation: Conversation; texts: string[] } {
  const texts: string[] = [];
  const messages: Message[] = [Message.fromRoleAndContent(Role.System, SystemContent.new())];
  // ~1.3 tokens per synthetic word; 40 turns of varied text.
  const turns = 40;
  const wordsPerTurn = Math.ceil(targetTokens / 1.3 / turns);
  for (let turn = 0; turn < turns; turn += 1) {
    const text = syntheticText(wordsPerTurn, 1000 + turn);
    texts.push(text);
    messages.push(
      turn % 2 === 0
        ? Message.fromRoleAndContent(Role.User, text)
        : Message.fromRoleAndContent(Role.Assistant, text).withChannel('final'),
    );
  }
  return { conversation: Conversation.fromMessages(messages), texts };
}

/** `count` completion tokens: alternating analysis and final messages of ~800 text tokens each. */
function completionTokens(count: number): number[] {
  const encoding = loadHarmonyEncoding('HarmonyGptOss');
  const pool = encoding.encodeOrdinary(syntheticText(60_000, 99));
  const special = (text: string) => encoding.encode(text, { allowedSpecial: 'all' });
  const heads = [special('<|channel|>analysis<|message|>'), special('<|channel|>final<|message|>')];
  const next = special('<|end|><|start|>assistant');
  const tokens: number[] = [];
  let at = 0;
  for (let message = 0; tokens.length < count; message += 1) {
    for (const id of heads[message % 2]!) tokens.push(id);
    const length = 600 + ((message * 37) % 400);
    for (let i = 0; i < length; i += 1) {
      tokens.push(pool[at]!);
      at = (at + 1) % pool.length;
    }
    for (const id of next) tokens.push(id);
  }
  tokens.length = count - 1;
  tokens.push(special('<|return|>')[0]!);
  return tokens;
}

export async function benchHarmony(opts: BenchOptions): Promise<Figure[]> {
  const encoding = loadHarmonyEncoding('HarmonyGptOss');
  const { conversation, texts } = bigConversation(opts.quick ? 5_000 : 100_000);
  let renderedTokens = 0;
  let baselineTokens = 0;
  const render = () =>
    ms(() => {
      renderedTokens = encoding.renderConversation(conversation).length;
    });
  const baseline = () =>
    ms(() => {
      let total = 0;
      for (const text of texts) total += gptEncode(text).length;
      baselineTokens = total;
    });
  // Many short rounds: single rounds swing by a third with where the GC lands; the median settles.
  const tokenize = await alternate(opts.quick ? 2 : 41, opts.quick ? 1 : 3, render, baseline);
  opts.log(`harmony: rendered ${renderedTokens} tokens (gpt-tokenizer: ${baselineTokens} for the same texts)`);

  const count = opts.quick ? 50_000 : 1_000_000;
  const tokens = completionTokens(count);
  const text = encoding.decode(tokens);
  let messages = 0;
  const parse = () =>
    ms(() => {
      const parser = new StreamableParser(encoding, Role.Assistant);
      for (let i = 0; i < tokens.length; i += 1) parser.process(tokens[i]!);
      parser.processEos();
      messages = parser.messages.length;
    });
  const encodeText = () =>
    ms(() => {
      if (gptEncode(text).length === 0) throw new Error('nothing encoded');
    });
  const parsing = await alternate(opts.quick ? 2 : 7, 1, parse, encodeText);
  opts.log(`harmony: stream-parsed ${count} tokens into ${messages} messages`);

  // A piece without spaces: 40k CJK characters are one pre-tokenizer piece of 120k bytes, which
  // the reference's merge (and gpt-tokenizer's) rescans after every merge, O(n^2): 4.9 s before.
  // Against the same characters with a space every 4, i.e. the same bytes in short pieces.
  // Seeded CJK ideographs, not a repeated phrase, so that neither side gains from the merge cache.
  let seed = 14;
  const nextCjk = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return String.fromCodePoint(0x4e00 + (seed % 0x5000));
  };
  const cjk = Array.from({ length: opts.quick ? 8_000 : 40_000 }, nextCjk).join('');
  const cjkSpaced = cjk.replace(/(.{4})/gu, '$1 ');
  const longPiece = await alternate(opts.quick ? 2 : 7, 1, () => ms(() => void encoding.encodeOrdinary(cjk)), () => ms(() => void encoding.encodeOrdinary(cjkSpaced)));
  opts.log(`harmony: ${cjk.length} CJK characters as one piece: ${median(longPiece.a).toFixed(0)} ms`);

  // fromJson parses losslessly (numbers as written, member order: json.ts). For a conversation
  // without tool schemas that must cost nothing measurable next to rendering it: fromJson + render
  // against JSON.parse + fromDict + render of the same text.
  const json = conversation.toJson();
  const viaLossless = () => ms(() => void encoding.renderConversation(Conversation.fromJson(json)));
  const viaJsonParse = () => ms(() => void encoding.renderConversation(Conversation.fromDict(JSON.parse(json))));
  const lossless = await alternate(opts.quick ? 2 : 41, 2, viaLossless, viaJsonParse);
  const parseOnly = await alternate(opts.quick ? 2 : 21, 2, () => ms(() => void Conversation.fromJson(json)), () => ms(() => void Conversation.fromDict(JSON.parse(json))));

  const renderMs = median(tokenize.a);
  const gptMs = median(tokenize.b);
  const parseMs = median(parsing.a);
  const encodeMs = median(parsing.b);
  return [
    figure({
      id: 'harmony.tokenize',
      label: `harmony: render+tokenize ${Math.round(renderedTokens / 1000)}k-token conversation`,
      value: renderMs,
      unit: 'ms',
      baselineLabel: 'gpt-tokenizer encode, same texts',
      baseline: gptMs,
      baselineUnit: 'ms',
      ratio: tokenize.ratio,
      goal: { kind: 'ratio-max', value: 1.2 },
      rounds: tokenize.a.length,
      detail: { renderedTokens, baselineTokens, iqr: relativeIqr(tokenize.a), baselineIqr: relativeIqr(tokenize.b) },
    }),
    figure({
      id: 'harmony.long-piece',
      label: `harmony: encode ${cjk.length.toLocaleString('en-US')} CJK characters with no space (one piece)`,
      value: median(longPiece.a),
      unit: 'ms',
      baselineLabel: 'same characters, a space every 4 (short pieces)',
      baseline: median(longPiece.b),
      baselineUnit: 'ms',
      ratio: longPiece.ratio,
      goal: { kind: 'ratio-max', value: 3 },
      rounds: longPiece.a.length,
      detail: { iqr: relativeIqr(longPiece.a) },
    }),
    figure({
      id: 'harmony.fromjson-lossless',
      label: 'harmony: Conversation.fromJson (lossless JSON) + render, no tool schemas',
      value: median(lossless.a),
      unit: 'ms',
      baselineLabel: 'JSON.parse + Conversation.fromDict + render, same text',
      baseline: median(lossless.b),
      baselineUnit: 'ms',
      ratio: lossless.ratio,
      goal: { kind: 'ratio-max', value: 1.05 },
      rounds: lossless.a.length,
      detail: { jsonBytes: json.length, fromJsonMs: median(parseOnly.a), jsonParseFromDictMs: median(parseOnly.b), iqr: relativeIqr(lossless.a) },
    }),
    figure({
      id: 'harmony.stream-parse',
      label: `harmony: StreamableParser, ${count.toLocaleString('en-US')} tokens`,
      value: (count * 1000) / parseMs,
      unit: 'tokens/s',
      baselineLabel: 'gpt-tokenizer encode, same text',
      baseline: (count * 1000) / encodeMs,
      baselineUnit: 'tokens/s',
      ratio: parsing.ratio,
      goal: { kind: 'value-min', value: 2_000_000 },
      rounds: parsing.a.length,
      detail: { parseMs, encodeMs, messages, iqr: relativeIqr(parsing.a) },
    }),
  ];
}
