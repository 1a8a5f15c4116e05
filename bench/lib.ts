/**
 * Shared bench plumbing: statistics, figures with goals, interleaved runs, child-process timing.
 *
 * Every figure is a ratio to a baseline measured in the same run, with the two measured in
 * alternation (A B A B ...) so that drift on a shared machine hits both alike. The ratio is the
 * median of the per-round ratios (each round's A over the B next to it); values and baselines are
 * medians over the measured rounds. Warm-up rounds are never counted.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installNodeCryptoBackend } from '../src/node/crypto-backend.js';

/** The repository root (dist/bench/lib.js is two levels below it). */
installNodeCryptoBackend();

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The CLI under test; HARMONY_HPKE_BENCH_CLI points the start-up and decode figures at another build. */
export const CLI = process.env['HARMONY_HPKE_BENCH_CLI'] ?? join(ROOT, 'bin', 'harmony-hpke.js');
/** Compiled bench helpers (the peak-RSS probe, the router child) live next to this file. */
export const BENCH_DIST = dirname(fileURLToPath(import.meta.url));

export interface BenchOptions {
  /** Reduced sizes and repetitions: checks that everything runs, figures mean little. */
  readonly quick: boolean;
  readonly log: (line: string) => void;
}

export type Goal =
  | { readonly kind: 'ratio-max'; readonly value: number }
  | { readonly kind: 'value-min'; readonly value: number }
  | { readonly kind: 'value-max'; readonly value: number }
  /** Tracked, with no goal of its own (shown as INFO). */
  | { readonly kind: 'none' };

export interface Figure {
  readonly id: string;
  readonly label: string;
  readonly value: number;
  readonly unit: string;
  readonly baselineLabel: string;
  readonly baseline: number;
  readonly baselineUnit: string;
  /** How many times costlier than the baseline (> 1: slower or bigger). */
  readonly ratio: number;
  readonly goal: Goal;
  readonly pass: boolean;
  readonly rounds: number;
  /** Anything else worth keeping in results.json (spreads, sizes). */
  readonly detail?: Record<string, unknown>;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile, p in [0, 100]. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** Interquartile range relative to the median: a quick measure of how noisy a figure was. */
export function relativeIqr(values: readonly number[]): number {
  return (percentile(values, 75) - percentile(values, 25)) / median(values);
}

export function checkGoal(goal: Goal, value: number, ratio: number): boolean {
  switch (goal.kind) {
    case 'ratio-max':
      return ratio <= goal.value;
    case 'value-min':
      return value >= goal.value;
    case 'value-max':
      return value <= goal.value;
    case 'none':
      return true;
  }
}

export function figure(input: Omit<Figure, 'pass'>): Figure {
  return { ...input, pass: checkGoal(input.goal, input.value, input.ratio) };
}

/**
 * Runs `a` and `b` in alternation (the order flips every round), `warmup` rounds uncounted, and
 * returns the measured samples of each and the median of the per-round ratios a/b. Each function
 * returns the sample it measured (a time, a size).
 */
export async function alternate(
  rounds: number,
  warmup: number,
  a: () => Promise<number> | number,
  b: () => Promise<number> | number,
): Promise<{ a: number[]; b: number[]; ratio: number }> {
  const as: number[] = [];
  const bs: number[] = [];
  const ratios: number[] = [];
  // With --expose-gc (npm run bench passes it), each sample starts from a collected heap, so the
  // garbage one side leaves is not charged to the other.
  const collect = (globalThis as { gc?: () => void }).gc ?? (() => {});
  const first = async (f: () => Promise<number> | number) => {
    collect();
    return f();
  };
  for (let round = 0; round < warmup + rounds; round += 1) {
    let sa: number;
    let sb: number;
    if (round % 2 === 0) {
      sa = await first(a);
      sb = await first(b);
    } else {
      sb = await first(b);
      sa = await first(a);
    }
    if (round < warmup) continue;
    as.push(sa);
    bs.push(sb);
    ratios.push(sa / sb);
  }
  return { a: as, b: bs, ratio: median(ratios) };
}

export interface ChildResult {
  readonly ms: number;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Wall time of a child process from spawn to exit, in ms. stdout is discarded (/dev/null) unless
 * `captureStdout`; stderr is kept for error messages.
 */
export function timeChild(
  command: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; captureStdout?: boolean; cwd?: string } = {},
): Promise<ChildResult> {
  return new Promise((resolvePromise, reject) => {
    const spawnOptions: SpawnOptions = {
      stdio: ['ignore', opts.captureStdout ? 'pipe' : 'ignore', 'pipe'],
      env: opts.env ?? process.env,
      cwd: opts.cwd ?? ROOT,
    };
    const started = process.hrtime.bigint();
    const child = spawn(command, args, spawnOptions);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (part: Buffer) => out.push(part));
    child.stderr?.on('data', (part: Buffer) => err.push(part));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      resolvePromise({ ms, code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** Like timeChild, but fails loudly on a non-zero exit. */
export async function timeOk(command: string, args: readonly string[], opts: Parameters<typeof timeChild>[2] = {}): Promise<number> {
  const result = await timeChild(command, args, opts);
  if (result.code !== 0) {
    throw new Error(`${[command, ...args].join(' ')} exited ${result.code}: ${result.stderr.trim().split('\n').slice(-3).join(' / ')}`);
  }
  return result.ms;
}

/**
 * Peak RSS (VmHWM) of a Node child, in MB (10^6 bytes): the child is started with a preloaded probe that
 * writes its own VmHWM (or resourceUsage().maxRSS where /proc is missing) to a file as it exits.
 */
export async function peakRssMB(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'hh-rss-'));
  const file = join(dir, 'hwm');
  try {
    const probe = join(BENCH_DIST, 'probe-hwm.js');
    await timeOk(process.execPath, ['--import', new URL(`file://${probe}`).href, ...args], {
      env: { ...env, HARMONY_HPKE_BENCH_HWM_FILE: file },
    });
    if (!existsSync(file)) throw new Error('the peak-RSS probe wrote nothing');
    return (Number(readFileSync(file, 'utf8')) * 1024) / 1e6;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A temporary directory, removed by the returned function. */
export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A small deterministic PRNG (mulberry32), so every run benchmarks the same inputs. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'the router seals every request with hpke and streams the answer back as server sent events whose data is ' +
  'encrypted chunk by chunk a client verifies each chunk in order decrypts it and parses the harmony channels ' +
  'analysis commentary final messages tokens arrive one by one from the model while the decoder checks tags ' +
  'nonces and indexes nothing is released before it authenticates benchmarks measure ratios against baselines ' +
  'because absolute times drift on shared machines with two cores and noisy neighbours 2 + 2 = 4 while 12 * 7 ' +
  "is 84 JSON {\"key\": [1, 2, 3]} function(x) { return x * 2; } Zürich naïve café déjà vu — “quotes” don't can't"
).split(' ');

/** Deterministic English-like text of about `words` words, with punctuation and line breaks. */
export function syntheticText(words: number, seed: number): string {
  const next = prng(seed);
  const parts: string[] = [];
  for (let i = 0; i < words; i += 1) {
    let word = WORDS[Math.floor(next() * WORDS.length)]!;
    if (next() < 0.08) word = word.charAt(0).toUpperCase() + word.slice(1);
    if (next() < 0.05) word = `${word}${Math.floor(next() * 10_000)}`;
    parts.push(word);
    const r = next();
    if (r < 0.06) parts.push('. ');
    else if (r < 0.09) parts.push(', ');
    else if (r < 0.1) parts.push('\n\n');
    else parts.push(' ');
  }
  return parts.join('');
}

export function fmt(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return String(value);
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** A free TCP port on 127.0.0.1 (the kernel picks it; bound and released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
