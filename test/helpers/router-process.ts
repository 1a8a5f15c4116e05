/**
 * Starts `harmony-hpke serve` as a real child process on a free loopback port, waits for its
 * ready file, and stops it (SIGTERM, then SIGKILL) when the test is done.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { spawnCli } from './cli.js';

export interface RouterProcess {
  readonly url: string;
  readonly fingerprint: string;
  readonly child: ChildProcess;
  /** Everything the router wrote to stderr so far (its request log). */
  stderr(): string;
  stdout(): string;
  /** SIGTERM and wait; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startRouterProcess(
  dir: string,
  args: readonly string[] = [],
  env: Record<string, string | undefined> = {},
): Promise<RouterProcess> {
  const readyFile = join(dir, `ready-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
  const child = spawnCli(['serve', '--port', '0', '--ready-file', readyFile, ...args], { env });
  let stderr = '';
  let stdout = '';
  child.stderr?.on('data', (part: Buffer) => (stderr += part.toString()));
  child.stdout?.on('data', (part: Buffer) => (stdout += part.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  const deadline = Date.now() + 15_000;
  while (!existsSync(readyFile)) {
    if (child.exitCode !== null) throw new Error(`router exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`router did not become ready: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const ready = JSON.parse(readFileSync(readyFile, 'utf8')) as { url: string; fingerprint: string };
  let stopped: Promise<number | null> | undefined;
  return {
    url: ready.url,
    fingerprint: ready.fingerprint,
    child,
    stderr: () => stderr,
    stdout: () => stdout,
    stop: (signal = 'SIGTERM') => {
      if (!stopped) {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        stopped = exited.finally(() => clearTimeout(timer));
      }
      return stopped;
    },
  };
}
