/**
 * The router's options, their defaults and the records it reports (request log, stats). Shared by
 * the listener (server.ts), the admission gate (admission.ts) and the stream (stream.ts).
 */
import { readFileSync } from 'node:fs';
import type { RouterKey } from '../hpke/index.js';
import type { Engine } from './engine.js';
import type { Keyring } from './keyring.js';
import type { ReplayStore } from './replay-cache.js';
import type { ApiTokenTable } from './auth/tokens.js';
import type { RouterMetrics } from './metrics.js';

export interface RequestLog {
  readonly time: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly rid?: string | undefined;
  readonly kid?: number | undefined;
  readonly problem?: string | undefined;
  readonly finish?: string | undefined;
  readonly error?: string | undefined;
  readonly prompt_tokens?: number | undefined;
  readonly completion_tokens?: number | undefined;
  readonly chunks?: number | undefined;
  /** The API token's name from the token file (never the token). */
  readonly token?: string | undefined;
  readonly duration_ms: number;
}

/** Router-side Harmony settings (src/router/settings.ts resolves them for `serve`). */
export interface RouterHarmonyOptions {
  /** For requests that set no reasoning effort. */
  readonly reasoningEffort?: 'low' | 'medium' | 'high' | undefined;
  /** false: analysis messages are withheld from the encrypted stream. Default true. */
  readonly includeAnalysis?: boolean | undefined;
}

export interface RouterOptions {
  readonly host?: string;
  readonly port?: number;
  readonly keys: readonly RouterKey[];
  /** How long retired keys (all but the first) stay accepted after start-up. */
  readonly retiredGraceMs?: number;
  readonly engine: Engine;
  readonly maxRequestBytes?: number;
  /** Concurrent streams (opened requests being answered) before 503. */
  readonly maxStreams?: number;
  readonly heartbeatMs?: number;
  /** Longest wait for the engine's next event before the stream ends with an error. */
  readonly upstreamTimeoutMs?: number;
  /** Longest time to receive a whole request body (408 after it), whatever its rate. */
  readonly bodyTimeoutMs?: number;
  /**
   * Slowest upload accepted, in bytes per second, after the first `uploadGraceMs`: an upload that
   * falls behind (and has not finished) is cut with 408. With the 1 MiB default body limit and
   * 64 KiB/s this is a 17 s deadline for the largest body, about 1 s for a small one.
   */
  readonly minUploadBytesPerSec?: number;
  readonly uploadGraceMs?: number;
  /** Concurrent uploads (requests whose body is still arriving); when full the slowest is cut. */
  readonly maxUploads?: number;
  /** Open TCP connections; when full the oldest idle one is closed, else the new one is. */
  readonly maxConnections?: number;
  /** Longest wait for a client to take written data (`drain`) before its stream is cut. */
  readonly writeTimeoutMs?: number;
  /** close(): how long open streams get to send their `cancelled` chunk before sockets are destroyed. */
  readonly closeTimeoutMs?: number;
  readonly replayTtlMs?: number;
  readonly iatSkewMs?: number;
  readonly replayStore?: ReplayStore;
  /** Capacity of the default in-memory replay store (ignored with `replayStore`). */
  readonly replayCacheSize?: number;
  /** Render workers (worker_threads); 0 renders on the event loop. */
  readonly renderWorkers?: number;
  /** Longest a render (conversation to prompt tokens) may take before the stream fails. */
  readonly renderTimeoutMs?: number;
  /** Largest rendered prompt, in tokens. */
  readonly maxPromptTokens?: number;
  /** Deepest JSON nesting accepted in a conversation (tool schemas included). */
  readonly maxConversationDepth?: number;
  /** Honour the test-fault request header (tests only). */
  readonly testFaults?: boolean;
  /** Upper bound for max_tokens whatever the request asks. */
  readonly maxTokensLimit?: number;
  readonly log?: (record: RequestLog) => void;
  readonly now?: () => number;
  /**
   * Client authentication: the current API token table (read on every request, so a reload that
   * swaps it takes effect at once). Unset, or returning undefined: open access.
   */
  readonly apiTokens?: () => ApiTokenTable | undefined;
  /** Prometheus metrics (src/router/metrics.ts); unset: none are kept. */
  readonly metrics?: RouterMetrics;
  readonly harmony?: RouterHarmonyOptions;
  /**
   * BENCH ONLY (`npm run bench`; the CLI never sets it, never use it in a deployment): also serve
   * POST on this path with no encryption at all, the request plaintext in and the chunk messages
   * out as plain JSON, through the same server code (see plaintext-baseline.ts). Unset: no such path.
   */
  readonly plaintextBaselinePath?: string;
}

export interface RouterStats {
  /** Opened requests being answered (stream slots taken). */
  readonly activeStreams: number;
  /** Requests whose body is still arriving. */
  readonly uploads: number;
  /** Open TCP connections. */
  readonly connections: number;
  readonly totalStreams: number;
  readonly refused: number;
}

export interface RunningRouter {
  readonly url: string;
  readonly port: number;
  readonly fingerprint: string;
  readonly keyring: Keyring;
  /**
   * Replaces the key list (SIGHUP): the first key becomes current; a key that was current and is
   * now retired starts its grace period now; retired keys kept keep their deadline. Open streams
   * are not touched.
   */
  reloadKeys(keys: readonly RouterKey[]): void;
  stats(): RouterStats;
  /**
   * Stops accepting, ends open streams with an authenticated `cancelled` chunk, then closes; after
   * `closeTimeoutMs` every socket still open (a client that does not read) is destroyed.
   */
  close(): Promise<void>;
}

/** Open-file limit of this process (Linux /proc), or undefined where it cannot be read. */
export function openFileLimit(): number | undefined {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const soft = /^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1];
    if (soft === undefined) return undefined;
    return soft === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(soft);
  } catch {
    return undefined;
  }
}

/** Default connection cap: three quarters of the open-file limit (1,024 assumed when unknown), at most 16,384. */
export function defaultMaxConnections(limit: number | undefined = openFileLimit()): number {
  return Math.max(32, Math.min(16_384, Math.floor((limit ?? 1024) * 0.75)));
}

export const DEFAULTS = {
  maxRequestBytes: 1024 * 1024,
  maxStreams: 256,
  heartbeatMs: 15_000,
  upstreamTimeoutMs: 60_000,
  bodyTimeoutMs: 30_000,
  minUploadBytesPerSec: 64 * 1024,
  uploadGraceMs: 1_000,
  maxUploads: 128,
  writeTimeoutMs: 30_000,
  closeTimeoutMs: 10_000,
  replayTtlMs: 600_000,
  iatSkewMs: 300_000,
  replayCacheSize: 500_000,
  renderWorkers: 2,
  renderTimeoutMs: 5_000,
  maxPromptTokens: 131_072,
  maxConversationDepth: 64,
  retiredGraceMs: 24 * 3600_000,
  maxTokensLimit: 32_768,
} as const;

export type Settings = { -readonly [K in keyof typeof DEFAULTS]: number } & {
  readonly maxConnections: number;
  readonly host: string;
  readonly port: number;
  readonly testFaults: boolean;
};

export function resolveSettings(options: RouterOptions): Settings {
  const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<RouterOptions>;
  const pick = <K extends keyof typeof DEFAULTS>(key: K): number => (given[key] as number | undefined) ?? DEFAULTS[key];
  const settings = {} as Record<string, number>;
  for (const key of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) settings[key] = pick(key);
  return {
    ...(settings as { -readonly [K in keyof typeof DEFAULTS]: number }),
    maxConnections: given.maxConnections ?? defaultMaxConnections(),
    host: given.host ?? '127.0.0.1',
    port: given.port ?? 0,
    testFaults: given.testFaults ?? false,
  };
}
