/**
 * Shared bits of the CLI tests in this directory: running the built binary on a real
 * pseudo-terminal (util-linux `script`), in a shell pipeline, and checking the one-line error format.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { BIN, baseEnv } from '../helpers/cli.js';

export const ERROR_LINE = /^harmony-hpke: error: .+ \([A-Z0-9_]+\)$/;
// eslint-disable-next-line no-control-regex
export const ANSI = /\u001b\[/;

export function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('harmony-hpke: error:'));
}

/** Exactly one error line in the house format, with this code, and no stack trace. */
export function expectOneErrorLine(stderr: string, code: string): void {
  const lines = errorLines(stderr);
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(ERROR_LINE);
  expect(lines[0]).toContain(`(${code})`);
  expect(stderr).not.toMatch(/\n\s+at /);
}

/** A POSIX-shell single-quoted word. */
export function sh(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The shell command line that runs the built CLI with these arguments. */
export function cliLine(args: readonly string[]): string {
  return [process.execPath, BIN, ...args].map(sh).join(' ');
}

export interface ShellResult {
  readonly code: number | null;
  /** What the terminal showed (for `script`), or the shell's stdout; CRLF turned into LF. */
  readonly output: string;
  readonly stderr: string;
}

/** Runs a bash command line; stdin is /dev/null. Killed (and the test failed) after timeoutMs. */
export function runShell(line: string, env: Record<string, string | undefined>, timeoutMs = 20_000): Promise<ShellResult> {
  return runProcess('bash', ['-c', line], env, timeoutMs);
}

export function hasScript(): boolean {
  return spawnSync('script', ['--version']).status === 0;
}

/**
 * Runs a bash command line on a fresh pseudo-terminal (`script -qfec`): whatever the line does not
 * redirect is a TTY. `columns` sizes the terminal first (0 leaves it unsized, as `script` makes it).
 */
export function runInPty(
  line: string,
  env: Record<string, string | undefined>,
  options: { columns?: number; timeoutMs?: number } = {},
): Promise<ShellResult> {
  const columns = options.columns ?? 80;
  const sized = columns > 0 ? `stty cols ${columns} rows 24; ${line}` : line;
  return runProcess('script', ['-qfec', sized, '/dev/null'], { TERM: 'xterm-256color', ...env }, options.timeoutMs ?? 20_000);
}

function runProcess(
  command: string,
  args: readonly string[],
  env: Record<string, string | undefined>,
  timeoutMs: number,
): Promise<ShellResult> {
  const child = spawn(command, args, { env: baseEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (part: Buffer) => out.push(part));
  child.stderr.on('data', (part: Buffer) => err.push(part));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} did not finish within ${timeoutMs} ms: ${Buffer.concat(out).toString()}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code,
        output: Buffer.concat(out).toString('utf8').replace(/\r\n/g, '\n'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

export { waitFor } from '../helpers/wait.js';

export function readIfExists(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}
