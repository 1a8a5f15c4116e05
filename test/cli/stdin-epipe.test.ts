/**
 * Input rules and closed pipes, with the built binary as a child process: a prompt (or envelope,
 * stream, file) comes from stdin when it is `-` or absent and piped; /dev/null or a terminal is
 * never waited on; `| head` ends the program quietly (EPIPE), with no stack and no error line.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, makeSandbox, runCli, spawnCli, warmRouter } from '../helpers/cli.js';
import { startRouterProcess, type RouterProcess } from '../helpers/router-process.js';
import { cliLine, expectOneErrorLine, readIfExists, runShell, sh, waitFor } from './support.js';

const sandbox = makeSandbox();
let router: RouterProcess;
let slow: RouterProcess;

beforeAll(async () => {
  [router, slow] = await Promise.all([
    startRouterProcess(sandbox.dir, ['--render-workers', '0'], sandbox.env),
    // Slow enough that the client is still writing when `head` has gone.
    startRouterProcess(sandbox.dir, ['--render-workers', '0', '--engine-delay-ms', '25'], sandbox.env),
  ]);
  await Promise.all([warmRouter(router.url, sandbox.env), warmRouter(slow.url, sandbox.env)]);
}, 120_000);

afterAll(async () => {
  await Promise.all([router?.stop(), slow?.stop()]);
  sandbox.cleanup();
});

describe('prompt from stdin', () => {
  it("'-' reads the prompt from stdin", async () => {
    const result = await runCli(['ask', '-', '--router', router.url], { env: sandbox.env, input: 'What is 4+4?\n' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('4 + 4 = 8.\n');
  });

  it('no argument and a piped stdin (a socket from child_process) reads it', async () => {
    const result = await runCli(['ask', '--router', router.url], { env: sandbox.env, input: 'What is 5+5?' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('5 + 5 = 10.\n');
  });

  it('a shell pipe (FIFO) and a file redirect both count', async () => {
    const piped = await runShell(`printf 'What is 6+6?\\n' | ${cliLine(['ask', '--router', router.url])}`, sandbox.env);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.output).toBe('6 + 6 = 12.\n');

    const file = join(sandbox.dir, 'prompt.txt');
    writeFileSync(file, 'What is 7+7?\n');
    const redirected = await runShell(`${cliLine(['ask', '--router', router.url])} < ${sh(file)}`, sandbox.env);
    expect(redirected.code, redirected.stderr).toBe(0);
    expect(redirected.output).toBe('7 + 7 = 14.\n');
  });

  it('an argument wins over a piped stdin, which is left unread', async () => {
    const result = await runCli(['ask', 'What is 2+2?', '--router', router.url], { env: sandbox.env, input: 'What is 3+3?' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('2 + 2 = 4.\n');
  });

  it('no prompt with stdin on /dev/null: a usage error at once, never a hang', async () => {
    const absent = await runCli(['ask', '--router', router.url], { env: sandbox.env, timeoutMs: 10_000 });
    expect(absent.code).toBe(2);
    expectOneErrorLine(absent.stderr, 'NO_PROMPT');
    expect(absent.stderr).toMatch(/give one as an argument, pipe it in, or pass --conversation/);
    expect(absent.stdout).toBe('');

    // '-' asks for stdin explicitly: /dev/null gives an empty prompt, which is refused.
    const dash = await runCli(['ask', '-', '--router', router.url], { env: sandbox.env, timeoutMs: 10_000 });
    expect(dash.code).toBe(2);
    expectOneErrorLine(dash.stderr, 'EMPTY_PROMPT');

    const created = await runCli(['create-request', '--router', router.url], { env: sandbox.env, timeoutMs: 10_000 });
    expect(created.code).toBe(2);
    expectOneErrorLine(created.stderr, 'NO_PROMPT');
  });
});

describe('envelopes, streams and files from stdin', () => {
  it('create-request reads its prompt from a pipe; send and decode read stdin with and without -', async () => {
    const created = await runCli(['create-request', '--router', router.url], { env: sandbox.env, input: 'What is 8+1?' });
    expect(created.code, created.stderr).toBe(0);
    const sent = await runCli(['send', '-'], { env: sandbox.env, input: created.stdout });
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(/^event: hpke\n/);
    const decoded = await runCli(['decode', '-'], { env: sandbox.env, input: sent.stdout });
    expect(decoded.code, decoded.stderr).toBe(0);
    expect(decoded.stdout).toBe('8 + 1 = 9.\n');
    const again = await runCli(['decode'], { env: sandbox.env, input: sent.stdout });
    expect(again.stdout).toBe('8 + 1 = 9.\n');
    const inspected = await runCli(['inspect', '--json'], { env: sandbox.env, input: sent.stdout });
    expect(inspected.code, inspected.stderr).toBe(0);
    expect(JSON.parse(inspected.stdout)).toMatchObject({ kind: 'sse-stream' });
  });

  it('send, decode and inspect with nothing to read: usage errors, never a hang', async () => {
    for (const command of ['send', 'decode', 'inspect']) {
      const result = await runCli([command], { env: sandbox.env, timeoutMs: 10_000 });
      expect(result.code, command).toBe(2);
      expectOneErrorLine(result.stderr, 'NO_INPUT');
    }
  });

  it('an empty piped envelope is a usage error', async () => {
    const result = await runCli(['send'], { env: sandbox.env, input: '' });
    expect(result.code).toBe(2);
    expectOneErrorLine(result.stderr, 'ENVELOPE_INVALID');
  });
});

describe('EPIPE: a reader that goes away', () => {
  it('ask --raw | head -1 prints one line and ends quietly while the stream is still coming', async () => {
    const err = join(sandbox.dir, 'epipe-ask.err');
    const status = join(sandbox.dir, 'epipe-ask.status');
    const line = `${cliLine(['ask', 'What is 2+2?', '--router', slow.url, '--raw'])} 2> ${sh(err)} | head -1; echo "\${PIPESTATUS[0]}" > ${sh(status)}`;
    const result = await runShell(line, sandbox.env);
    expect(result.code).toBe(0);
    expect(result.output).toBe("Chunk 1: '<|channel|>'\n");
    expect(readIfExists(status).trim()).toBe('0');
    expect(readIfExists(err)).toBe('');
    // The client left mid-stream: the router saw it go (so EPIPE, not a finished answer, ended it).
    await waitFor(() => slow.stderr().includes('error=CLIENT_GONE'), 'the router to log the client leaving');
  });

  it('send closing its stdout early (raw SSE) exits 0 with nothing on stderr', async () => {
    const created = await runCli(['create-request', 'What is 2+2?', '--router', slow.url], { env: sandbox.env });
    expect(created.code, created.stderr).toBe(0);
    const child = spawnCli(['send'], { env: sandbox.env, input: created.stdout });
    child.stdout?.once('data', () => child.stdout?.destroy());
    const result = await collect(child, { input: created.stdout });
    expect(result.code).toBe(0);
    expect(result.signal).toBeNull();
    expect(result.stderr).toBe('');
  });
});
