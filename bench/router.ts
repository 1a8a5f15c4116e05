/**
 * Router: (1) sealed-request opens per second on one core (the library's openRequest, hpke-js)
 * against raw X25519 + HKDF-SHA256 in node:crypto, in this process; (2) 200 concurrent echo
 * streams on loopback against a router child process (bench/router-child.ts): aggregate chunks/s
 * and p99 time to first chunk, encrypted against the same engine served unencrypted by the same
 * server code (startRouter's bench-only plaintextBaselinePath), rounds alternating.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Conversation, Message, Role } from '../src/harmony/index.js';
import {
  encodeRequestPlaintext,
  fromBase64Url,
  newRequestId,
  newSession,
  parseKeyConfigList,
  REQUEST_MEDIA_TYPE,
  sealRequest,
  selectKeyConfig,
  STREAM_PATH,
  type KeyConfig,
  type RequestPayload,
  type Session,
} from '../src/hpke/index.js';
import { decryptStream } from '../src/sse/index.js';
import { alternate, BENCH_DIST, figure, median, percentile, relativeIqr, syntheticText, timeChild, type BenchOptions, type Figure } from './lib.js';

/** `event: chunk` or `event: final` (14 characters each). */
const EVENT_LINE = /\nevent: (?:chunk|final)\n/g;

function payload(prompt: string): RequestPayload {
  return {
    v: 1,
    rid: newRequestId(),
    iat: Math.floor(Date.now() / 1000),
    model: 'gpt-oss-20b',
    conversation: Conversation.fromMessages([Message.fromRoleAndContent(Role.User, prompt)]).toDict() as { messages: unknown[] },
    params: { max_tokens: 4096, reasoning_effort: 'low' },
  };
}

async function opensPerSecond(opts: BenchOptions): Promise<Figure> {
  const count = opts.quick ? 32 : 320;
  const rounds = opts.quick ? 2 : 9;
  const args = ['--expose-gc', join(BENCH_DIST, 'opens-child.js'), String(count), String(rounds), String(opts.quick ? 1 : 2)];
  // One core for the event loop and WebCrypto's thread pool alike, where taskset exists.
  let pinned = existsSync('/usr/bin/taskset');
  let result = pinned ? await timeChild('/usr/bin/taskset', ['-c', '0', process.execPath, ...args], { captureStdout: true }) : undefined;
  if (result === undefined || result.code !== 0) {
    // No taskset, or CPU 0 is not ours to pin to: unpinned, and said so.
    pinned = false;
    result = await timeChild(process.execPath, args, { captureStdout: true });
  }
  if (result.code !== 0) throw new Error(`the opens child failed: ${result.stderr.trim()}`);
  const timed = JSON.parse(result.stdout) as { a: number[]; b: number[]; ratio: number };
  const openUs = median(timed.a);
  const rawUs = median(timed.b);
  opts.log(`router: openRequest ${openUs.toFixed(0)} µs, raw X25519+HKDF ${rawUs.toFixed(0)} µs${pinned ? ' (pinned to one CPU)' : ''}`);
  return figure({
    id: 'router.opens',
    label: 'router: sealed-request opens, one core',
    value: 1e6 / openUs,
    unit: 'opens/s',
    baselineLabel: 'node:crypto X25519 + HKDF',
    baseline: 1e6 / rawUs,
    baselineUnit: 'ops/s',
    ratio: timed.ratio,
    goal: { kind: 'none' },
    rounds: timed.a.length,
    detail: { openUs, rawUs, pinned, iqr: relativeIqr(timed.a) },
  });
}

interface RouterChild {
  readonly url: string;
  readonly keyConfig: KeyConfig;
  readonly baselinePath: string;
  readonly process: ChildProcess;
}

async function startChild(): Promise<RouterChild> {
  const child = spawn(process.execPath, [join(BENCH_DIST, 'router-child.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the router child exited (${code}) before it was ready`)));
  });
  const ready = JSON.parse(first) as { url: string; keyConfig: string; baselinePath: string };
  return {
    url: ready.url,
    keyConfig: selectKeyConfig(parseKeyConfigList(fromBase64Url(ready.keyConfig))).config,
    baselinePath: ready.baselinePath,
    process: child,
  };
}

interface StreamResult {
  readonly firstChunkMs: number;
  readonly chunks: number;
  readonly text: string;
}

/** POSTs one body, counts chunk events, notes when the first one arrived. */
function stream(agent: Agent, url: URL, body: Uint8Array, keepText: boolean): Promise<StreamResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let firstChunkMs = Number.NaN;
    let chunks = 0;
    let carry = '';
    let text = '';
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': REQUEST_MEDIA_TYPE, accept: 'text/event-stream', 'content-length': body.byteLength },
      },
      (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`the router answered ${res.statusCode}`));
          res.resume();
          return;
        }
        res.setEncoding('utf8');
        res.on('data', (part: string) => {
          if (keepText) text += part;
          // Count chunk events, including one whose line is split across two reads: the carry is
          // one character shorter than the pattern, so no event is counted twice.
          const scan = carry + part;
          EVENT_LINE.lastIndex = 0;
          while (EVENT_LINE.exec(scan) !== null) chunks += 1;
          if (chunks > 0 && Number.isNaN(firstChunkMs)) firstChunkMs = performance.now() - started;
          carry = scan.slice(-13);
        });
        res.on('end', () => resolve({ firstChunkMs, chunks, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function* once(text: string): AsyncGenerator<string> {
  yield text;
}

interface Round {
  readonly chunksPerSecond: number;
  readonly p99FirstChunkMs: number;
  readonly chunks: number;
}

async function streamsBench(opts: BenchOptions): Promise<Figure[]> {
  const concurrency = opts.quick ? 20 : 200;
  const child = await startChild();
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  // ~200 words, echoed twice by the echo engine: some 650 tokens (one chunk each) per stream, an
  // answer of ordinary length, so the per-request HPKE open is not the whole story.
  const prompt = syntheticText(200, 5).replace(/\s+/g, ' ');
  let checked = false;
  try {
    const round = async (encrypted: boolean): Promise<Round> => {
      const bodies: Uint8Array[] = [];
      let sessions: Session[] = [];
      for (let i = 0; i < concurrency; i += 1) {
        const p = payload(prompt);
        const plaintext = encodeRequestPlaintext(p);
        if (!encrypted) {
          bodies.push(plaintext);
          continue;
        }
        const sealed = await sealRequest(child.keyConfig, { kdfId: 1, aeadId: 1 }, plaintext);
        bodies.push(sealed.body);
        if (!checked && i === 0) {
          sessions = [newSession({ router: child.url, config: child.keyConfig, header: sealed.header, enc: sealed.enc, secret: sealed.secret, rid: p.rid, iat: p.iat })];
        }
      }
      const url = new URL(encrypted ? STREAM_PATH : child.baselinePath, child.url);
      const started = performance.now();
      const results = await Promise.all(bodies.map((body, i) => stream(agent, url, body, i === 0 && sessions.length > 0)));
      const seconds = (performance.now() - started) / 1000;
      const chunks = results.reduce((sum, r) => sum + r.chunks, 0);
      if (results.some((r) => r.chunks < 10 || Number.isNaN(r.firstChunkMs))) throw new Error('a stream ended early');
      if (sessions.length > 0) {
        // Once: the encrypted streams are real harmony-hpke/1 responses that decrypt and verify.
        let verified = 0;
        for await (const event of decryptStream(once(results[0]!.text), sessions[0]!)) if (event.type === 'chunk') verified += 1;
        if (verified !== results[0]!.chunks) throw new Error(`verified ${verified} of ${results[0]!.chunks} chunks`);
        checked = true;
      }
      return { chunksPerSecond: chunks / seconds, p99FirstChunkMs: percentile(results.map((r) => r.firstChunkMs), 99), chunks: chunks / concurrency };
    };
    const rounds = opts.quick ? 2 : 4;
    const encryptedRounds: Round[] = [];
    const plainRounds: Round[] = [];
    const throughput = await alternate(
      rounds,
      1,
      async () => {
        const r = await round(true);
        encryptedRounds.push(r);
        return 1 / r.chunksPerSecond;
      },
      async () => {
        const r = await round(false);
        plainRounds.push(r);
        return 1 / r.chunksPerSecond;
      },
    );
    // Drop the warm-up round of each.
    encryptedRounds.shift();
    plainRounds.shift();
    const ttfcRatios = encryptedRounds.map((r, i) => r.p99FirstChunkMs / plainRounds[i]!.p99FirstChunkMs);
    const encRate = median(encryptedRounds.map((r) => r.chunksPerSecond));
    const plainRate = median(plainRounds.map((r) => r.chunksPerSecond));
    const encTtfc = median(encryptedRounds.map((r) => r.p99FirstChunkMs));
    const plainTtfc = median(plainRounds.map((r) => r.p99FirstChunkMs));
    const perStream = encryptedRounds[0]?.chunks ?? 0;
    opts.log(`router: ${concurrency} streams of ${perStream.toFixed(0)} chunks: ${encRate.toFixed(0)} vs ${plainRate.toFixed(0)} chunks/s, p99 first chunk ${encTtfc.toFixed(0)} vs ${plainTtfc.toFixed(0)} ms`);
    return [
      figure({
        id: 'router.streams-throughput',
        label: `router: ${concurrency} concurrent echo streams`,
        value: encRate,
        unit: 'chunks/s',
        baselineLabel: 'same engine, unencrypted',
        baseline: plainRate,
        baselineUnit: 'chunks/s',
        ratio: throughput.ratio,
        goal: { kind: 'ratio-max', value: 1.5 },
        rounds: encryptedRounds.length,
        detail: { concurrency, chunksPerStream: perStream },
      }),
      figure({
        id: 'router.streams-ttfc-p99',
        label: `router: p99 time to first chunk, ${concurrency} streams`,
        value: encTtfc,
        unit: 'ms',
        baselineLabel: 'same engine, unencrypted',
        baseline: plainTtfc,
        baselineUnit: 'ms',
        ratio: median(ttfcRatios),
        goal: { kind: 'ratio-max', value: 1.5 },
        rounds: encryptedRounds.length,
      }),
    ];
  } finally {
    agent.destroy();
    child.process.stdin?.end();
    child.process.kill('SIGTERM');
  }
}

export async function benchRouter(opts: BenchOptions): Promise<Figure[]> {
  return [await opensPerSecond(opts), ...(await streamsBench(opts))];
}
