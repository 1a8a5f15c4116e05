/**
 * Every documented exit code, produced by the CLI (in-process through run(), the real binary where
 * the process is the point: signals) against real router processes and one TCP listener that never
 * answers, with the one-line error format `harmony-hpke: error: <message> (<CODE>)` and no stack
 * trace without --debug: 2 for every kind of usage mistake, 3 for refused connections and each
 * timeout, 4 for bad key material, 5 for 413/415/503, 6-10, 130/143, and never 1 for a user's mistake.
 */
import { writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, makeSandbox, runCliInProcess, spawnCli } from '../helpers/cli.js';
import { freePort } from '../helpers/external.js';
import { startRouterProcess, type RouterProcess } from '../helpers/router-process.js';
import { errorLines, expectOneErrorLine } from './support.js';

const sandbox = makeSandbox();
const env = sandbox.env;
const routers: RouterProcess[] = [];
/** Serves ordinary requests (and honours the test-fault header). */
let router: RouterProcess;
let stall: RouterProcess;
let small: RouterProcess;
let busy: RouterProcess;
let keysFile: string;
let blackhole: Server;
let blackholeUrl: string;
const held: Socket[] = [];
/** A router that answers slowly, for the signal tests (started by the first of them). */
let slow: RouterProcess | undefined;

async function startRouter(args: string[]): Promise<RouterProcess> {
  const started = await startRouterProcess(sandbox.dir, ['--render-workers', '0', ...args], sandbox.env);
  routers.push(started);
  return started;
}

async function listenBlackhole(): Promise<void> {
  // Accepts connections and never says a word: what a hung load balancer looks like.
  blackhole = createServer((socket) => {
    held.push(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
  blackholeUrl = `http://127.0.0.1:${(blackhole.address() as { port: number }).port}`;
}

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** A sealed request for `url`; offline (sealed to another router's key) when nothing answers there. */
async function envelopeFor(url: string, options: { offline?: boolean; prompt?: string } = {}): Promise<string> {
  const keys = options.offline ? ['--keys', keysFile] : [];
  const created = await runCliInProcess(['create-request', options.prompt ?? 'What is 2+2?', '--router', url, ...keys], { env });
  expect(created.code, created.stderr).toBe(0);
  return created.stdout;
}

beforeAll(async () => {
  [router, stall, small, busy] = await Promise.all([
    startRouter(['--test-faults']),
    startRouter(['--fault', 'stall']),
    startRouter(['--max-request-bytes', '512']),
    startRouter(['--fault', 'stall', '--max-streams', '1']),
    listenBlackhole(),
  ]);
  keysFile = join(sandbox.dir, 'router.keys');
  const fetched = await runCliInProcess(['keys', 'fetch', '--router', router.url, '--out', keysFile], { env });
  expect(fetched.code, fetched.stderr).toBe(0);
  // Warm the stalling router up (its tokenizer loads on the first request) with an answer cut
  // before the stall, so the timeout tests below time the stall, not the warm-up.
  const warm = await runCliInProcess(['ask', 'What is 2+2?', '--router', stall.url, '--max-tokens', '2', '--json'], { env });
  expect(JSON.parse(warm.stdout.trim().split('\n').at(-1) as string)).toMatchObject({ type: 'done', finish: 'length' });
});

afterAll(async () => {
  for (const socket of held) socket.destroy();
  await new Promise<void>((resolve) => blackhole?.close(() => resolve()));
  await Promise.all(routers.map((r) => r.stop()));
  sandbox.cleanup();
});

describe('exit codes', () => {
  it('0 on success', async () => {
    const result = await runCliInProcess(['ask', 'What is 2+2?', '--router', router.url], { env: sandbox.env });
    expect(result.code).toBe(0);
    expect(errorLines(result.stderr)).toEqual([]);
  });

  it('2 for usage errors', async () => {
    const unknown = await runCliInProcess(['ask', '--no-such-flag'], { env: sandbox.env });
    expect(unknown.code).toBe(2);
    expectOneErrorLine(unknown.stderr, 'USAGE_UNKNOWN_OPTION');

    const badNumber = await runCliInProcess(['ask', 'x', '--max-tokens', 'lots'], { env: sandbox.env });
    expect(badNumber.code).toBe(2);
    expectOneErrorLine(badNumber.stderr, 'USAGE_INVALID_ARGUMENT');

    const noPrompt = await runCliInProcess(['ask'], { env: sandbox.env });
    expect(noPrompt.code).toBe(2);
    expectOneErrorLine(noPrompt.stderr, 'NO_PROMPT');
  });

  it('3 for network failures', async () => {
    const port = await freePort();
    const result = await runCliInProcess(['ask', 'hi', '--router', `http://127.0.0.1:${port}`], { env: sandbox.env });
    expect(result.code).toBe(3);
    expectOneErrorLine(result.stderr, 'CONNECTION_REFUSED');
  });

  it('4 for a key that does not match the pin', async () => {
    const result = await runCliInProcess(['ask', 'hi', '--router', router.url, '--key-pin', `sha256:${'0'.repeat(64)}`], { env: sandbox.env });
    expect(result.code).toBe(4);
    expectOneErrorLine(result.stderr, 'PIN_MISMATCH');
  });

  it('5 when the router refuses the request', async () => {
    const envelope = join(sandbox.dir, 'bad-envelope.json');
    writeFileSync(
      envelope,
      JSON.stringify({ url: `${router.url}/v1/harmony/stream`, headers: { 'content-type': 'text/plain' }, body: 'AAAA', session: '', rid: '' }),
    );
    const result = await runCliInProcess(['send', envelope], { env: sandbox.env });
    expect(result.code).toBe(5);
    expectOneErrorLine(result.stderr, 'ROUTER_REFUSED');
  });

  it('6 for a tampered stream', async () => {
    const session = join(sandbox.dir, 'tamper-session.json');
    const created = await runCliInProcess(['create-request', 'What is 2+2?', '--router', router.url, '--session', session], { env: sandbox.env });
    const sent = await runCliInProcess(['send'], { env: sandbox.env, input: created.stdout });
    expect(sent.code, sent.stderr).toBe(0);
    // Flip one base64url character inside the third chunk's data.
    const lines = sent.stdout.split('\n');
    const at = lines.findIndex((line, index) => line.startsWith('data: ') && index > 8);
    const data = lines[at] as string;
    const flipped = data[10] === 'A' ? 'B' : 'A';
    lines[at] = `${data.slice(0, 10)}${flipped}${data.slice(11)}`;
    const result = await runCliInProcess(['decode', '--session', session], { env: sandbox.env, input: lines.join('\n') });
    expect(result.code).toBe(6);
    expectOneErrorLine(result.stderr, 'CHUNK_AUTH_FAILED');
  });

  it('6 when a sealed request is replayed', async () => {
    const created = await runCliInProcess(['create-request', 'hi', '--router', router.url], { env: sandbox.env });
    const first = await runCliInProcess(['send'], { env: sandbox.env, input: created.stdout });
    expect(first.code, first.stderr).toBe(0);
    const second = await runCliInProcess(['send'], { env: sandbox.env, input: created.stdout });
    expect(second.code).toBe(6);
    expectOneErrorLine(second.stderr, 'REPLAY_REFUSED');
  });

  it('7 when the router dies mid-stream (truncation), keeping what was printed', async () => {
    const faulty = await startRouter(['--fault', 'disconnect:8']);
    const result = await runCliInProcess(['ask', 'What is 2+2?', '--router', faulty.url, '--raw'], { env: sandbox.env });
    expect(result.code).toBe(7);
    expectOneErrorLine(result.stderr, 'STREAM_TRUNCATED');
    expect(result.stdout).toMatch(/^Chunk 1: '<\|channel\|>'/);
  });

  it("8 for the router's authenticated error", async () => {
    const faulty = await startRouter(['--fault', 'error:4']);
    const result = await runCliInProcess(['ask', 'What is 2+2?', '--router', faulty.url], { env: sandbox.env });
    expect(result.code).toBe(8);
    expectOneErrorLine(result.stderr, 'ROUTER_ERROR');
    expect(result.stderr).toMatch(/engine_fault/);
  });

  it('9 for malformed Harmony in strict mode; lenient mode recovers the answer', async () => {
    const faulty = await startRouter(['--fault', 'malformed-header']);
    const strict = await runCliInProcess(['ask', 'What is 2+2?', '--router', faulty.url, '--strict'], { env: sandbox.env });
    expect(strict.code).toBe(9);
    expect(errorLines(strict.stderr)).toHaveLength(1);
    const lenient = await runCliInProcess(['ask', 'What is 2+2?', '--router', faulty.url, '--json'], { env: sandbox.env });
    expect(lenient.code, lenient.stderr).toBe(0);
    const done = JSON.parse(lenient.stdout.trim().split('\n').at(-1) as string) as Record<string, unknown>;
    expect(done).toMatchObject({ type: 'done', finish: 'stop' });
  });

  it.each([
    ['SIGINT', 130, 'interrupted (Ctrl-C)'],
    ['SIGTERM', 143, 'terminated'],
  ] as const)('%s: exit %i when %s, keeping what was printed', async (signal, code, _meaning) => {
    slow ??= await startRouter(['--engine-delay-ms', '150']);
    const child = spawnCli(['ask', 'What is 2+2?', '--router', slow.url, '--raw'], { env: sandbox.env });
    let seen = '';
    let sent = false;
    child.stdout?.on('data', (part: Buffer) => {
      seen += part.toString();
      // One signal: a second one, arriving after the CLI removed its handlers, would kill it outright.
      if (!sent && seen.includes('Chunk 2:')) {
        sent = true;
        child.kill(signal);
      }
    });
    const result = await collect(child);
    expect(result.code).toBe(code);
    expect(result.stdout).toMatch(/^Chunk 1: '<\|channel\|>'\nChunk 2: /);
    expect(errorLines(result.stderr)).toEqual([]);
  });

  it('help exit-codes lists every code', async () => {
    const result = await runCliInProcess(['help', 'exit-codes'], { env: sandbox.env });
    expect(result.code).toBe(0);
    for (const code of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 130, 143]) expect(result.stdout).toMatch(new RegExp(`^\\s+${code}  `, 'm'));
  });
});

describe('2: usage', () => {
  it.concurrent.each([
    ['an unknown command', ['frobnicate'], 'USAGE_UNKNOWN_COMMAND'],
    ['an unknown option', ['send', '--frobnicate'], 'USAGE_UNKNOWN_OPTION'],
    ['a missing argument', ['completion'], 'USAGE_MISSING_ARGUMENT'],
    ['a bad duration', ['ask', 'x', '--idle-timeout', 'soon'], 'USAGE_INVALID_ARGUMENT'],
    ['a bad channel list', ['ask', 'x', '--show', 'thoughts'], 'USAGE_INVALID_ARGUMENT'],
    ['a bad choice', ['ask', 'x', '--reasoning-effort', 'extreme'], 'USAGE_INVALID_ARGUMENT'],
    ['a URL that is not one', ['ask', 'x', '--router', 'not a url'], 'BAD_URL'],
    ['a URL that is not http(s)', ['create-request', 'x', '--router', 'ftp://router.example'], 'BAD_URL'],
    ['a bad URL for smoke', ['smoke', '--router', 'router.example'], 'BAD_URL'],
    ['a bad URL for keys fetch', ['keys', 'fetch', '--router', '::'], 'BAD_URL'],
    ['a malformed pin', ['ask', 'x', '--router', 'http://127.0.0.1:9', '--key-pin', 'sha256:abc'], 'KEY_PIN_INVALID'],
    ['a bad --expect regex', ['smoke', '--router', 'http://127.0.0.1:9', '--expect', '('], 'USAGE_BAD_REGEX'],
    ['--raw without --decode', ['send', '--raw'], 'USAGE_NEEDS_DECODE'],
    ['an unknown shell', ['completion', 'tcsh'], 'USAGE_SHELL'],
    ['an unknown help topic', ['help', 'everything'], 'USAGE_UNKNOWN_TOPIC'],
    ['create-request without a router', ['create-request', 'x'], 'NO_ROUTER'],
  ])('%s', async (_what, args, code) => {
    const input = args[0] === 'send' ? '{}' : undefined;
    const result = await runCliInProcess(args, { env, ...(input !== undefined ? { input } : {}) });
    expect(result.code, result.stderr).toBe(2);
    expectOneErrorLine(result.stderr, code);
    expect(result.stdout).toBe('');
  });

  it('a bad router URL from the environment', async () => {
    const result = await runCliInProcess(['ask', 'x'], { env: { ...env, HARMONY_HPKE_ROUTER: 'http//oops' } });
    expect(result.code).toBe(2);
    expectOneErrorLine(result.stderr, 'BAD_URL');
  });

  it('no command at all: the help on stderr, then one error line, exit 2', async () => {
    for (const args of [[], ['keys']]) {
      const result = await runCliInProcess(args, { env });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/^Usage: harmony-hpke/);
      expectOneErrorLine(result.stderr, 'USAGE_MISSING_COMMAND');
      expect(result.stdout).toBe('');
    }
  });
});

describe('3: network and timeouts', () => {
  it('connection refused, after the retries asked for', async () => {
    const url = await closedPortUrl();
    const envelope = await envelopeFor(url, { offline: true });
    const once = await runCliInProcess(['send', '--retries', '0'], { env, input: envelope });
    expect(once.code).toBe(3);
    expectOneErrorLine(once.stderr, 'CONNECTION_REFUSED');
    expect(once.stderr).not.toMatch(/retry/);

    const twice = await runCliInProcess(['send', '--retries', '2'], { env, input: envelope });
    expect(twice.code).toBe(3);
    expectOneErrorLine(twice.stderr, 'CONNECTION_REFUSED');
    expect(twice.stderr.split('\n').filter((line) => /^harmony-hpke: retry \d \(CONNECTION_REFUSED\)/.test(line))).toHaveLength(2);
  });

  it('--connect-timeout: a listener that never answers', async () => {
    const envelope = await envelopeFor(blackholeUrl, { offline: true });
    const sent = await runCliInProcess(['send', '--connect-timeout', '1s'], { env, input: envelope });
    expect(sent.code).toBe(3);
    expectOneErrorLine(sent.stderr, 'CONNECT_TIMEOUT');

    const fetched = await runCliInProcess(['keys', 'fetch', '--router', blackholeUrl, '--connect-timeout', '1s'], { env });
    expect(fetched.code).toBe(3);
    expectOneErrorLine(fetched.stderr, 'CONNECT_TIMEOUT');
  });

  it('--idle-timeout: a router that stalls mid-stream; what was printed stays', async () => {
    const result = await runCliInProcess(['ask', 'What is 2+2?', '--router', stall.url, '--raw', '--idle-timeout', '2s'], { env });
    expect(result.code).toBe(3);
    expectOneErrorLine(result.stderr, 'IDLE_TIMEOUT');
    expect(result.stdout.split('\n').slice(0, 3)).toEqual([
      "Chunk 1: '<|channel|>'",
      "Chunk 2: 'analysis'",
      "Chunk 3: '<|message|>'",
    ]);
  });

  it('--timeout: the whole exchange, for send and ask', async () => {
    const envelope = await envelopeFor(stall.url);
    const sent = await runCliInProcess(['send', '--timeout', '3s'], { env, input: envelope });
    expect(sent.code).toBe(3);
    expectOneErrorLine(sent.stderr, 'TIMEOUT');
    expect(sent.stdout).toMatch(/^event: hpke\n/); // the raw bytes that came are passed on

    const asked = await runCliInProcess(['ask', 'What is 2+2?', '--router', stall.url, '--timeout', '3s', '--json'], { env });
    expect(asked.code).toBe(3);
    expectOneErrorLine(asked.stderr, 'TIMEOUT');
    const last = JSON.parse(asked.stdout.trim().split('\n').at(-1) as string) as Record<string, unknown>;
    expect(last).toMatchObject({ type: 'error', code: 'TIMEOUT', family: 'network', exit_code: 3 });
  });
});

describe('4: keys', () => {
  it('a corrupt key file or key config given with --keys', async () => {
    const corruptKey = join(sandbox.dir, 'corrupt-key.json');
    writeFileSync(corruptKey, '{"format":"harmony-hpke-key/1","key_id":1}', { mode: 0o600 });
    const fromKeyFile = await runCliInProcess(['create-request', 'x', '--router', router.url, '--keys', corruptKey], { env });
    expect(fromKeyFile.code).toBe(4);
    expectOneErrorLine(fromKeyFile.stderr, 'KEY_FILE_CORRUPT');

    const garbage = join(sandbox.dir, 'garbage.keys');
    writeFileSync(garbage, Buffer.from([0, 9, 1, 0, 32]));
    const fromConfig = await runCliInProcess(['ask', 'x', '--router', router.url, '--keys', garbage], { env });
    expect(fromConfig.code).toBe(4);
    expectOneErrorLine(fromConfig.stderr, 'KEY_CONFIG_INVALID');

    const shown = await runCliInProcess(['keys', 'show', corruptKey], { env });
    expect(shown.code).toBe(4);
    expectOneErrorLine(shown.stderr, 'KEY_FILE_CORRUPT');
  });

  it('a session file others can read is refused', async () => {
    const session = join(sandbox.dir, 'open-session.json');
    const created = await runCliInProcess(['create-request', 'What is 2+2?', '--router', router.url, '--keys', keysFile, '--session', session], { env });
    expect(created.code, created.stderr).toBe(0);
    chmodSync(session, 0o644);
    const sent = await runCliInProcess(['send', '--decode'], { env, input: created.stdout });
    expect(sent.code).toBe(4);
    expectOneErrorLine(sent.stderr, 'SESSION_FILE_PERMISSIONS');
  });
});

describe('5: the router refuses', () => {
  it('413 for a body over --max-request-bytes', async () => {
    const result = await runCliInProcess(['ask', 'What is 2+2?', '--router', small.url], { env });
    expect(result.code).toBe(5);
    expectOneErrorLine(result.stderr, 'ROUTER_REFUSED');
    expect(result.stderr).toMatch(/HTTP 413/);
  });

  it('503 when every stream slot is taken, without retrying when told not to', async () => {
    // Hold the router's only slot with a real sealed request whose stream stalls.
    const holding = JSON.parse(await envelopeFor(busy.url, { prompt: 'hold the slot' })) as { url: string; headers: Record<string, string>; body: string };
    const holder = request(holding.url, { method: 'POST', headers: holding.headers, agent: false });
    try {
      await new Promise<void>((resolve, reject) => {
        holder.on('response', (response) => {
          expect(response.statusCode).toBe(200);
          resolve();
        });
        holder.on('error', reject);
        holder.end(Buffer.from(holding.body, 'base64'));
      });
      const result = await runCliInProcess(['send', '--retries', '0'], { env, input: await envelopeFor(busy.url) });
      expect(result.code).toBe(5);
      expectOneErrorLine(result.stderr, 'ROUTER_BUSY');
      expect(result.stderr).toMatch(/HTTP 503/);

      const retried = await runCliInProcess(['send', '--retries', '1'], { env, input: await envelopeFor(busy.url) });
      expect(retried.code).toBe(5);
      expect(retried.stderr).toMatch(/^harmony-hpke: retry 1 \(HTTP 503\) in 1000 ms$/m);
      expectOneErrorLine(retried.stderr, 'ROUTER_BUSY');
    } finally {
      holder.destroy();
    }
  });
});

describe('never 1 for a mistake of the user', () => {
  it('unwritable outputs, unreadable inputs, wrong files: usage or key errors, one line each', async () => {
    const dir = join(sandbox.dir, 'a-directory');
    mkdirSync(dir, { recursive: true });
    const notJson = join(sandbox.dir, 'notes.txt');
    writeFileSync(notJson, 'just some notes\n');
    const cases: Array<[string[], string]> = [
      [['ask', 'What is 2+2?', '--router', router.url, '--save', dir], 'WRITE_FAILED'],
      [['ask', 'What is 2+2?', '--router', router.url, '--save', join(notJson, 'chat.json')], 'WRITE_FAILED'],
      [['keys', 'fetch', '--router', router.url, '--out', dir], 'WRITE_FAILED'],
      [['create-request', 'x', '--router', router.url, '--keys', keysFile, '--body-out', dir], 'WRITE_FAILED'],
      [['create-request', 'x', '--router', router.url, '--keys', keysFile, '--session', dir], 'WRITE_FAILED'],
      [['smoke', '--router', router.url, '--junit', dir], 'WRITE_FAILED'],
      [['decode', dir], 'INPUT_UNREADABLE'],
      [['inspect', dir], 'INPUT_UNREADABLE'],
      [['send', dir], 'INPUT_UNREADABLE'],
      [['decode', join(sandbox.dir, 'missing.sse')], 'INPUT_NOT_FOUND'],
      [['inspect', notJson], 'INSPECT_UNKNOWN'],
      [['send', notJson], 'ENVELOPE_INVALID'],
      [['decode', notJson, '--session', notJson], 'SESSION_FILE_PERMISSIONS'],
      [['ask', 'x', '--router', router.url, '--conversation', notJson], 'CONVERSATION_INVALID'],
      [['ask', 'x', '--config', join(sandbox.dir, 'no-such-config.json')], 'CONFIG_UNREADABLE'],
      [['keys', 'show', dir], 'INPUT_UNREADABLE'],
    ];
    // Independent runs: side by side, to keep the suite quick.
    const results = await Promise.all(cases.map(([args]) => runCliInProcess(args, { env })));
    cases.forEach(([args, code], index) => {
      const result = results[index] as (typeof results)[number];
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).not.toBe(1);
      expect([2, 4], `${args.join(' ')}: ${result.stderr}`).toContain(result.code);
      expectOneErrorLine(result.stderr, code);
      expect(result.stderr).not.toMatch(/--debug/);
    });
  });

  it('--debug adds the stack after the one error line; without it there is none', async () => {
    const url = await closedPortUrl();
    const plain = await runCliInProcess(['keys', 'fetch', '--router', url], { env });
    expect(plain.code).toBe(3);
    expect(plain.stderr.trim().split('\n')).toHaveLength(1);
    const debug = await runCliInProcess(['keys', 'fetch', '--router', url, '--debug'], { env });
    expect(debug.code).toBe(3);
    expect(errorLines(debug.stderr)).toHaveLength(1);
    expect(debug.stderr.split('\n')[0]).toMatch(/^harmony-hpke: error: .+ \(CONNECTION_REFUSED\)$/);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });
});
