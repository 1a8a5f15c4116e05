/**
 * decryptStreamBatches yields exactly decryptStream's events, in order, grouped per input piece
 * (never an empty batch); on a failure the events verified before it come first, then the error;
 * with `buffer` nothing comes before the final chunk verified.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decryptStream, decryptStreamBatches, type DecodedEvent } from '../../src/sse/index.js';
import { HarmonyHpkeError } from '../../src/core/errors.js';
import { aes128, sessionFor, splitEvents } from './helpers.js';

const SEED = Number(process.env.FC_SEED ?? 20261201);

async function* pieces(parts: readonly string[]): AsyncGenerator<string> {
  for (const part of parts) yield part;
}

function splitAt(text: string, cuts: readonly number[]): string[] {
  const points = [...new Set(cuts.map((cut) => cut % (text.length + 1)))].sort((a, b) => a - b);
  const parts: string[] = [];
  let last = 0;
  for (const point of points) {
    parts.push(text.slice(last, point));
    last = point;
  }
  parts.push(text.slice(last));
  return parts;
}

async function collect(
  source: AsyncIterable<readonly DecodedEvent[]>,
): Promise<{ batches: (readonly DecodedEvent[])[]; error?: HarmonyHpkeError }> {
  const batches: (readonly DecodedEvent[])[] = [];
  try {
    for await (const batch of source) batches.push(batch);
    return { batches };
  } catch (error) {
    if (!(error instanceof HarmonyHpkeError)) throw error;
    return { batches, error };
  }
}

describe('decryptStreamBatches', () => {
  const v = aes128();
  const session = sessionFor(v);

  it('gives decryptStream\'s events in order, however the input is split, and no empty batch', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { maxLength: 12 }), async (cuts) => {
        const parts = splitAt(v.sse, cuts);
        const expected: DecodedEvent[] = [];
        for await (const event of decryptStream(pieces(parts), session)) expected.push(event);
        const { batches, error } = await collect(decryptStreamBatches(pieces(parts), session));
        expect(error).toBeUndefined();
        expect(batches.every((batch) => batch.length > 0)).toBe(true);
        expect(batches.length).toBeLessThanOrEqual(parts.length + 1);
        expect(batches.flat()).toEqual(expected);
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('yields what verified before a tampered chunk, then throws its typed error', async () => {
    const events = splitEvents(v.sse);
    const last = events.length - 1;
    // Corrupt the final event's data; everything before it still verifies.
    const broken = events[last]!.replace(/data: (.)/, (_, ch: string) => `data: ${ch === 'A' ? 'B' : 'A'}`);
    const text = [...events.slice(0, last), broken].join('');
    const { batches, error } = await collect(decryptStreamBatches(pieces([text]), session));
    expect(error?.code).toBe('CHUNK_AUTH_FAILED');
    const chunks = batches.flat().filter((event) => event.type === 'chunk');
    expect(chunks.length).toBe(v.chunk_plaintexts.length - 1);
  });

  it('with buffer, releases nothing from a stream that never verifies its final chunk', async () => {
    const events = splitEvents(v.sse);
    const truncated = events.slice(0, -1).join('');
    const { batches, error } = await collect(decryptStreamBatches(pieces([truncated]), session, { buffer: true }));
    expect(error?.code).toBe('STREAM_TRUNCATED');
    expect(batches).toEqual([]);
    const whole = await collect(decryptStreamBatches(pieces([v.sse]), session, { buffer: true }));
    expect(whole.batches).toHaveLength(1);
  });
});
