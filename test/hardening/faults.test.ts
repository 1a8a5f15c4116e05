/**
 * Faults (issue 6), as the client sees them, with real router processes and a fake upstream on
 * loopback: upstream refusals, stalls, deaths, garbage and a character cut in half end with the
 * router's authenticated error chunk (exit 8) while the router keeps serving other streams; a
 * client that goes away cancels the upstream call and frees its slot; a router killed mid-stream
 * is a truncation (exit 7), never a success; replays are refused and a second response for one
 * session is detected; requests sealed to a retired key are served in the grace period, then
 * refused with 422 and re-sealed once by `ask`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntegrityError } from '../../src/core/errors.js';
import { loadHarmonyEncoding } from '../../src/harmony/index.js';
import { parseKeyConfigList, type Session } from '../../src/hpke/index.js';
import { decryptStream } from '../../src/sse/index.js';
import { send, sendWithRetry } from '../../src/client/http.js';
import { chooseKey } from '../../src/client/keys.js';
import { buildConversation, buildPayload, parseEnvelope, sealForRouter } from '../../src/client/request.js';
import { readSession } from '../../src/client/session-store.js';
import { collect, makeSandbox, spawnCli, type CliResult, runCliInProcess } from '../helpers/cli.js';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js';
import { startRouterProcess, type RouterProcess } from '../helpers/router-process.js';
import { errorCode, vllmBody, waitFor } from './helpers.js';

const sandbox = makeSandbox();
const encoding = loadHarmonyEncoding('HarmonyGptOss');
const enc = (text: string) => encoding.encode(text, { allowedSpecial: 'all' });
const ANSWER = enc('<|channel|>analysis<|message|>User asks.<|end|><|start|>assistant<|channel|>final<|message|>4 is the answer.<|return|>');
const routers: RouterProcess[] = [];
const injected: Record<string, number> = {};
const note = (what: string) => {
  injected[what] = (injected[what] ?? 0) + 1;
};

async function router(args: string[]): Promise<RouterProcess> {
  const started = await startRouterProcess(sandbox.dir, ['--render-workers', '0', ...args], sandbox.env);
  routers.push(started);
  return started;
}

/** Writes the SSE events with `delayMs` between them until done or the client is gone. */
function trickle(res: ServerResponse, events: readonly string[], delayMs: number, after?: () => void): void {
  let at = 0;
  const next = () => {
    if (res.destroyed) return;
    if (at >= events.length) {
      if (after) after();
      else res.end();
      return;
    }
    res.write(events[at]!);
    at += 1;
    setTimeout(next, delayMs);
  };
  next();
}

/** The fake model: what it does is chosen by a `case:NAME` marker in the prompt. */
function behave(res: ServerResponse, name: string): void {
  const sse = { 'content-type': 'text/event-stream' };
  const events = vllmBody(ANSWER);
  switch (name) {
    case 'refuse-500':
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"CUDA out of memory"}}');
      return;
    case 'refuse-503':
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' });
      res.end('overloaded');
      return;
    case 'stall':
      res.writeHead(200, sse);
      for (const event of events.slice(0, 4)) res.write(event);
      return; // never another byte: the router's --upstream-timeout (5 s) ends it
    case 'die':
      res.writeHead(200, sse);
      for (const event of events.slice(0, 6)) res.write(event);
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    case 'garbage':
      res.writeHead(200, sse);
      res.write(events[0]!);
      res.end('<html><body>502 Bad Gateway</body></html>\n\n\u0000\u00ff\n');
      return;
    case 'cut-mid-character': {
      // The body ends inside a multi-byte character (a text field's "東" cut after one byte).
      res.writeHead(200, sse);
      for (const event of events.slice(0, 5)) res.write(event);
      const event = Buffer.from('data: {"choices":[{"index":0,"text":"東","token_ids":[1],"finish_reason":null}]}\n\n');
      res.end(event.subarray(0, event.indexOf(Buffer.from('東')) + 1));
      return;
    }
    case 'partial-character-at-the-end': {
      // Token ids whose bytes end inside a character, then a length finish (no closing token).
      const ids = [...enc('<|channel|>final<|message|>4 '), ...encoding.encodeOrdinary('🦙').slice(0, 1)];
      res.writeHead(200, sse);
      res.end(vllmBody(ids, 'length').join(''));
      return;
    }
    case 'slow':
      res.writeHead(200, sse);
      trickle(res, events, 25);
      return;
    case 'endless':
      res.writeHead(200, sse);
      trickle(res, Array.from({ length: 10_000 }, () => events[5]!), 50);
      return;
    default:
      res.writeHead(200, sse);
      res.end(events.join(''));
  }
}

async function startUpstream(): Promise<FakeUpstream> {
  return startFakeUpstream([
    {
      path: '/v1/completions',
      handler: (_req, res, request) => {
        const prompt = encoding.decode((request.json as { prompt: number[] }).prompt);
        behave(res, /case:([a-z0-9-]+)/.exec(prompt)?.[1] ?? 'ok');
      },
    },
  ]);
}

let upstream: FakeUpstream;
let relay: RouterProcess;

beforeAll(async () => {
  upstream = await startUpstream();
  relay = await router(['--upstream', upstream.url, '--upstream-kind', 'vllm', '--upstream-timeout', '5s']);
}, 60_000);

afterAll(async () => {
  console.log(`[hardening] faults injected: ${JSON.stringify(injected)}`);
  await Promise.all(routers.map((r) => r.stop()));
  await upstream?.close();
  sandbox.cleanup();
});

const ask = (url: string, prompt: string, extra: string[] = []): Promise<CliResult> =>
  runCliInProcess(['ask', prompt, '--router', url, ...extra], { env: sandbox.env, timeoutMs: 30_000 });

async function health(url: string): Promise<{ active_streams: number }> {
  const response = await fetch(`${url}/healthz`);
  return (await response.json()) as { active_streams: number };
}

describe('upstream faults', () => {
  it('refusals, a stall, a death, garbage and a cut character: exit 8 with the router code; other streams are unharmed', async () => {
    const faults: Array<[string, string]> = [
      ['refuse-500', 'upstream_http_status'],
      ['refuse-503', 'upstream_http_status'],
      ['stall', 'upstream_timeout'],
      ['die', 'upstream_truncated'],
      ['garbage', 'upstream_bad_stream'],
      ['cut-mid-character', 'upstream_truncated'],
    ];
    // A slow healthy stream runs through all of them on the same router.
    const healthy = ask(relay.url, 'case:slow');
    const results = await Promise.all(faults.map(([name]) => ask(relay.url, `case:${name}`)));
    results.forEach((result, index) => {
      const [name, code] = faults[index]!;
      note(`upstream ${name}`);
      expect(result.code, `${name}: ${result.stderr}`).toBe(8);
      expect(errorCode(result.stderr), name).toBe('ROUTER_ERROR');
      expect(result.stderr, name).toContain(`(${code})`);
      expect(result.stderr, name).not.toContain('CUDA'); // the upstream body never reaches the client
    });
    const slow = await healthy;
    expect(slow.code, slow.stderr).toBe(0);
    expect(slow.stdout).toBe('4 is the answer.\n');
    const after = await ask(relay.url, 'case:ok');
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toBe('4 is the answer.\n');
    expect((await health(relay.url)).active_streams).toBe(0);
  });

  it('an unreachable upstream: exit 8 (upstream_unreachable), and the router stays up', async () => {
    const closed = await startFakeUpstream([]);
    const url = closed.url;
    await closed.close();
    const orphan = await router(['--upstream', url, '--upstream-kind', 'vllm', '--upstream-timeout', '5s']);
    for (let i = 0; i < 2; i += 1) {
      note('upstream unreachable');
      const result = await ask(orphan.url, 'hello');
      expect(result.code, result.stderr).toBe(8);
      expect(result.stderr).toContain('(upstream_unreachable)');
    }
    expect((await health(orphan.url)).active_streams).toBe(0);
  });

  it('token ids ending inside a character: the answer is verified and shows U+FFFD, nothing crashes', async () => {
    note('upstream partial character at the end');
    const result = await ask(relay.url, 'case:partial-character-at-the-end', ['--json']);
    expect(result.code, result.stderr).toBe(0);
    const records = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.at(-1)).toMatchObject({ type: 'done', finish: 'length', verified: true });
    // The cut character becomes U+FFFD in the message (the streamed answer stops before it).
    expect(records.filter((r) => r.type === 'message').map((r) => [r.channel, r.text])).toEqual([['final', '4 \uFFFD']]);
    expect((records.at(-1) as { answer: string }).answer).toBe('4 ');
  });
});

describe('a client that goes away', () => {
  it('cancels the upstream call (its connection closes) and frees the slot', async () => {
    const own = await startUpstream();
    const r = await router(['--upstream', own.url, '--upstream-kind', 'vllm']);
    const child = spawnCli(['ask', 'case:endless', '--router', r.url, '--raw'], { env: sandbox.env });
    let seen = '';
    const started = new Promise<void>((resolve) => {
      child.stdout?.on('data', (part: Buffer) => {
        seen += part.toString();
        if (seen.includes('Chunk 3:')) resolve();
      });
    });
    const done = collect(child, { timeoutMs: 30_000 });
    await started;
    expect(own.openConnections()).toBe(1);
    expect((await health(r.url)).active_streams).toBe(1);
    child.kill('SIGKILL');
    note('client SIGKILL mid-stream');
    await done;
    await waitFor(() => own.openConnections() === 0, 'the upstream connection to close');
    await waitFor(async () => (await health(r.url)).active_streams === 0, 'the slot to be freed');
    expect(own.requests).toHaveLength(1);
    const next = await ask(r.url, 'case:ok');
    expect(next.code, next.stderr).toBe(0);
    expect(r.stderr()).toMatch(/error=CLIENT_GONE/);
    await own.close();
  });
});

describe('a router killed mid-stream (SIGKILL)', () => {
  it.each([
    ['ask --raw, after chunk 1', 'ask', 1],
    ['ask --raw, after chunk 12', 'ask', 12],
    ['send, then decode of the saved stream', 'send', 6],
  ] as const)('%s: truncation (exit 7), never success', async (_name, how, after) => {
    const slow = await router(['--engine-delay-ms', '40']);
    note(`router SIGKILL mid-stream (${how})`);
    const session = join(sandbox.dir, `killed-${how}-${after}.session.json`);
    let child;
    let input: string | undefined;
    if (how === 'ask') {
      child = spawnCli(['ask', 'What is 2+2?', '--router', slow.url, '--raw'], { env: sandbox.env });
    } else {
      const created = await runCliInProcess(['create-request', 'What is 2+2?', '--router', slow.url, '--session', session], { env: sandbox.env });
      expect(created.code, created.stderr).toBe(0);
      input = created.stdout;
      child = spawnCli(['send', '-'], { env: sandbox.env, input });
    }
    let out = '';
    child.stdout?.on('data', (part: Buffer) => {
      out += part.toString();
      const chunks = how === 'ask' ? (out.match(/^Chunk \d+:/gm) ?? []).length : (out.match(/^event: chunk$/gm) ?? []).length;
      if (chunks >= after && slow.child.exitCode === null && slow.child.signalCode === null) slow.child.kill('SIGKILL');
    });
    const result = await collect(child, { timeoutMs: 30_000, ...(input !== undefined ? { input } : {}) });
    expect(slow.child.signalCode).toBe('SIGKILL');
    if (how === 'ask') {
      expect(result.code, result.stderr).toBe(7);
      expect(errorCode(result.stderr)).toBe('STREAM_TRUNCATED');
      expect(result.stdout).toMatch(/^Chunk 1: '<\|channel\|>'/);
    } else {
      // send copies what it got; the truncation shows when it is decoded.
      expect([0, 3]).toContain(result.code);
      const saved = join(sandbox.dir, `killed-${after}.sse`);
      writeFileSync(saved, result.stdoutBytes);
      const decoded = await runCliInProcess(['decode', saved, '--session', session], { env: sandbox.env });
      expect(decoded.code, decoded.stderr).toBe(7);
      expect(errorCode(decoded.stderr)).toBe('STREAM_TRUNCATED');
    }
  });
});

describe('replays and second responses', () => {
  it('the same sealed request sent 8 times at once is served exactly once', async () => {
    const created = await runCliInProcess(['create-request', 'What is 2+2?', '--router', relay.url, '--session', join(sandbox.dir, 'race.json')], { env: sandbox.env });
    expect(created.code, created.stderr).toBe(0);
    const envelope = parseEnvelope(created.stdout, 'envelope');
    const body = Buffer.from(envelope.body, 'base64');
    const attempts = await Promise.allSettled(
      Array.from({ length: 8 }, () =>
        sendWithRetry({ method: 'POST', url: envelope.url, headers: envelope.headers, body, timeouts: { connectMs: 10_000 } }, { retries: 0, baseDelayMs: 1, maxDelayMs: 1 }),
      ),
    );
    const served = attempts.filter((a) => a.status === 'fulfilled');
    const refused = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
    note('replays (concurrent)');
    expect(served).toHaveLength(1);
    expect(refused).toHaveLength(7);
    for (const r of refused) {
      expect(r.reason).toBeInstanceOf(IntegrityError);
      expect((r.reason as IntegrityError).code).toBe('REPLAY_REFUSED');
    }
    const session = await readSession(join(sandbox.dir, 'race.json'));
    const chunks = [];
    for await (const event of decryptStream((served[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof send>>>).value.body, session)) {
      if (event.type === 'chunk') chunks.push(event);
    }
    expect(chunks.at(-1)).toMatchObject({ final: true, message: { t: 'end', finish: 'stop' } });
  });

  it('a router that lost its replay cache answers again: the decoder reports the second response (exit 6)', async () => {
    const keyFile = join(sandbox.dir, 'replay.key');
    expect((await runCliInProcess(['keys', 'generate', '--out', keyFile, '--key-id', '5'], { env: sandbox.env })).code).toBe(0);
    const first = await router(['--key', keyFile]);
    const session = join(sandbox.dir, 'twice.session.json');
    const created = await runCliInProcess(['create-request', 'What is 2+2?', '--router', first.url, '--session', session], { env: sandbox.env });
    const envelopeFile = join(sandbox.dir, 'twice.envelope.json');
    writeFileSync(envelopeFile, created.stdout);
    const one = await runCliInProcess(['send', envelopeFile], { env: sandbox.env });
    expect(one.code, one.stderr).toBe(0);
    await first.stop();
    // The router restarts with the same key: its replay cache is empty (the envelope follows it).
    const restarted = await router(['--key', keyFile]);
    const envelope = JSON.parse(readFileSync(envelopeFile, 'utf8')) as { url: string };
    writeFileSync(envelopeFile, JSON.stringify({ ...envelope, url: `${restarted.url}/v1/harmony/stream` }));
    const two = await runCliInProcess(['send', envelopeFile], { env: sandbox.env });
    expect(two.code, two.stderr).toBe(0);
    expect(two.stdout).not.toBe(one.stdout);
    const [a, b] = ['one.sse', 'two.sse'].map((name) => join(sandbox.dir, name));
    writeFileSync(a!, one.stdoutBytes);
    writeFileSync(b!, two.stdoutBytes);
    note('second response for one session');
    const firstDecode = await runCliInProcess(['decode', a!, '--session', session], { env: sandbox.env });
    expect(firstDecode.code, firstDecode.stderr).toBe(0);
    expect(firstDecode.stdout).toBe('2 + 2 = 4.\n');
    const secondDecode = await runCliInProcess(['decode', b!, '--session', session], { env: sandbox.env });
    expect(secondDecode.code, secondDecode.stderr).toBe(6);
    expect(errorCode(secondDecode.stderr)).toBe('SECOND_RESPONSE');
    const again = await runCliInProcess(['decode', a!, '--session', session], { env: sandbox.env });
    expect(again.code, again.stderr).toBe(0);
  });
});

describe('key rotation under traffic', () => {
  it('streams sealed to the retired key are served in the grace period; then 422, and ask re-seals once', async () => {
    const oldKey = join(sandbox.dir, 'rot-old.key');
    const newKey = join(sandbox.dir, 'rot-new.key');
    const oldConfig = join(sandbox.dir, 'rot-old.keys');
    for (const [file, id] of [[oldKey, '1'], [newKey, '2']] as const) {
      expect((await runCliInProcess(['keys', 'generate', '--out', file, '--key-id', id], { env: sandbox.env })).code).toBe(0);
    }
    const before = await router(['--key', oldKey]);
    expect((await runCliInProcess(['keys', 'fetch', '--router', before.url, '--out', oldConfig], { env: sandbox.env })).code).toBe(0);
    await before.stop();

    const rotated = await router(['--key', newKey, '--key', oldKey, '--grace-period', '2s', '--engine-delay-ms', '60']);
    const selected = chooseKey(parseKeyConfigList(readFileSync(oldConfig)), undefined);
    expect(selected.config.keyId).toBe(1);
    const sealToOld = async () => {
      const payload = buildPayload(await buildConversation({ prompt: 'What is 2+2?' }), { model: 'gpt-oss-20b', maxTokens: 256, reasoningEffort: 'low' });
      const sealed = await sealForRouter(rotated.url, selected, payload);
      const response = await send({ method: 'POST', url: sealed.url, headers: sealed.headers, body: sealed.body, timeouts: { connectMs: 10_000 } });
      return { response, session: sealed.session };
    };
    // In flight inside the grace period: four streams sealed to the retired key.
    const inFlight = await Promise.all(Array.from({ length: 4 }, () => sealToOld()));
    expect(inFlight.map((f) => f.response.status)).toEqual([200, 200, 200, 200]);
    const answers = inFlight.map(async ({ response, session }: { response: Awaited<ReturnType<typeof send>>; session: Session }) => {
      let text = '';
      let finish: string | undefined;
      for await (const event of decryptStream(response.body, session)) {
        if (event.type === 'chunk' && event.message.t === 'tokens') text += event.message.text;
        if (event.type === 'chunk' && event.message.t === 'end') finish = event.message.finish;
      }
      return { text, finish };
    });
    // The grace period ends while they stream: new requests sealed to the old key get 422.
    await waitFor(async () => {
      const { response } = await sealToOld();
      if (response.status === 200) {
        response.close();
        return false;
      }
      return response.status === 422;
    }, 'the retired key to be refused');
    note('key rotation: grace expired under traffic');
    for (const answer of await Promise.all(answers)) {
      expect(answer.finish).toBe('stop');
      expect(answer.text).toContain('<|channel|>final<|message|>2 + 2 = 4.');
    }
    const asked = await ask(rotated.url, 'What is 2+2?', ['--keys', oldConfig]);
    expect(asked.code, asked.stderr).toBe(0);
    expect(asked.stdout).toBe('2 + 2 = 4.\n');
    expect(asked.stderr.match(/refetching its key config/g)).toHaveLength(1);
    const created = await runCliInProcess(['create-request', 'hi', '--router', rotated.url, '--keys', oldConfig], { env: sandbox.env });
    const sent = await runCliInProcess(['send'], { env: sandbox.env, input: created.stdout });
    expect(sent.code, sent.stderr).toBe(4);
    expect(errorCode(sent.stderr)).toBe('ROUTER_KEY_REJECTED');
  }, 60_000);
});
