/**
 * Issue 12, where the process is the point: a failed stdout write (/dev/full) for every kind of
 * command is one error line and exit 12, never a stack; `serve` never half-starts (an unwritable
 * ready file, a taken port, port 70000), never leaves a stale ready file, and removes its own at
 * shutdown.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, makeSandbox, spawnCli } from '../helpers/cli.js';
import { cliLine, expectOneErrorLine, hasScript, runInPty, runShell, waitFor } from './support.js';

const sandbox = makeSandbox();
afterAll(() => sandbox.cleanup());

describe('a stdout that cannot be written', () => {
  it.each([
    ['--version'],
    ['help', 'exit-codes'],
    ['keys', 'generate', '--out', 'KEY', '--json'],
    ['ask', 'What is 2+2?'],
    ['completion', 'bash'],
  ])('%s > /dev/full: exit 12, one error line, no stack', async (...args) => {
    const argv = args.map((arg) => (arg === 'KEY' ? join(sandbox.dir, `k${Math.random()}.key`) : arg));
    const result = await runShell(`${cliLine(argv)} > /dev/full`, sandbox.env);
    expect(result.code, result.stderr).toBe(12);
    expectOneErrorLine(result.stderr, 'STDOUT_WRITE_FAILED');
    expect(result.stderr).toContain('no space left on the device');
  });

  it('stderr that cannot be written does not crash a command', async () => {
    const result = await runShell(`${cliLine(['ask', 'What is 2+2?', '--debug'])} 2> /dev/full`, sandbox.env);
    expect(result.code).toBe(0);
    expect(result.output).toContain('2 + 2 = 4.');
  });
});

describe('serve: no half-start, no stale ready file', () => {
  let taken: Server;
  let takenPort: number;
  beforeAll(async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    takenPort = (taken.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => taken.close(() => resolve())));

  it('a ready file that cannot be written: exit 2 at once, nothing listening, no ready line', async () => {
    const notADir = join(sandbox.dir, 'plain-file');
    writeFileSync(notADir, 'x');
    const result = await collect(spawnCli(['serve', '--port', '0', '--ready-file', join(notADir, 'ready.json')], { env: sandbox.env }), {
      timeoutMs: 20_000,
    });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expectOneErrorLine(result.stderr, 'READY_FILE_UNWRITABLE');
  });

  it('a taken port: exit 3 ADDRESS_IN_USE; port 70000: exit 2; the last run\'s ready file is gone', async () => {
    const ready = join(sandbox.dir, 'stale-ready.json');
    writeFileSync(ready, '{"url":"http://127.0.0.1:1","fingerprint":"sha256:old"}\n');
    const inUse = await collect(spawnCli(['serve', '--port', String(takenPort), '--ready-file', ready], { env: sandbox.env }));
    expect(inUse.code).toBe(3);
    expectOneErrorLine(inUse.stderr, 'ADDRESS_IN_USE');
    expect(existsSync(ready)).toBe(false);
    const badPort = await collect(spawnCli(['serve', '--port', '70000'], { env: sandbox.env }));
    expect(badPort.code).toBe(2);
    expectOneErrorLine(badPort.stderr, 'USAGE_INVALID_ARGUMENT');
    expect(badPort.stderr).toContain('0-65535');
  });

  it('the ready file is written once listening and removed at shutdown', async () => {
    const ready = join(sandbox.dir, 'ready.json');
    const child = spawnCli(['serve', '--port', '0', '--ready-file', ready], { env: sandbox.env });
    const done = collect(child, { timeoutMs: 30_000 });
    const written = await waitFor(() => (existsSync(ready) ? readFileSync(ready, 'utf8') : undefined), 'the ready file', 20_000);
    expect(JSON.parse(written)).toMatchObject({ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(ready)).toBe(false);
  });
});

describe('feedback while the model thinks with analysis hidden', () => {
  it.skipIf(!hasScript())('a thinking spinner on an interactive stderr, gone before the answer; none when piped', async () => {
    const tty = await runInPty(`${cliLine(['ask', 'What is 2+2?', '--hide-analysis'])}`, sandbox.env);
    expect(tty.code, tty.output).toBe(0);
    expect(tty.output).toContain('thinking');
    expect(tty.output).toContain('2 + 2 = 4.');
    const piped = await runShell(`${cliLine(['ask', 'What is 2+2?', '--hide-analysis'])} 2>&1 | cat`, sandbox.env);
    expect(piped.output).not.toContain('thinking');
  });
});
