/**
 * A Redis-backed ReplayStore for router fleets: `SET <prefix><enc> 1 NX PX <ttl>` answers "OK"
 * only for a key not yet recorded, atomically across every replica that shares the Redis.
 *
 * Client: ioredis (chosen over node-redis by measurement on loopback, see docs/performance.md:
 * similar sequential latency, about 1.2-2.7x the pipelined throughput, a tenth of the install
 * size, and a per-command timeout built in).
 *
 * Every call is bounded: `commandTimeout` (default 200 ms) rejects a call to a Redis that stopped
 * answering, and with the offline queue disabled a call while disconnected rejects at once, so
 * the router answers 503 replay-store-unavailable promptly and never hangs. The client reconnects
 * by itself (backoff up to 500 ms) and the store works again as soon as Redis answers.
 */
import { Redis } from 'ioredis';
import { UsageError } from '../core/errors.js';
import { ReplayStoreFullError, type ReplayStore } from './replay-cache.js';

export interface RedisReplayStoreOptions {
  /** `redis://HOST:PORT[/DB]` (also `redis://:password@HOST:PORT/DB`). */
  readonly url: string;
  /** Upper bound for each Redis call, in ms (default 200). */
  readonly timeoutMs?: number;
  readonly keyPrefix?: string;
  /** Called with each call's outcome and duration (metrics). */
  readonly observe?: (outcome: 'ok' | 'error', seconds: number) => void;
}

export interface ParsedRedisUrl {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly password?: string | undefined;
  readonly username?: string | undefined;
}

export function parseRedisUrl(url: string): ParsedRedisUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError('USAGE_REPLAY_STORE', `--replay-store must be redis://HOST:PORT[/DB], not '${redactUrl(url)}'`);
  }
  if (parsed.protocol !== 'redis:' || parsed.hostname === '' || (parsed.search !== '' && parsed.search !== '?')) {
    throw new UsageError('USAGE_REPLAY_STORE', `--replay-store must be redis://HOST:PORT[/DB], not '${redactUrl(url)}'`);
  }
  const dbText = parsed.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d{1,2}$/.test(dbText)) {
    throw new UsageError('USAGE_REPLAY_STORE', `--replay-store: the database must be a number (redis://HOST:PORT/DB)`);
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    host,
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    db: dbText === '' ? 0 : Number(dbText),
    password: parsed.password !== '' ? decodeURIComponent(parsed.password) : undefined,
    username: parsed.username !== '' ? decodeURIComponent(parsed.username) : undefined,
  };
}

/** The URL without its password, for logs and errors. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}

export class RedisReplayStore implements ReplayStore {
  private readonly client: Redis;
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly observe: RedisReplayStoreOptions['observe'];
  readonly description: string;

  constructor(options: RedisReplayStoreOptions) {
    const target = parseRedisUrl(options.url);
    this.timeoutMs = options.timeoutMs ?? 200;
    this.prefix = options.keyPrefix ?? 'harmony-hpke:replay:';
    this.observe = options.observe;
    this.description = redactUrl(options.url);
    this.client = new Redis({
      host: target.host,
      port: target.port,
      db: target.db,
      ...(target.password !== undefined ? { password: target.password } : {}),
      ...(target.username !== undefined ? { username: target.username } : {}),
      lazyConnect: true,
      commandTimeout: this.timeoutMs,
      connectTimeout: Math.max(this.timeoutMs, 1000),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      enableReadyCheck: true,
      // Keep trying for ever, never more than 500 ms apart: the store recovers when Redis returns.
      retryStrategy: (attempt) => Math.min(attempt * 50, 500),
    });
    // Connection errors are reported through the calls that fail (503) and healthz; never thrown.
    this.client.on('error', () => {});
  }

  /** Starts connecting; resolves once connected or after the first failure (the router starts either way). */
  async connect(): Promise<void> {
    await this.client.connect().catch(() => {});
  }

  async remember(key: string, ttlMs: number): Promise<boolean> {
    const started = performance.now();
    try {
      const reply = await this.bounded(this.client.set(this.prefix + key, '1', 'PX', ttlMs, 'NX'));
      this.observe?.('ok', (performance.now() - started) / 1000);
      return reply === 'OK';
    } catch (error) {
      this.observe?.('error', (performance.now() - started) / 1000);
      // A Redis at maxmemory with noeviction answers OOM: full, like the in-memory store (503).
      if (error instanceof Error && error.message.startsWith('OOM')) throw new ReplayStoreFullError();
      throw error;
    }
  }

  /** Whether Redis answers a PING within the timeout (for /healthz). */
  async ping(): Promise<boolean> {
    try {
      return (await this.bounded(this.client.ping())) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.client.disconnect(false);
  }

  /** commandTimeout covers a connected Redis; this also covers a connection still being made. */
  private bounded<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('replay store timed out')), this.timeoutMs + 20);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }
}
