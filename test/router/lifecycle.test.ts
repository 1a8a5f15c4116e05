/**
 * The router process under load and while stopping: --max-streams (503 with Retry-After, the slot
 * freed when a client leaves), graceful shutdown on SIGTERM (open streams end with an
 * authenticated `cancelled` chunk, exit 0), and 503 shutting-down for a request caught mid-upload.
 */
import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { StreamDecoder, type DecodedEvent } from '../../src/sse/index.js';
import { makeSandbox } from '../helpers/cli.js';
import { startRouterProcess } from '../helpers/router-process.js';
import { decode, expectRefusal, finalAnswer, health, post, seal, TYPES, waitFor } from './helpers.js';
import type { HttpResponse } from '../../src/client/http.js';
import type { Session } from '../../src/hpke/index.js';

const sandbox = makeSandbox();
afterAll(() => sandbox.cleanup());

/** Reads a stream until `until` holds for an event; returns the decoder and the iterator to go on. */
async function readUntil(
  response: HttpResponse,
  session: Session,
  until: (event: DecodedEvent) => boolean,
): Promise<{ decoder: StreamDecoder; events: DecodedEvent[]; rest: AsyncIterator<Uint8Array> }> {
  const decoder = new StreamDecoder(session);
  const events: DecodedEvent[] = [];
  const rest = response.body[Symbol.asyncIterator]();
  for (;;) {
    const next = await rest.next();
    if (next.done) throw new Error('the stream ended early');
    const fresh = decoder.push(next.value);
    events.push(...fresh);
    if (fresh.some(until)) return { decoder, events, rest };
  }
}

const isTokens = (event: DecodedEvent) => event.type === 'chunk' && event.message.t === 'tokens';

describe('--max-streams', () => {
  it('answers 503 overloaded with Retry-After past the limit, and serves again once a slot frees', async () => {
    const router = await startRouterProcess(sandbox.dir, ['--max-streams', '2', '--test-faults'], sandbox.env);
    try {
      const stall = { headers: { 'x-harmony-hpke-test-fault': 'stall' } };
      const held = await Promise.all(
        [0, 1].map(async () => {
          const sealed = await seal(router.url, 'What is 2+2?');
          const response = await post(sealed, stall);
          await readUntil(response, sealed.session, isTokens);
          return response;
        }),
      );
      expect(await health(router.url)).toMatchObject({ active_streams: 2, max_streams: 2 });

      const third = await seal(router.url, 'What is 2+2?');
      const refusal = await expectRefusal(await post(third), 503, TYPES.overloaded);
      expect(refusal.headers['retry-after']).toBe('1');
      expect(refusal.problem['detail']).toMatch(/at most 2 streams/);

      held[0]?.close();
      await waitFor(async () => (await health(router.url))['active_streams'] === 1, 'one slot to free');
      const fourth = await seal(router.url, 'What is 2+2?');
      const answer = await decode(await post(fourth), fourth.session);
      expect(finalAnswer(answer.ids)).toBe('2 + 2 = 4.');
      held[1]?.close();
      await waitFor(async () => (await health(router.url))['active_streams'] === 0, 'all slots to free');
    } finally {
      await router.stop();
    }
  });
});

describe('graceful shutdown', () => {
  it('SIGTERM ends an open slow stream with an authenticated cancelled end chunk, then exits 0', async () => {
    const router = await startRouterProcess(sandbox.dir, ['--engine-delay-ms', '200', '--log-format', 'json'], sandbox.env);
    let exit: Promise<number | null> | undefined;
    try {
      const sealed = await seal(router.url, 'What is 2+2?');
      const response = await post(sealed);
      const { decoder, events, rest } = await readUntil(response, sealed.session, isTokens);
      exit = router.stop('SIGTERM');
      for (;;) {
        const next = await rest.next();
        if (next.done) break;
        events.push(...decoder.push(next.value));
      }
      events.push(...decoder.end()); // throws unless a final chunk verified and nothing follows it
      const final = events.filter((event) => event.type === 'chunk' && event.final);
      expect(final).toHaveLength(1);
      const message = (final[0] as Extract<DecodedEvent, { type: 'chunk' }>).message;
      const tokens = events.filter(isTokens).length;
      expect(message).toEqual({ t: 'end', finish: 'cancelled', usage: { prompt_tokens: expect.any(Number), completion_tokens: tokens } });
      expect(await exit).toBe(0);
      expect(router.stderr()).toContain('shutting down');
      const line = router.stderr().split('\n').find((candidate) => candidate.includes(sealed.payload.rid));
      expect(JSON.parse(line ?? '{}')).toMatchObject({ status: 200, finish: 'cancelled' });
    } finally {
      await (exit ?? router.stop());
    }
  });

  it('SIGINT on an idle router exits 0 and frees the port', async () => {
    const router = await startRouterProcess(sandbox.dir, [], sandbox.env);
    expect((await health(router.url))['status']).toBe('ok');
    expect(await router.stop('SIGINT')).toBe(0);
    await expect(health(router.url)).rejects.toMatchObject({ code: 'CONNECTION_REFUSED' });
  });

  it('a request caught mid-upload gets 503 shutting-down with Retry-After, and the exit is still 0', async () => {
    // A minimum upload rate of 1 byte/s: this upload is slow, but not slow enough to be cut first.
    const router = await startRouterProcess(sandbox.dir, ['--min-upload-rate', '1'], sandbox.env);
    try {
      const { port, hostname } = new URL(router.url);
      const socket = connect(Number(port), hostname);
      let received = '';
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.on('data', (part: Buffer) => (received += part.toString('utf8')));
      socket.on('error', () => {});
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write(
        'POST /v1/harmony/stream HTTP/1.1\r\nHost: router\r\nContent-Type: application/harmony-hpke-req\r\nContent-Length: 4096\r\n\r\n',
      );
      socket.write(Buffer.alloc(100));
      // An upload is counted as such; it takes no stream slot until its body is complete and opened.
      await waitFor(async () => (await health(router.url))['uploads'] === 1, 'the upload to be counted');
      expect((await health(router.url))['active_streams']).toBe(0);

      const exit = router.stop('SIGTERM');
      await closed;
      expect(await exit).toBe(0);
      const [head = '', body = ''] = received.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 503 /);
      expect(head.toLowerCase()).toContain('content-type: application/problem+json');
      expect(head.toLowerCase()).toContain('retry-after: 1');
      expect(JSON.parse(body)).toMatchObject({ type: TYPES.shuttingDown, status: 503 });
    } finally {
      await router.stop();
    }
  });
});
