/**
 * Property: for random payloads and responses, seal → router open → stream encrypt → decode,
 * with the SSE text split at random places, with LF, CRLF or CR line ends, as strings or bytes,
 * gives back exactly the request payload and the chunk messages.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeRequestPlaintext,
  generateRouterKey,
  keyConfigOf,
  newRequestId,
  newSession,
  openRequest,
  parseRequestPlaintext,
  parseSession,
  sealRequest,
  serializeSession,
  type ChunkMessage,
  type RequestPayload,
  type RouterKey,
} from '../../src/hpke/index.js';
import { createEncryptedEventStream, formatComment, StreamDecoder, type DecodedEvent } from '../../src/sse/index.js';

/** Fixed seed (override with FC_SEED); fast-check prints seed and path of any counterexample. */
const SEED = Number(process.env.FC_SEED ?? 20260101);

const text = fc.string({ unit: 'binary', maxLength: 40 });

const payloadArb = fc.record({
  model: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 30 }),
  iat: fc.integer({ min: 0, max: 2 ** 40 }),
  messages: fc.array(text.map((t) => ({ role: 'user', content: [{ type: 'text', text: t }] })), { maxLength: 4 }),
  max_tokens: fc.option(fc.integer({ min: 1, max: 100_000 }), { nil: undefined }),
  temperature: fc.option(fc.integer({ min: 0, max: 200 }).map((t) => t / 100), { nil: undefined }),
  reasoning_effort: fc.option(fc.constantFrom('low' as const, 'medium' as const, 'high' as const), { nil: undefined }),
  render: fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }), {
    nil: undefined,
  }),
});

const tokensArb = fc.array(
  fc.record({ ids: fc.array(fc.integer({ min: 0, max: 201_087 }), { maxLength: 12 }), text }),
  { maxLength: 20 },
);

const finalArb: fc.Arbitrary<ChunkMessage> = fc.oneof(
  fc.record({
    t: fc.constant('end' as const),
    finish: fc.constantFrom('stop' as const, 'length' as const, 'tool_call' as const, 'cancelled' as const),
    usage: fc.record({ prompt_tokens: fc.nat(), completion_tokens: fc.nat() }),
  }),
  fc.record({ t: fc.constant('error' as const), code: fc.string({ maxLength: 20 }), message: text }),
);

const framingArb = fc.record({
  eol: fc.constantFrom('\n', '\r\n', '\r'),
  bytes: fc.boolean(),
  bom: fc.boolean(),
  pings: fc.array(fc.nat(), { maxLength: 3 }),
  cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }),
});

const keys = new Map<number, Promise<RouterKey>>();
const routerKey = (aead: number): Promise<RouterKey> => {
  let key = keys.get(aead);
  if (key === undefined) {
    key = generateRouterKey({ keyId: aead * 10, suites: [{ kdfId: 1, aeadId: aead }] });
    keys.set(aead, key);
  }
  return key;
};

describe('round trip over random inputs', () => {
  it('seal, open, stream-encrypt, split, decode', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(1, 2, 3),
        payloadArb,
        tokensArb,
        finalArb,
        framingArb,
        async (aead, p, tokens, final, framing) => {
          // Client: payload → sealed body + session.
          const key = await routerKey(aead);
          const config = keyConfigOf(key);
          const payload: RequestPayload = {
            v: 1,
            rid: newRequestId(),
            iat: p.iat,
            model: p.model,
            conversation: { messages: p.messages },
            params: {
              ...(p.max_tokens !== undefined ? { max_tokens: p.max_tokens } : {}),
              ...(p.temperature !== undefined ? { temperature: p.temperature } : {}),
              ...(p.reasoning_effort !== undefined ? { reasoning_effort: p.reasoning_effort } : {}),
            },
            ...(p.render !== undefined ? { render: p.render } : {}),
          };
          const sealed = await sealRequest(config, { kdfId: 1, aeadId: aead }, encodeRequestPlaintext(payload));
          const session = parseSession(
            serializeSession(
              newSession({
                router: 'http://127.0.0.1:1',
                config,
                header: sealed.header,
                enc: sealed.enc,
                secret: sealed.secret,
                rid: payload.rid,
                iat: payload.iat,
              }),
            ),
          );

          // Router: open, parse, answer.
          const opened = await openRequest(sealed.body, (id) => (id === key.keyId ? key : undefined));
          const received = parseRequestPlaintext(opened.plaintext);
          expect(received).toEqual(payload);
          const stream = createEncryptedEventStream(opened);
          const messages: ChunkMessage[] = [
            { t: 'start', rid: received.rid, model: received.model, created: received.iat },
            ...tokens.map((t) => ({ t: 'tokens' as const, ids: t.ids, text: t.text })),
            final,
          ];
          const events = [
            stream.hpkeEvent(),
            ...messages.map((m, i) => (i === messages.length - 1 ? stream.final(m) : stream.chunk(m))),
          ];
          // Heartbeats anywhere before the final event (after it they are accepted but not reported).
          for (const at of framing.pings) events.splice(at % events.length, 0, formatComment('ping \u00fc\u{1F600}'));
          let sse = events.join('').replace(/\n/g, framing.eol);
          if (framing.bom) sse = `\uFEFF${sse}`;

          // Client: decode from random pieces.
          const input: string | Uint8Array = framing.bytes ? new TextEncoder().encode(sse) : sse;
          const points = [...new Set(framing.cuts.map((c) => Math.floor(c * input.length)))].sort((a, b) => a - b);
          const decoder = new StreamDecoder(session);
          const out: DecodedEvent[] = [];
          let from = 0;
          for (const to of [...points, input.length]) {
            out.push(...decoder.push(input.slice(from, to)));
            from = to;
          }
          out.push(...decoder.end());
          expect(out.filter((e) => e.type === 'chunk').map((e) => (e.type === 'chunk' ? e.message : undefined))).toEqual(
            messages,
          );
          expect(out.filter((e) => e.type === 'ping')).toHaveLength(framing.pings.length);
          expect(decoder.done).toBe(true);
        },
      ),
      { seed: SEED, numRuns: 60, endOnFailure: true },
    );
  });
});
