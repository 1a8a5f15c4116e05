/**
 * Fleet figures (issue 16):
 *
 * - `auth.open`: what the API token check adds to opening a request. Each sample opens a batch of
 *   sealed requests (HPKE open + payload parse) and checks each one's token against a table of 100
 *   tokens (SHA-256 + 100 constant-time compares); the baseline opens the same batch without the
 *   check, in alternation.
 * - `replay.redis.p50` / `.p99`: latency of one RedisReplayStore.remember (SET NX PX) against a
 *   real redis-server on loopback, sequential; baseline: the in-memory store.
 * - `replay.redis.dead` / `.hung`: how long a call takes to fail when Redis is killed, or stopped
 *   (SIGSTOP) so that it accepts but never answers: the time to a 503 replay-store-unavailable.
 *
 * The Redis figures need redis-server on PATH (Debian package redis-server); without it they are
 * skipped with a message.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  AEAD_AES_128_GCM,
  encodeRequestPlaintext,
  generateRouterKey,
  KDF_HKDF_SHA256,
  keyConfigOf,
  newRequestId,
  openRequest,
  parseRequestPlaintext,
  sealRequest,
} from '../src/hpke/index.js';
import { ApiTokenTable, newApiToken, parseApiTokenFile, tokenFileLine } from '../src/router/auth/tokens.js';
import { MemoryReplayStore } from '../src/router/replay-cache.js';
import { RedisReplayStore } from '../src/router/replay-redis.js';
import { alternate, figure, freePort, median, percentile, relativeIqr, type BenchOptions, type Figure } from './lib.js';

async function benchAuth(opts: BenchOptions): Promise<Figure[]> {
  const key = await generateRouterKey({ keyId: 1 });
  const config = keyConfigOf(key);
  const tokens = Array.from({ length: 100 }, () => newApiToken());
  const table = new ApiTokenTable(parseApiTokenFile(tokens.map((token, i) => tokenFileLine(`t${i}`, token)).join('\n'), 'bench'));
  const batch = opts.quick ? 20 : 200;
  const bodies: Uint8Array[] = [];
  for (let i = 0; i < batch; i += 1) {
    const plaintext = encodeRequestPlaintext({
      v: 1,
      rid: newRequestId(),
      iat: Math.floor(Date.now() / 1000),
      model: 'gpt-oss-20b',
      conversation: { messages: [{ role: 'user', content: [{ type: 'text', text: 'What is 2+2?' }] }] },
      params: {},
      api_token: tokens[i % tokens.length]!,
    });
    bodies.push((await sealRequest(config, { kdfId: KDF_HKDF_SHA256, aeadId: AEAD_AES_128_GCM }, plaintext)).body);
  }
  const lookup = () => key;
  const run = async (check: boolean): Promise<number> => {
    const started = performance.now();
    for (const body of bodies) {
      const opened = await openRequest(body, lookup);
      const payload = parseRequestPlaintext(opened.plaintext);
      if (check && !table.authenticate(payload.api_token).ok) throw new Error('bench token refused');
    }
    return ((performance.now() - started) * 1000) / bodies.length;
  };
  const rounds = opts.quick ? 3 : 15;
  const timed = await alternate(rounds, 2, () => run(true), () => run(false));
  // The check alone, many times over: its own cost, free of the open's noise.
  const checks = opts.quick ? 2_000 : 50_000;
  const checkStarted = performance.now();
  for (let i = 0; i < checks; i += 1) table.authenticate(tokens[i % tokens.length]);
  const checkUs = ((performance.now() - checkStarted) * 1000) / checks;
  opts.log(`API token check alone: ${checkUs.toFixed(2)} us per request (${tokens.length} tokens)`);
  const withAuth = median(timed.a);
  const without = median(timed.b);
  opts.log(`open+auth ${withAuth.toFixed(1)} us/request, open alone ${without.toFixed(1)} us (auth adds ${(withAuth - without).toFixed(1)} us)`);
  return [
    figure({
      id: 'auth.open',
      label: 'open + API token check (100 tokens), per request',
      value: withAuth,
      unit: 'us',
      baselineLabel: 'open without the check',
      baseline: without,
      baselineUnit: 'us',
      ratio: timed.ratio,
      goal: { kind: 'ratio-max', value: 1.15 },
      rounds,
      detail: { batch, tokens: tokens.length, added_us: withAuth - without, iqr: relativeIqr(timed.a) },
    }),
    figure({
      id: 'auth.check',
      label: 'API token check alone (100 tokens), per request',
      value: checkUs,
      unit: 'us',
      baselineLabel: 'open without the check',
      baseline: without,
      baselineUnit: 'us',
      ratio: checkUs / without,
      goal: { kind: 'ratio-max', value: 0.05 },
      rounds: checks,
    }),
  ];
}

function findRedis(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':').concat(['/usr/bin', '/usr/sbin'])) {
    const candidate = `${dir}/redis-server`;
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

async function benchRedis(opts: BenchOptions): Promise<Figure[]> {
  const program = findRedis();
  if (!program) {
    opts.log('skipping the Redis replay-store figures: redis-server is not on PATH (apt-get install redis-server)');
    return [];
  }
  const port = await freePort();
  const start = () => spawn(program, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  let child = start();
  // Latency is measured with a generous call timeout (a loaded machine has a long tail; a timed-out
  // call is counted, not fatal); the failure figures use the router's default, 200 ms.
  const latencyStore = new RedisReplayStore({ url: `redis://127.0.0.1:${port}/0`, timeoutMs: 5_000 });
  const store = new RedisReplayStore({ url: `redis://127.0.0.1:${port}/0`, timeoutMs: 200 });
  try {
    for (let i = 0; i < 100 && !((await store.ping()) && (await latencyStore.ping())); i += 1) {
      await Promise.all([store.connect(), latencyStore.connect()]);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const n = opts.quick ? 500 : 5000;
    const memory = new MemoryReplayStore();
    const redisTimes: number[] = [];
    const memoryTimes: number[] = [];
    let timeouts = 0;
    for (let i = 0; i < 200; i += 1) await latencyStore.remember(`warm-${i}`, 60_000).catch(() => (timeouts += 1));
    for (let i = 0; i < n; i += 1) {
      const keyName = `${newRequestId()}${i}`;
      let started = performance.now();
      await latencyStore.remember(keyName, 600_000).catch(() => (timeouts += 1));
      redisTimes.push((performance.now() - started) * 1000);
      started = performance.now();
      memory.remember(keyName, 600_000);
      memoryTimes.push((performance.now() - started) * 1000);
    }
    const p50 = percentile(redisTimes, 50);
    const p99 = percentile(redisTimes, 99);
    const m50 = percentile(memoryTimes, 50);
    const m99 = percentile(memoryTimes, 99);
    opts.log(`Redis SET NX PX on loopback: p50 ${p50.toFixed(0)} us, p99 ${p99.toFixed(0)} us (memory p50 ${m50.toFixed(1)} us)`);

    // Hung Redis: accepts, never answers.
    child.kill('SIGSTOP');
    const hung: number[] = [];
    for (let i = 0; i < (opts.quick ? 3 : 10); i += 1) {
      const started = performance.now();
      await store.remember(`hung-${i}`, 60_000).then(
        () => {
          throw new Error('a stopped Redis answered');
        },
        () => {},
      );
      hung.push(performance.now() - started);
    }
    child.kill('SIGCONT');
    // Dead Redis: killed.
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    await new Promise((resolve) => setTimeout(resolve, 100));
    const dead: number[] = [];
    for (let i = 0; i < (opts.quick ? 3 : 20); i += 1) {
      const started = performance.now();
      await store.remember(`dead-${i}`, 60_000).then(
        () => {
          throw new Error('a dead Redis answered');
        },
        () => {},
      );
      dead.push(performance.now() - started);
    }
    // Recovery: started again on the same port, the client reconnects by itself.
    child = start();
    const restarted = performance.now();
    while (!(await store.ping())) await new Promise((resolve) => setTimeout(resolve, 20));
    const recoveryMs = performance.now() - restarted;
    opts.log(
      `hung Redis: fails in ${median(hung).toFixed(0)} ms (max ${Math.max(...hung).toFixed(0)}); dead: ${median(dead).toFixed(2)} ms; recovered ${recoveryMs.toFixed(0)} ms after restart`,
    );
    const common = { baselineUnit: 'us', rounds: n };
    return [
      figure({
        id: 'replay.redis.p50',
        label: 'Redis replay store remember, p50 (loopback)',
        value: p50,
        unit: 'us',
        baselineLabel: 'in-memory store p50',
        baseline: m50,
        ...common,
        ratio: p50 / m50,
        goal: { kind: 'value-max', value: 1000 },
        detail: { memory_p99_us: m99, calls_over_5s: timeouts },
      }),
      figure({
        id: 'replay.redis.p99',
        label: 'Redis replay store remember, p99 (loopback)',
        value: p99,
        unit: 'us',
        baselineLabel: 'in-memory store p99',
        baseline: m99,
        ...common,
        ratio: p99 / m99,
        goal: { kind: 'value-max', value: 5000 },
      }),
      figure({
        id: 'replay.redis.hung',
        label: 'hung Redis (SIGSTOP): time to fail a call (503)',
        value: Math.max(...hung),
        unit: 'ms',
        baselineLabel: 'the 200 ms call timeout',
        baseline: 200,
        baselineUnit: 'ms',
        ratio: Math.max(...hung) / 200,
        goal: { kind: 'value-max', value: 250 },
        rounds: hung.length,
        detail: { median_ms: median(hung), recovery_ms: recoveryMs },
      }),
      figure({
        id: 'replay.redis.dead',
        label: 'dead Redis (killed): time to fail a call (503)',
        value: Math.max(...dead),
        unit: 'ms',
        baselineLabel: 'the 200 ms call timeout',
        baseline: 200,
        baselineUnit: 'ms',
        ratio: Math.max(...dead) / 200,
        goal: { kind: 'value-max', value: 250 },
        rounds: dead.length,
        detail: { median_ms: median(dead) },
      }),
    ];
  } finally {
    await store.close();
    await latencyStore.close();
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
}

export async function benchFleet(opts: BenchOptions): Promise<Figure[]> {
  return [...(await benchAuth(opts)), ...(await benchRedis(opts))];
}
