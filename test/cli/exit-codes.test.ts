/**
 * Every documented exit code, produced by the real binary against a real router process, with the
 * one-line error format `harmony-hpke: error: <message> (<CODE>)` and no stack trace.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, makeSandbox, runCliInProcess, spawnCli } from '../helpers/cli.js';
import { freePort } from '../helpers/external.js';
import { startRouterProcess, type RouterProcess } from '../helpers/router-process.js';
import { errorLines, expectOneErrorLine } from './support.js';

const sandbox = makeSandbox();
const routers: RouterProcess[] = [];
let router: RouterProcess;

async function startRouter(args: string[]): Promise<RouterProcess> {
  const started = await startRouterProcess(sandbox.dir, ['--render-workers', '0', '--render-workers', '0', ...args], sandbox.env);
  routers.push(started);
  return started;
}

beforeAll(async () => {
  router = await startRouter(['--test-faults']);
});

afterAll(async () => {
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
    const slow = await startRouter(['--engine-delay-ms', '150']);
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
