/**
 * Two ways to run the CLI, with its config and state directories isolated in a temp dir, so tests
 * never see the developer's own files:
 * - runCliInProcess: run() of src/app/run.ts in this process, on in-memory streams (the default for
 *   exit codes, output, error lines, options, help, config, inspect, keys, tools...);
 * - runCli / spawnCli: the real built binary (bin/harmony-hpke.js -> dist/) as a child process, for
 *   tests where the process is the point (signals, EPIPE, pseudo-terminals, the launcher, kills
 *   during atomic writes, router processes, start-up).
 * Both give the same result shape.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { run } from '../../src/app/run.js';
import type { CliContext } from '../../src/cli/context.js';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const BIN = join(REPO_ROOT, 'bin', 'harmony-hpke.js');

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly stdoutBytes: Buffer;
}

export interface CliRunOptions {
  /** Bytes for stdin; the stream is ended after them. Without it stdin is /dev/null. */
  readonly input?: string | Uint8Array;
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

export interface InProcessRunOptions extends CliRunOptions {
  /**
   * What stdin looks like to the command when `input` is given: a child process gets a socket
   * (Node's stdio pipes are socket pairs), so that is the default; 'pipe' is a shell pipe (`|`),
   * 'file' a redirected file (`<`). Without `input`, stdin is like /dev/null.
   */
  readonly stdinKind?: 'pipe' | 'file' | 'socket';
  /** Aborts the command as Ctrl-C would (abort with an InterruptedError). */
  readonly signal?: AbortSignal;
  /** Tells the command stdout/stderr are terminals (no pseudo-terminal: for colour and escaping rules). */
  readonly tty?: { readonly stdout?: boolean; readonly stderr?: boolean; readonly columns?: number };
}

/** A temp home for one test file: config, state and scratch files live and die here. */
export function makeSandbox(): { dir: string; env: Record<string, string>; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'harmony-hpke-test-'));
  return {
    dir,
    env: {
      HOME: dir,
      XDG_CONFIG_HOME: join(dir, 'config'),
      XDG_STATE_HOME: join(dir, 'state'),
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Environment for a child: no colour forcing, no router settings leaking in from the caller. */
export function baseEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('HARMONY_HPKE_') || key === 'FORCE_COLOR' || key === 'NO_COLOR' || key === 'CI') continue;
    env[key] = value;
  }
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** An in-memory output stream: a real Writable (so back-pressure code paths run), collecting bytes. */
function memoryOutput(isTTY: boolean, columns?: number): Writable & { isTTY: boolean; columns?: number; bytes(): Buffer } {
  const parts: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
      callback();
    },
  });
  return Object.assign(stream, { isTTY, ...(columns !== undefined ? { columns } : {}), bytes: () => Buffer.concat(parts) });
}

/**
 * Runs `harmony-hpke <args>` in this process through run() (src/app/run.ts): the same program,
 * commands and error mapping as the binary, without starting a process. Relative paths resolve
 * against this process's working directory, so a different `cwd` needs runCli.
 */
export async function runCliInProcess(args: readonly string[], options: InProcessRunOptions = {}): Promise<CliResult> {
  if (options.cwd !== undefined && resolve(options.cwd) !== process.cwd()) {
    throw new Error('runCliInProcess runs in this process\'s working directory; use runCli for another cwd');
  }
  const stdout = memoryOutput(options.tty?.stdout === true, options.tty?.columns);
  const stderr = memoryOutput(options.tty?.stderr === true, options.tty?.columns);
  const input = options.input;
  const stdin = Object.assign(Readable.from(input === undefined ? [] : [typeof input === 'string' ? Buffer.from(input) : Buffer.from(input)]), { isTTY: false });
  const controller = new AbortController();
  const forward = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) forward();
  else options.signal?.addEventListener('abort', forward, { once: true });
  const ctx: CliContext = {
    stdin,
    stdinKind: input === undefined ? 'none' : (options.stdinKind ?? 'socket'),
    stdout,
    stderr,
    env: baseEnv(options.env),
    signal: controller.signal,
    exitCode: 0,
  };
  const timeoutMs = options.timeoutMs ?? 20_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(new Error('timed out'));
      reject(new Error(`CLI did not finish within ${timeoutMs} ms: ${stderr.bytes().toString()}`));
    }, timeoutMs);
  });
  try {
    const code = await Promise.race([run(args, ctx), timedOut]);
    const stdoutBytes = stdout.bytes();
    return { code, signal: null, stdout: stdoutBytes.toString('utf8'), stderr: stderr.bytes().toString('utf8'), stdoutBytes };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', forward);
  }
}

export function spawnCli(args: readonly string[], options: CliRunOptions = {}): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: baseEnv(options.env),
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
}

export function runCli(args: readonly string[], options: CliRunOptions = {}): Promise<CliResult> {
  const child = spawnCli(args, options);
  return collect(child, options);
}

export function collect(child: ChildProcess, options: { input?: string | Uint8Array; timeoutMs?: number } = {}): Promise<CliResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (part: Buffer) => out.push(part));
  child.stderr?.on('data', (part: Buffer) => err.push(part));
  if (options.input !== undefined) child.stdin?.end(options.input);
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CLI did not finish within ${options.timeoutMs ?? 20_000} ms: ${Buffer.concat(err).toString()}`));
    }, options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolvePromise({ code, signal, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes });
    });
  });
}

/**
 * One request to a router just started, so that its first test does not pay the cold start (the
 * tokenizer loads on the first render) inside the client's 10 s connect timeout on a loaded
 * machine. Generous bounds; the answer is not checked (fault routers give errors, which is fine).
 */
export async function warmRouter(url: string, env: Record<string, string | undefined>): Promise<void> {
  await runCliInProcess(['ask', 'warm-up', '--router', url, '--max-tokens', '1', '--connect-timeout', '60s', '--timeout', '60s', '--json'], {
    env,
    timeoutMs: 90_000,
  });
}
