/**
 * Property tests (fast-check, fixed seed; fast-check prints seed and path of a failure so it can
 * be replayed): render -> parse is the identity on messages the format can express; streaming
 * gives the same messages and deltas however the tokens are chunked; deltas never split a
 * character; parsing the completion's text equals parsing its tokens.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  Author,
  Conversation,
  Message,
  Role,
  SpecialToken,
  StreamableParser,
  loadHarmonyEncoding,
  type Message as MessageType,
} from '../../src/harmony/index.js';

const SEED = 20_250_805;
const encoding = loadHarmonyEncoding('HarmonyGptOss');
const encodeOrdinary = (text: string) => encoding.encodeOrdinary(text);
const settings = { seed: SEED, numRuns: 150 } as const;

const word = fc.stringMatching(/^[a-z][a-z0-9_.-]{0,11}$/).filter((w) => w !== 'all' && !w.startsWith('to='));
// Content: anything (also special-token spellings: rendered as ordinary text, they stay text).
const anyText = fc.string({ unit: 'grapheme', maxLength: 40 });
const textWithoutSpecials = anyText.filter((t) => !t.includes('<|'));

/** Messages whose header survives a round trip (the format has no place for a role's user name etc.). */
function messageArb(text: fc.Arbitrary<string>): fc.Arbitrary<MessageType> {
  const plain = fc
    .record({
      role: fc.constantFrom(Role.User, Role.Assistant, Role.System, Role.Developer),
      text,
      channel: fc.option(word, { nil: undefined }),
      recipient: fc.option(word, { nil: undefined }),
      contentType: fc.option(fc.oneof(word, word.map((w) => `<|constrain|>${w}`)), { nil: undefined }),
    })
    .map(({ role, text: body, channel, recipient, contentType }) => {
      const message = Message.fromRoleAndContent(role, body);
      if (channel !== undefined) message.withChannel(channel);
      if (recipient !== undefined) {
        message.withRecipient(recipient);
        // A content type alone would be read back as the recipient (the reference does the same).
        if (contentType !== undefined) message.withContentType(contentType);
      }
      return message;
    });
  // A tool message's header is its name; it needs a recipient to be told from a role.
  const tool = fc
    .record({ name: word.filter((w) => !Object.values(Role).includes(w as Role)), text, channel: fc.option(word, { nil: undefined }) })
    .map(({ name, text: body, channel }) => {
      const message = Message.fromAuthorAndContent(Author.new(Role.Tool, name), body).withRecipient('assistant');
      if (channel !== undefined) message.withChannel(channel);
      return message;
    });
  return fc.oneof({ weight: 4, arbitrary: plain }, { weight: 1, arbitrary: tool });
}

const conversationArb = (text: fc.Arbitrary<string>) => fc.array(messageArb(text), { minLength: 1, maxLength: 5 });

/** Feeds tokens in the given chunk sizes; records every delta. */
function streamInChunks(tokens: readonly number[], chunkSizes: readonly number[]): { messages: readonly MessageType[]; deltas: string[] } {
  const parser = new StreamableParser(encoding, null);
  const deltas: string[] = [];
  let index = 0;
  let chunk = 0;
  while (index < tokens.length) {
    const size = Math.max(1, chunkSizes[chunk % Math.max(1, chunkSizes.length)] ?? 1);
    chunk += 1;
    for (const token of tokens.slice(index, index + size)) {
      parser.process(token);
      if (parser.lastContentDelta !== undefined) deltas.push(parser.lastContentDelta);
    }
    index += size;
  }
  parser.processEos();
  return { messages: parser.messages, deltas };
}

function isWellFormed(text: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

const gptHarmony = createRequire(import.meta.url)('gpt-tokenizer/cjs/encoding/o200k_harmony') as {
  encode(text: string, options: { disallowedSpecial: Set<string> }): number[];
};

describe(`Harmony properties (fast-check seed ${SEED})`, () => {
  test("ordinary text encodes as gpt-tokenizer's o200k BPE does (except where its regex differs from the reference's)", () => {
    // Our split regex spells out Rust's \s: it differs from JavaScript's on U+0085 and U+FEFF, and
    // (?i:'s) also matches the long s U+017F under Rust's case folding.
    const text = fc.string({ unit: fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), fc.constantFrom(' ', '\n', "'s", "'LL", '12345', '\r\n')), maxLength: 24 });
    fc.assert(
      fc.property(
        text.filter((t) => !/[\u0085\uFEFF\u017F]/.test(t)),
        (t) => {
          expect(encodeOrdinary(t)).toEqual(gptHarmony.encode(t, { disallowedSpecial: new Set() }));
          expect(encoding.decodeUtf8(encodeOrdinary(t))).toBe(t);
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });

  test('render -> parse returns the same messages', () => {
    fc.assert(
      fc.property(conversationArb(anyText), (messages) => {
        const tokens = encoding.renderConversation(Conversation.fromMessages(messages), { autoDropAnalysis: false });
        expect(encoding.parseMessagesFromCompletionTokens(tokens, null)).toEqual(messages);
      }),
      settings,
    );
  });

  test('streaming gives the same messages and deltas however the tokens are chunked', () => {
    fc.assert(
      fc.property(conversationArb(anyText), fc.array(fc.integer({ min: 1, max: 7 }), { maxLength: 6 }), (messages, chunks) => {
        const tokens = encoding.renderConversation(Conversation.fromMessages(messages), { autoDropAnalysis: false });
        const oneByOne = streamInChunks(tokens, [1]);
        const chunked = streamInChunks(tokens, chunks);
        expect(chunked.messages).toEqual(oneByOne.messages);
        expect(chunked.deltas).toEqual(oneByOne.deltas);
        expect(oneByOne.messages).toEqual(messages);
        // Deltas never split a character, and concatenated they are the contents.
        for (const delta of oneByOne.deltas) expect(isWellFormed(delta)).toBe(true);
        expect(oneByOne.deltas.join('')).toBe(messages.map((m) => (m.content[0] as { text: string }).text).join(''));
      }),
      settings,
    );
  });

  test('content of arbitrary token ids (partial and invalid UTF-8) parses to its lossy decoding, chunking aside', () => {
    const contentToken = fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 0, max: 199_997 }) },
      // Tokens that are fragments of multi-byte characters.
      { weight: 3, arbitrary: fc.constantFrom(94, 101, 3_262, 9_552, 12_269, 32_257, 76_255, 163_467) },
      { weight: 1, arbitrary: fc.constantFrom(SpecialToken.Start, SpecialToken.Message, SpecialToken.Channel, 200_014) },
    );
    fc.assert(
      fc.property(fc.array(contentToken, { maxLength: 30 }), fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 4 }), (content, chunks) => {
        const tokens = [...encoding.encode('<|start|>assistant<|message|>', { allowedSpecial: 'all' }), ...content, SpecialToken.End];
        const oneByOne = streamInChunks(tokens, [1]);
        const chunked = streamInChunks(tokens, chunks);
        expect(chunked).toEqual(oneByOne);
        expect(oneByOne.messages).toEqual([Message.fromRoleAndContent(Role.Assistant, encoding.decode(content))]);
        for (const delta of oneByOne.deltas) expect(isWellFormed(delta)).toBe(true);
      }),
      settings,
    );
  });

  test('parsing the completion as text equals parsing its tokens', () => {
    fc.assert(
      fc.property(conversationArb(textWithoutSpecials), fc.boolean(), (messages, strict) => {
        const completion = encoding.renderConversationForTraining(Conversation.fromMessages(messages), { autoDropAnalysis: false });
        const text = encoding.decodeUtf8(completion);
        expect(encoding.parseMessagesFromCompletionText(text, null, { strict })).toEqual(
          encoding.parseMessagesFromCompletionTokens(completion, null, { strict }),
        );
      }),
      settings,
    );
  });
});
