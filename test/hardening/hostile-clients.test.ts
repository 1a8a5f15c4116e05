/**
 * Hostile and careless clients (issue 11), each against a real `harmony-hpke serve` child on
 * 127.0.0.1 with real HPKE and SSE: clients that half-close or give up while their request is
 * read, slow uploads, idle connection floods, clients that stop reading, a prompt that is slow to
 * tokenize, a replay flood, a log reader that goes away, and the smaller items (redirects,
 * max_tokens, refused bodies, out-of-vocabulary ids, error texts, header size, 422 timing).
 *
 * Assertions are on behaviour (slots back to 0, legitimate requests answered with no 503, the
 * process alive, exit 0), never on speed: timings are printed as figures for docs/reliability.md,
 * and the precise latency ratios come from `node dist/bench/hostile.js` (docs/reliability.md).
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateRouterKey,
  keyConfigOf,
  sealRequest,
} from '../../src/hpke/index.js';
import { padToMultiple, REQUEST_PADDING_BLOCK } from '../../src/hpke/request.js';
import { readAll } from '../../src/client/http.js';
import { makeSandbox } from '../helpers/cli.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { startRouterProcess, type RouterProcess } from '../helpers/router-process.js';
import { decode, finalAnswer, health, post, rawRequest, routerKey, seal, sealRaw, type Sealed } from '../router/helpers.js';
import { vllmBody, waitFor } from './helpers.js';

const sandbox = makeSandbox();
afterAll(() => sandbox.cleanup());

const QUESTION = 'What is 2+2?';
const ANSWER = '2 + 2 = 4.';

/** A legitimate exchange: sealed, sent, decoded and checked; resolves with its latency in ms. */
async function legit(url: string): Promise<number> {
  const started = performance.now();
  const sealed = await seal(url, QUESTION);
  const response = await post(sealed);
  if (response.status !== 200) {
    const problem = Buffer.from(await readAll(response.body, 64 * 1024)).toString('utf8');
    throw new Error(`legitimate request refused with ${response.status}: ${problem}`);
  }
  const answer = await decode(response, sealed.session);
  expect(finalAnswer(answer.ids)).toBe(ANSWER);
  expect(answer.final).toMatchObject({ t: 'end', finish: 'stop' });
  return performance.now() - started;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function figure(name: string, value: string): void {
  console.info(`[hostile-clients] ${name}: ${value}`);
}

function openSocket(url: string): Promise<Socket> {
  const { port, hostname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

function requestHead(body: Uint8Array, extra = ''): string {
  return `POST /v1/harmony/stream HTTP/1.1\r\nHost: router\r\nContent-Type: application/harmony-hpke-req\r\nContent-Length: ${body.byteLength}\r\n${extra}\r\n`;
}

async function streamsAndUploads(url: string): Promise<{ active: number; uploads: number; connections: number }> {
  const h = await health(url);
  return { active: Number(h['active_streams']), uploads: Number(h['uploads']), connections: Number(h['connections']) };
}

function logLines(router: RouterProcess): Record<string, unknown>[] {
  return router
    .stderr()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** One router process for the describe block it is called in: started before its tests, stopped after them (exit 0). */
function routerForBlock(args: readonly string[], use: (router: RouterProcess) => void): void {
  let router: RouterProcess | undefined;
  beforeAll(async () => {
    router = await startRouterProcess(sandbox.dir, args, sandbox.env);
    use(router);
  }, 30_000);
  afterAll(async () => {
    expect(await router?.stop()).toBe(0);
  });
}

describe('clients that leave while their request is read or opened', () => {
  let router: RouterProcess;
  // A slow engine: a leaked slot would stay taken for the whole answer (seconds), not a moment.
  routerForBlock(['--log-format', 'json', '--engine-delay-ms', '50'], (started) => (router = started));

  it('256 requests half-closed right after their body (socket.end(request)) leave no slot taken, and each is logged', async () => {
    const requests = await Promise.all(Array.from({ length: 256 }, () => seal(router.url, QUESTION)));
    const sockets = await Promise.all(requests.map(() => openSocket(router.url)));
    const linesBefore = logLines(router).length;
    const started = performance.now();
    sockets.forEach((socket, index) => {
      socket.on('error', () => {});
      socket.resume();
      const body = requests[index]!.body;
      socket.end(Buffer.concat([Buffer.from(requestHead(body)), Buffer.from(body)]));
    });
    await waitFor(async () => {
      const state = await streamsAndUploads(router.url);
      return state.active === 0 && state.uploads === 0;
    }, 'every slot to be free again', 60_000);
    figure('slots back to 0 after 256 half-closed requests', `${Math.round(performance.now() - started)} ms`);
    // Every one of them has a log line, CLIENT_GONE: 499 when the client left before its request
    // was opened (no rid known yet), 200 when it left during the stream.
    await waitFor(() => logLines(router).length - linesBefore >= 256, 'a log line per request', 30_000);
    const lines = logLines(router).slice(linesBefore);
    figure('log lines of the 256 half-closed requests', `${lines.filter((line) => line['status'] === 499).length} x 499, ${lines.filter((line) => line['status'] === 200).length} x 200`);
    expect(lines).toHaveLength(256);
    for (const line of lines) {
      expect(line).toMatchObject({ error: 'CLIENT_GONE' });
      expect([200, 499]).toContain(line['status']);
    }
    await legit(router.url);
    sockets.forEach((socket) => socket.destroy());
  }, 120_000);

  it('40 clients that give up 2 to 10 ms into their request leave no slot taken', async () => {
    for (let run = 0; run < 40; run += 1) {
      const sealed = await seal(router.url, QUESTION);
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 2 + (run % 9));
      await post(sealed, { signal: controller.signal }).then(
        (response) => response.close(),
        () => {},
      );
    }
    await waitFor(async () => {
      const state = await streamsAndUploads(router.url);
      return state.active === 0 && state.uploads === 0;
    }, 'every slot to be free again', 30_000);
    await legit(router.url);
  }, 120_000);
});

describe('slow uploads and connection floods', () => {
  let router: RouterProcess;
  routerForBlock(['--log-format', 'json'], (started) => (router = started));

  it('256 uploads sending one byte every 5 s (reconnecting when cut) never lock out legitimate requests', async () => {
    let stop = false;
    let cut = 0;
    /** Cut uploads that lived under the upload grace period (1 s): evicted, not cut by the rate rule. */
    let cutYoung = 0;
    const sockets = new Set<Socket>();
    const slowUploader = async (): Promise<void> => {
      while (!stop) {
        const socket = await openSocket(router.url).catch(() => undefined);
        if (socket === undefined) continue;
        const opened = performance.now();
        sockets.add(socket);
        socket.on('error', () => {});
        socket.resume();
        socket.write(requestHead(new Uint8Array(4096)));
        const ticker = setInterval(() => socket.writable && socket.write(Buffer.alloc(1)), 5_000);
        await new Promise<void>((resolve) => socket.once('close', () => resolve()));
        clearInterval(ticker);
        sockets.delete(socket);
        if (!stop) {
          cut += 1;
          if (performance.now() - opened < 900) cutYoung += 1;
        }
      }
    };
    const uploaders = Array.from({ length: 256 }, () => slowUploader());
    await waitFor(async () => (await streamsAndUploads(router.url)).uploads >= 64, 'the slow uploads to be under way', 30_000);

    const latencies: number[] = [];
    for (let round = 0; round < 30; round += 1) latencies.push(await legit(router.url));
    stop = true;
    for (const socket of sockets) socket.destroy();
    await Promise.all(uploaders);
    figure('legitimate p50/p99 during 256 slow uploads', `${Math.round(percentile(latencies, 50))} / ${Math.round(percentile(latencies, 99))} ms (30 requests, 0 refused); slow uploads cut: ${cut}, ${cutYoung} of them within 0.9 s`);
    expect(cut).toBeGreaterThan(0);
    // A reconnecting uploader (no bytes yet) waits for a free upload slot instead of evicting one,
    // so uploads are cut by the rate rule after their grace second, not by each other in a loop
    // (before: thousands evicted within milliseconds). Each legitimate request may evict one.
    expect(cutYoung).toBeLessThanOrEqual(latencies.length + 10);
    // Every slow upload that was cut was told why: 408 request-timeout.
    expect(logLines(router).some((line) => line['status'] === 408)).toBe(true);
    expect(logLines(router).filter((line) => line['status'] === 503)).toEqual([]);
  }, 120_000);

  it('10,000 idle connections: legitimate requests are still served', async () => {
    const idle: Socket[] = [];
    for (let opened = 0; opened < 10_000; opened += 500) {
      idle.push(...(await Promise.all(Array.from({ length: 500 }, () => openSocket(router.url)))));
    }
    for (const socket of idle) socket.on('error', () => {});
    const latencies: number[] = [];
    for (let round = 0; round < 30; round += 1) latencies.push(await legit(router.url));
    const state = await streamsAndUploads(router.url);
    figure('legitimate p50/p99 with 10,000 idle connections', `${Math.round(percentile(latencies, 50))} / ${Math.round(percentile(latencies, 99))} ms (30 requests, 0 refused; router held ${state.connections} connections)`);
    for (const socket of idle) socket.destroy();
  }, 180_000);
});

describe('a connection cap', () => {
  it('with --max-connections 64 and 200 idle connections, new clients get in (the oldest idle are closed)', async () => {
    const router = await startRouterProcess(sandbox.dir, ['--max-connections', '64'], sandbox.env);
    try {
      const idle = await Promise.all(Array.from({ length: 200 }, () => openSocket(router.url)));
      let closedByRouter = 0;
      for (const socket of idle) {
        socket.on('error', () => {});
        socket.on('close', () => (closedByRouter += 1));
      }
      for (let round = 0; round < 5; round += 1) await legit(router.url);
      expect((await streamsAndUploads(router.url)).connections).toBeLessThanOrEqual(64);
      await waitFor(() => closedByRouter >= 200 - 64, 'the router to close the connections over its cap');
      idle.forEach((socket) => socket.destroy());
    } finally {
      expect(await router.stop()).toBe(0);
    }
  }, 60_000);
});

describe('a conversation that is slow to render', () => {
  let router: RouterProcess;
  routerForBlock(['--log-format', 'json'], (started) => (router = started));

  it('a 900 KB prompt without spaces is rendered off the event loop: other requests are served meanwhile, it ends with an error chunk', async () => {
    // 300,000 CJK characters (900 KB of UTF-8) in an earlier user message; the question the echo
    // engine answers comes last.
    const key = await routerKey(router.url);
    const heavy = await sealRaw(
      router.url,
      {
        v: 1,
        rid: 'heavy-prompt-rid-0123A',
        iat: Math.floor(Date.now() / 1000),
        model: 'gpt-oss-20b',
        params: { max_tokens: 64 },
        conversation: {
          messages: [
            { role: 'user', content: '中'.repeat(300_000) },
            { role: 'user', content: QUESTION },
          ],
        },
      },
      key,
    );
    expect(heavy.body.byteLength).toBeGreaterThan(900_000);
    const heavyResult = post(heavy).then((response) => decode(response, heavy.session));
    // Give the render time to start, then measure others while it runs.
    await waitFor(async () => (await streamsAndUploads(router.url)).active === 1, 'the heavy request to be opened');
    const latencies: number[] = [];
    for (let round = 0; round < 20; round += 1) latencies.push(await legit(router.url));
    const heavyAnswer = await heavyResult;
    figure('legitimate p50/p99 during a 900 KB adversarial prompt', `${Math.round(percentile(latencies, 50))} / ${Math.round(percentile(latencies, 99))} ms (20 requests)`);
    // Either the deadline cut it or (with a fast tokenizer) it rendered and is over the token limit.
    expect(heavyAnswer.final?.t).toBe('error');
    expect(['render_timeout', 'prompt_too_long']).toContain((heavyAnswer.final as { code?: string }).code);
  }, 120_000);

  it('a tool schema nested 1,100 deep is refused inside the stream without rendering', async () => {
    let schema: Record<string, unknown> = { type: 'string' };
    for (let depth = 0; depth < 1_100; depth += 1) schema = { type: 'object', properties: { a: schema } };
    const deep = await sealRaw(router.url, {
      v: 1,
      rid: 'deep-schema-rid-0123AA',
      iat: Math.floor(Date.now() / 1000),
      model: 'gpt-oss-20b',
      params: { max_tokens: 64 },
      conversation: {
        messages: [
          { role: 'developer', content: [{ type: 'developer_content', tools: { functions: { name: 'functions', tools: [{ name: 'f', description: 'd', parameters: schema }] } } }] },
          { role: 'user', content: QUESTION },
        ],
      },
    });
    const answer = await decode(await post(deep), deep.session);
    expect(answer.final).toMatchObject({ t: 'error', code: 'conversation_too_deep' });
    await legit(router.url);
  }, 60_000);

  it('a bad_conversation error names no request content', async () => {
    const bad = await sealRaw(router.url, {
      v: 1,
      rid: 'bad-role-rid-0123ABCDA',
      iat: Math.floor(Date.now() / 1000),
      model: 'gpt-oss-20b',
      params: { max_tokens: 64 },
      conversation: { messages: [{ role: 'SECRET-ROLE-TEXT', content: 'x' }] },
    });
    const answer = await decode(await post(bad), bad.session);
    expect(answer.final).toMatchObject({ t: 'error', code: 'bad_conversation' });
    expect(JSON.stringify(answer.final)).not.toContain('SECRET-ROLE-TEXT');
  }, 60_000);
});

/** An upstream that streams `count` tokens, one per event, then finishes with `length`. */
function longUpstreamBody(count: number, ids: readonly number[] = []): string[] {
  return vllmBody(
    Array.from({ length: count }, (_, index) => (ids.length > 0 ? ids[index % ids.length]! : 1000 + (index % 5000))),
    'length',
  );
}

/** o200k tokens of 112 to 128 bytes of text: an answer of 32,000 of them (about 10 MB of events) outgrows the loopback socket buffers. */
const LONG_TOKENS = [72056, 179041, 182513];

describe('clients that stop reading', () => {
  it('a stream whose client does not read is cut after --write-timeout, freeing its slot and its upstream', async () => {
    const upstream = await startFakeUpstream([{ path: '/v1/completions', body: longUpstreamBody(32_000), chunking: 'event' }]);
    const router = await startRouterProcess(
      sandbox.dir,
      ['--log-format', 'json', '--upstream', upstream.url, '--upstream-kind', 'vllm', '--write-timeout', '1s'],
      sandbox.env,
    );
    try {
      const sealed = await seal(router.url, QUESTION, { maxTokens: 32_000 });
      const socket = await openSocket(router.url);
      socket.on('error', () => {});
      socket.write(requestHead(sealed.body));
      socket.write(sealed.body);
      socket.pause(); // never reads
      const line = await waitFor(
        () => logLines(router).find((candidate) => candidate['rid'] === sealed.payload.rid),
        'the stream to be cut',
        60_000,
      );
      expect(line).toMatchObject({ status: 200, error: 'WRITE_TIMEOUT' });
      expect(Number(line['completion_tokens'])).toBeLessThan(32_000);
      await waitFor(async () => (await streamsAndUploads(router.url)).active === 0, 'the slot to free');
      await waitFor(() => upstream.openConnections() === 0, 'the upstream connection to close');
      socket.destroy();
    } finally {
      expect(await router.stop()).toBe(0);
    }
  }, 120_000);

  it('SIGTERM with clients that do not read ends the process with exit 0 (close is bounded by --close-timeout and a few seconds)', async () => {
    const upstream = await startFakeUpstream([{ path: '/v1/completions', body: longUpstreamBody(32_000, LONG_TOKENS), chunking: 'event' }]);
    const router = await startRouterProcess(
      sandbox.dir,
      ['--log-format', 'json', '--upstream', upstream.url, '--upstream-kind', 'vllm', '--write-timeout', '10m', '--close-timeout', '2s'],
      sandbox.env,
    );
    const sockets: Socket[] = [];
    try {
      for (let client = 0; client < 5; client += 1) {
        const sealed = await seal(router.url, QUESTION, { maxTokens: 32_000 });
        const socket = await openSocket(router.url);
        socket.on('error', () => {});
        socket.write(requestHead(sealed.body));
        socket.write(sealed.body);
        socket.pause();
        sockets.push(socket);
      }
      await waitFor(async () => (await streamsAndUploads(router.url)).active === 5, 'five streams open', 60_000);
      // Rendered and sent upstream (render workers may still be warming on a loaded machine).
      await waitFor(() => upstream.requests.length === 5, 'five upstream requests', 60_000);
      // Let the five answers (about 8 MB each) fill the socket buffers, so that the cancelled chunk
      // cannot be written: only the close deadline can end these streams.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      // Still blocked on their clients: the stop below has to meet its deadline, not just drain.
      await waitFor(async () => (await streamsAndUploads(router.url)).active === 5, 'the five streams still open', 60_000);
      const started = performance.now();
      // The stop is bounded by design at --close-timeout (2 s) + 4 s for close() + 1 s for the exit;
      // the bound asserted is three times that, for a loaded machine (before issue 11 this never
      // exited; before the stream loop yielded, one bulk upstream body could starve it for longer).
      const exited = new Promise<number | null>((resolve) => router.child.once('exit', (code) => resolve(code)));
      router.child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve('still running after 21 s'), 21_000))]);
      figure('SIGTERM with 5 non-reading clients (--close-timeout 2s)', `exit ${code} after ${Math.round(performance.now() - started)} ms`);
      expect(code).toBe(0);
    } finally {
      sockets.forEach((socket) => socket.destroy());
      await router.stop();
    }
  }, 120_000);
});

describe('the replay store', () => {
  it('when full it refuses new requests with 503 and still knows every request it holds', async () => {
    const router = await startRouterProcess(sandbox.dir, ['--log-format', 'json', '--replay-cache-size', '3'], sandbox.env);
    try {
      const served: Sealed[] = [];
      for (let index = 0; index < 3; index += 1) {
        const sealed = await seal(router.url, QUESTION);
        expect(finalAnswer((await decode(await post(sealed), sealed.session)).ids)).toBe(ANSWER);
        served.push(sealed);
      }
      const fourth = await seal(router.url, QUESTION);
      const refused = await post(fourth);
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('1');
      refused.close();
      // Not forgotten: every request the store holds is still refused as a replay.
      for (const sealed of served) {
        const replayed = await post(sealed);
        expect(replayed.status).toBe(400);
        replayed.close();
      }
      expect(logLines(router).filter((line) => line['error'] === 'REPLAY_STORE_FULL')).toHaveLength(1);
    } finally {
      expect(await router.stop()).toBe(0);
    }
  }, 60_000);
});

describe('a log reader that goes away', () => {
  it('the router keeps serving after its stderr pipe closes (EPIPE), and its open stream ends normally', async () => {
    const router = await startRouterProcess(sandbox.dir, ['--engine-delay-ms', '20'], sandbox.env);
    try {
      const open = seal(router.url, QUESTION).then(async (sealed) => decode(await post(sealed), sealed.session));
      await waitFor(async () => (await streamsAndUploads(router.url)).active === 1, 'a stream to be open');
      router.child.stderr?.destroy();
      // The next log lines hit the closed pipe.
      for (let round = 0; round < 5; round += 1) await legit(router.url);
      const answer = await open;
      expect(answer.final).toMatchObject({ t: 'end', finish: 'stop' });
      expect(router.child.exitCode).toBeNull();
      expect((await health(router.url))['status']).toBe('ok');
    } finally {
      expect(await router.stop()).toBe(0);
    }
  }, 60_000);
});

describe('upstream faults the router must not relay', () => {
  it('an upstream redirect is not followed: the conversation never reaches the redirect target', async () => {
    const elsewhere = await startFakeUpstream([{ path: '/v1/completions', body: vllmBody([1000, 200002]) }]);
    const upstream = await startFakeUpstream([
      { path: '/v1/completions', status: 307, headers: { location: `${elsewhere.url}/v1/completions` }, body: '' },
    ]);
    const router = await startRouterProcess(sandbox.dir, ['--upstream', upstream.url, '--upstream-kind', 'vllm'], sandbox.env);
    try {
      const sealed = await seal(router.url, QUESTION);
      const answer = await decode(await post(sealed), sealed.session);
      expect(answer.final).toMatchObject({ t: 'error', code: 'upstream_http_status' });
      expect(elsewhere.requests).toHaveLength(0);
    } finally {
      expect(await router.stop()).toBe(0);
    }
  }, 60_000);

  it('output past max_tokens is not relayed: the stream ends at max_tokens with finish length and the upstream is closed', async () => {
    const upstream = await startFakeUpstream([{ path: '/v1/completions', body: longUpstreamBody(5_000), chunking: 'event', delayMs: 1 }]);
    const router = await startRouterProcess(sandbox.dir, ['--upstream', upstream.url, '--upstream-kind', 'vllm'], sandbox.env);
    try {
      const sealed = await seal(router.url, QUESTION, { maxTokens: 64 });
      const answer = await decode(await post(sealed), sealed.session);
      expect(answer.ids).toHaveLength(64);
      expect(answer.final).toMatchObject({ t: 'end', finish: 'length', usage: { completion_tokens: 64 } });
      await waitFor(() => upstream.openConnections() === 0, 'the upstream connection to close');
    } finally {
      expect(await router.stop()).toBe(0);
    }
  }, 60_000);

  it('an out-of-vocabulary id from the upstream is a bad-stream error, not internal', async () => {
    const upstream = await startFakeUpstream([{ path: '/v1/completions', body: vllmBody([1000, 9_999_999, 200002]) }]);
    const router = await startRouterProcess(sandbox.dir, ['--upstream', upstream.url, '--upstream-kind', 'vllm'], sandbox.env);
    try {
      const sealed = await seal(router.url, QUESTION);
      const answer = await decode(await post(sealed), sealed.session);
      expect(answer.final).toMatchObject({ t: 'error', code: 'upstream_bad_stream' });
    } finally {
      expect(await router.stop()).toBe(0);
    }
  }, 60_000);
});

describe('refusals', () => {
  let router: RouterProcess;
  routerForBlock(['--log-format', 'json'], (started) => (router = started));

  it('a refused request whose body never ends gets Connection: close and its socket is destroyed soon', async () => {
    const socket = await openSocket(router.url);
    let received = '';
    socket.on('data', (part: Buffer) => (received += part.toString('latin1')));
    socket.on('error', () => {});
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write('POST /v1/harmony/stream HTTP/1.1\r\nHost: router\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n');
    let sent = 0;
    const chunk = Buffer.from(`10000\r\n${'x'.repeat(0x10000)}\r\n`);
    const pump = setInterval(() => {
      for (let i = 0; i < 16 && socket.writable; i += 1) {
        socket.write(chunk);
        sent += chunk.byteLength;
      }
    }, 5);
    const started = performance.now();
    await closed;
    clearInterval(pump);
    figure('refused endless upload', `socket destroyed after ${Math.round(performance.now() - started)} ms, ${Math.round(sent / 1024)} KiB written by the client`);
    expect(received).toMatch(/^HTTP\/1\.1 415 /);
    expect(received.toLowerCase()).toContain('connection: close');
  }, 60_000);

  it('request headers over 16 KB get 431', async () => {
    const response = await rawRequest(`${router.url}/healthz`, { method: 'GET', headers: { 'x-padding': 'a'.repeat(17 * 1024) } });
    expect(response.status).toBe(431);
  });

  it('422 for an unknown key id and for a known key id that does not open: same answer, and the router really opens both', async () => {
    const key = await routerKey(router.url);
    const stranger = await generateRouterKey({ keyId: (key.config.keyId + 1) % 256 });
    const foreign = await sealRequest(keyConfigOf(stranger), { kdfId: key.kdfId, aeadId: key.aeadId }, padToMultiple('{}', REQUEST_PADDING_BLOCK));
    const known = Buffer.from(foreign.body);
    known[0] = key.config.keyId; // the router's key id, but sealed to another key: does not open
    const answers = [];
    for (const body of [foreign.body, known]) {
      const response = await rawRequest(`${router.url}/v1/harmony/stream`, {
        method: 'POST',
        headers: { 'content-type': 'application/harmony-hpke-req' },
        body,
      });
      answers.push({ status: response.status, body: response.body });
    }
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0]?.status).toBe(422);
    // The log still tells the operator which was which.
    const codes = await waitFor(() => {
      const found = logLines(router)
        .filter((line) => line['status'] === 422)
        .map((line) => line['error']);
      return found.length >= 2 && found;
    }, 'two 422 log lines');
    expect(codes.slice(-2)).toEqual(['REQUEST_KEY_UNKNOWN', 'REQUEST_OPEN_FAILED']);
  });
});
