/**
 * `npm run bench:hostile`: the figures of docs/reliability.md's "Hostile clients" section (issue 11),
 * against real `harmony-hpke serve` children on 127.0.0.1. For each attack, legitimate requests
 * (seal, POST, decode the whole encrypted answer) are timed on the same router right before the
 * attack (idle) and during it, alternating nothing else; the table gives p50, p99 and the p99
 * ratio attack/idle. Also: how long 256 half-closed requests keep slots, and 422 timings for an
 * unknown and a known key id. Loopback only, bounded in time; prints a table and writes
 * bench/hostile-results.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAll, send } from '../src/client/http.js';
import { chooseKey, fetchKeyConfigs, type SelectedKey } from '../src/client/keys.js';
import { buildConversation, buildPayload, sealForRouter } from '../src/client/request.js';
import { decryptStream } from '../src/sse/index.js';
import {
  generateRouterKey,
  keyConfigOf,
  sealRequest,
} from '../src/hpke/index.js';
import { padToMultiple, REQUEST_PADDING_BLOCK } from '../src/hpke/request.js';
import { ROOT } from './lib.js';

const LEGIT_ROUNDS = Number(process.env['HOSTILE_ROUNDS'] ?? 200);
/** Another build's launcher (a baseline checkout's bin/harmony-hpke.js), to run the same attacks against it side by side. */
const ROUTER_CLI = process.env['HOSTILE_ROUTER_CLI'] ?? join(ROOT, 'bin', 'harmony-hpke.js');
/** Node flags for the router children, e.g. `--cpu-prof --cpu-prof-dir=DIR` to profile them under attack. */
const ROUTER_NODE_ARGS = (process.env['HOSTILE_ROUTER_NODE_ARGS'] ?? '').split(' ').filter((arg) => arg !== '');

interface Router {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

async function startRouter(args: readonly string[] = []): Promise<Router> {
  const dir = mkdtempSync(join(tmpdir(), 'hostile-bench-'));
  const ready = join(dir, 'ready.json');
  const child = spawn(process.execPath, [...ROUTER_NODE_ARGS, ROUTER_CLI, 'serve', '--port', '0', '--ready-file', ready, '--quiet', ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 30_000;
  while (!existsSync(ready)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('router did not start');
    await sleep(25);
  }
  const { url } = JSON.parse(readFileSync(ready, 'utf8')) as { url: string };
  return {
    url,
    child,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function keyOf(url: string): Promise<SelectedKey> {
  return chooseKey((await fetchKeyConfigs(url)).configs, undefined);
}

/** One legitimate exchange, whole answer decoded; its latency in ms (throws if refused or wrong). */
async function legit(url: string, key: SelectedKey): Promise<number> {
  const started = performance.now();
  const payload = buildPayload(await buildConversation({ prompt: 'What is 2+2?' }), { model: 'gpt-oss-20b', maxTokens: 512, reasoningEffort: 'low' });
  const sealed = await sealForRouter(url, key, payload);
  const response = await send({ method: 'POST', url: sealed.url, headers: sealed.headers, body: sealed.body, timeouts: { totalMs: 60_000 } });
  if (response.status !== 200) throw new Error(`legitimate request refused with ${response.status}`);
  let ended = false;
  for await (const event of decryptStream(response.body, sealed.session)) {
    if (event.type === 'chunk' && event.message.t === 'end' && event.message.finish === 'stop') ended = true;
  }
  if (!ended) throw new Error('legitimate request did not end with stop');
  return performance.now() - started;
}

async function legitRounds(url: string, key: SelectedKey, rounds = LEGIT_ROUNDS): Promise<number[]> {
  const latencies: number[] = [];
  for (let round = 0; round < rounds; round += 1) latencies.push(await legit(url, key));
  return latencies;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function openSocket(url: string): Promise<Socket> {
  const { port, hostname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

function head(length: number): string {
  return `POST /v1/harmony/stream HTTP/1.1\r\nHost: router\r\nContent-Type: application/harmony-hpke-req\r\nContent-Length: ${length}\r\n\r\n`;
}

async function health(url: string): Promise<Record<string, number>> {
  const response = await send({ method: 'GET', url: `${url}/healthz`, timeouts: { totalMs: 10_000 } });
  return JSON.parse(Buffer.from(await readAll(response.body, 65_536)).toString('utf8')) as Record<string, number>;
}

interface Row {
  readonly attack: string;
  readonly idleP50: number;
  readonly idleP99: number;
  readonly attackP50: number;
  readonly attackP99: number;
  readonly ratio: number;
  readonly note: string;
}

async function underAttack(name: string, router: Router, attack: () => Promise<{ stop(): Promise<string> }>): Promise<Row> {
  const key = await keyOf(router.url);
  await legitRounds(router.url, key, 5); // warm-up
  const idle = await legitRounds(router.url, key);
  const running = await attack();
  const during = await legitRounds(router.url, key);
  const note = await running.stop();
  const row = {
    attack: name,
    idleP50: percentile(idle, 50),
    idleP99: percentile(idle, 99),
    attackP50: percentile(during, 50),
    attackP99: percentile(during, 99),
    ratio: percentile(during, 99) / percentile(idle, 99),
    note,
  };
  process.stderr.write(`  ${name}: idle p99 ${row.idleP99.toFixed(0)} ms, attack p99 ${row.attackP99.toFixed(0)} ms (x${row.ratio.toFixed(2)}); ${note}\n`);
  return row;
}

/**
 * 256 connections that each send one byte every 5 s of a 4 KiB body (the red team's attack);
 * with `reconnect`, each opens a new one as soon as the router cuts it (the hardening test's
 * attack). Run in its own process (`hostile.js --slow-attacker URL [reconnect]`), so that its
 * sockets do not compete with the measured requests for this process's event loop. Prints
 * `cut N` lines.
 */
async function slowAttacker(url: string, reconnect: boolean): Promise<void> {
  let cut = 0;
  const uploader = async (): Promise<void> => {
    do {
      const socket = await openSocket(url).catch(() => undefined);
      if (socket === undefined) continue;
      socket.on('error', () => {});
      socket.resume();
      socket.write(head(4096));
      const ticker = setInterval(() => socket.writable && socket.write(Buffer.alloc(1)), 5_000);
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
      clearInterval(ticker);
      cut += 1;
    } while (reconnect);
  };
  const report = setInterval(() => process.stdout.write(`cut ${cut}\n`), 200);
  report.unref();
  await Promise.all(Array.from({ length: 256 }, () => uploader()));
  process.stdout.write(`cut ${cut}\n`);
  await new Promise(() => {});
}

async function slowUploads(url: string, reconnect: boolean): Promise<{ stop(): Promise<string> }> {
  const child = spawn(process.execPath, [new URL(import.meta.url).pathname, '--slow-attacker', url, reconnect ? 'reconnect' : 'once'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let cut = 0;
  child.stdout?.on('data', (part: Buffer) => {
    const last = part.toString().trim().split('\n').at(-1)?.match(/^cut (\d+)$/);
    if (last) cut = Number(last[1]);
  });
  for (let waited = 0; waited < 30_000; waited += 50) {
    if (((await health(url))['uploads'] ?? 0) >= 64) break;
    await sleep(50);
  }
  return {
    stop: async () => {
      const seen = cut;
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      return reconnect ? `${seen} slow uploads cut by the router (each reconnected at once)` : `${seen} of 256 slow uploads cut by the router`;
    },
  };
}

/**
 * The heavy request loop, run in its own process (`hostile.js --heavy-attacker URL`): sealing 900 KB
 * in the measuring process would block its own event loop and be counted against the router.
 * Prints one line per answer: the HTTP status.
 */
async function heavyAttacker(url: string): Promise<void> {
  const key = await keyOf(url);
  for (;;) {
    const plaintext = {
      v: 1,
      rid: Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64url'),
      iat: Math.floor(Date.now() / 1000),
      model: 'gpt-oss-20b',
      params: { max_tokens: 64 },
      conversation: { messages: [{ role: 'user', content: '中'.repeat(300_000) }, { role: 'user', content: 'What is 2+2?' }] },
    };
    const sealed = await sealRequest(key.config, { kdfId: key.kdfId, aeadId: key.aeadId }, padToMultiple(JSON.stringify(plaintext), REQUEST_PADDING_BLOCK));
    const response = await send({
      method: 'POST',
      url: `${url}/v1/harmony/stream`,
      headers: { 'content-type': 'application/harmony-hpke-req' },
      body: sealed.body,
      timeouts: { totalMs: 300_000 },
    });
    await readAll(response.body, 1 << 20).catch(() => undefined);
    process.stdout.write(`${response.status}\n`);
  }
}

/** A 900 KB space-free prompt (300,000 CJK characters), sent again as soon as each one ends, from another process. */
async function adversarialPrompt(url: string): Promise<{ stop(): Promise<string> }> {
  const child = spawn(process.execPath, [new URL(import.meta.url).pathname, '--heavy-attacker', url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let answers = '';
  child.stdout?.on('data', (part: Buffer) => (answers += part.toString()));
  // Wait until the first heavy request is being worked on.
  for (let waited = 0; waited < 30_000; waited += 50) {
    if (((await health(url))['active_streams'] ?? 0) > 0) break;
    await sleep(50);
  }
  return {
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      const statuses = answers.split('\n').filter((line) => line !== '');
      return `${statuses.length} heavy prompts answered while measuring, one always in flight (statuses ${[...new Set(statuses)].join(', ') || 'none yet'}; each ends with an error chunk)`;
    },
  };
}

async function idleConnections(url: string): Promise<{ stop(): Promise<string> }> {
  const sockets: Socket[] = [];
  for (let opened = 0; opened < 10_000; opened += 500) {
    sockets.push(...(await Promise.all(Array.from({ length: 500 }, () => openSocket(url)))));
  }
  sockets.forEach((socket) => socket.on('error', () => {}));
  const held = (await health(url))['connections'];
  return {
    stop: async () => {
      sockets.forEach((socket) => socket.destroy());
      return `10,000 idle connections open (router held ${held})`;
    },
  };
}

async function halfClosed(url: string): Promise<string> {
  const key = await keyOf(url);
  const bodies = await Promise.all(
    Array.from({ length: 256 }, async () => {
      const payload = buildPayload(await buildConversation({ prompt: 'What is 2+2?' }), { model: 'gpt-oss-20b', maxTokens: 512, reasoningEffort: 'low' });
      return (await sealForRouter(url, key, payload)).body;
    }),
  );
  const sockets = await Promise.all(bodies.map(() => openSocket(url)));
  const started = performance.now();
  sockets.forEach((socket, index) => {
    socket.on('error', () => {});
    socket.resume();
    socket.end(Buffer.concat([Buffer.from(head(bodies[index]!.byteLength)), Buffer.from(bodies[index]!)]));
  });
  for (;;) {
    const state = await health(url);
    if (state['active_streams'] === 0 && state['uploads'] === 0) break;
    await sleep(10);
  }
  const ms = performance.now() - started;
  sockets.forEach((socket) => socket.destroy());
  return `${ms.toFixed(0)} ms from the last socket.end() to 0 slots and 0 uploads`;
}

async function timing422(url: string): Promise<string> {
  const key = await keyOf(url);
  const stranger = await generateRouterKey({ keyId: (key.config.keyId + 1) % 256 });
  const foreign = await sealRequest(keyConfigOf(stranger), { kdfId: key.kdfId, aeadId: key.aeadId }, padToMultiple('{}', REQUEST_PADDING_BLOCK));
  const known = Buffer.from(foreign.body);
  known[0] = key.config.keyId;
  const times: Record<'unknown' | 'known', number[]> = { unknown: [], known: [] };
  for (let round = 0; round < 400; round += 1) {
    for (const [name, body] of [['unknown', foreign.body], ['known', known]] as const) {
      const started = performance.now();
      const response = await send({ method: 'POST', url: `${url}/v1/harmony/stream`, headers: { 'content-type': 'application/harmony-hpke-req' }, body, timeouts: { totalMs: 10_000 } });
      await readAll(response.body, 65_536);
      if (response.status !== 422) throw new Error(`expected 422, got ${response.status}`);
      times[name].push(performance.now() - started);
    }
  }
  const median = (values: number[]) => percentile(values, 50);
  return `422 median: unknown key id ${median(times.unknown).toFixed(2)} ms, known key id ${median(times.known).toFixed(2)} ms (ratio ${(median(times.unknown) / median(times.known)).toFixed(2)}; 400 each, alternating)`;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--heavy-attacker') return heavyAttacker(process.argv[3]!);
  if (process.argv[2] === '--slow-attacker') return slowAttacker(process.argv[3]!, process.argv[4] === 'reconnect');
  const rows: Row[] = [];
  const notes: string[] = [];
  const only = process.argv[2];
  const scenarios: [string, () => Promise<void>][] = [
    ['half-closed', async () => {
      const router = await startRouter(['--engine-delay-ms', '50']);
      notes.push(`256 half-closed requests: ${await halfClosed(router.url)}`);
      await router.stop();
    }],
    ['slow-uploads', async () => {
      const router = await startRouter();
      rows.push(await underAttack('256 slow uploads (1 byte / 5 s)', router, () => slowUploads(router.url, false)));
      await router.stop();
    }],
    ['slow-uploads-reconnect', async () => {
      const router = await startRouter();
      rows.push(await underAttack('256 slow uploads, reconnecting when cut', router, () => slowUploads(router.url, true)));
      await router.stop();
    }],
    ['adversarial-prompt', async () => {
      const router = await startRouter();
      rows.push(await underAttack('900 KB space-free prompt, back to back', router, () => adversarialPrompt(router.url)));
      await router.stop();
    }],
    ['idle-connections', async () => {
      const router = await startRouter();
      rows.push(await underAttack('10,000 idle connections', router, () => idleConnections(router.url)));
      await router.stop();
    }],
    ['422', async () => {
      const router = await startRouter();
      notes.push(await timing422(router.url));
      await router.stop();
    }],
  ];
  for (const [name, run] of scenarios) {
    if (only !== undefined && only !== name) continue;
    process.stderr.write(`hostile: ${name}...\n`);
    await run();
  }
  const lines = [
    '| attack | idle p50 / p99 | during p50 / p99 | p99 ratio |',
    '|---|---|---|---|',
    ...rows.map((row) => `| ${row.attack} | ${row.idleP50.toFixed(0)} / ${row.idleP99.toFixed(0)} ms | ${row.attackP50.toFixed(0)} / ${row.attackP99.toFixed(0)} ms | ${row.ratio.toFixed(2)} |`),
    '',
    ...rows.map((row) => `- ${row.attack}: ${row.note}`),
    ...notes.map((note) => `- ${note}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  writeFileSync(join(ROOT, 'bench', 'hostile-results.json'), `${JSON.stringify({ rows, notes, rounds: LEGIT_ROUNDS }, null, 2)}\n`);
}

void main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`hostile bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
