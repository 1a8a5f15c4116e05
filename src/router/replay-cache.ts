/**
 * Replay protection: each request's `enc` is accepted once within the window. The store is an
 * interface so that several router replicas can share one (e.g. Redis SET NX PX); the in-memory
 * store serves a single process.
 *
 * A store never forgets an entry before its expiry: when it cannot record one more (full, out of
 * memory) it throws ReplayStoreFullError and the router refuses the request with 503 (fail closed),
 * rather than making a captured request replayable.
 */

export interface ReplayStore {
  /**
   * Records `key` for `ttlMs`; resolves false if it was already recorded and not yet expired.
   * Rejects with ReplayStoreFullError when the key cannot be recorded without dropping a live
   * entry, and with any other error when the store is unreachable; the router refuses both (503).
   */
  remember(key: string, ttlMs: number): boolean | Promise<boolean>;
  /** Whether a shared store answers now (for /healthz); stores without one are local and always answer. */
  ping?(): Promise<boolean>;
}

/** The store is full of unexpired entries: the request must be refused, not served unrecorded. */
export class ReplayStoreFullError extends Error {
  readonly code = 'REPLAY_STORE_FULL';

  constructor(capacity?: number) {
    super(capacity === undefined ? 'the replay store is full' : `the replay store is full (${capacity} unexpired entries)`);
  }

  override get name(): string {
    return 'ReplayStoreFullError';
  }
}

/** How often at most a full store scans every entry for expired ones (a flood must not make each insert O(n)). */
const FULL_SWEEP_INTERVAL_MS = 1_000;

export class MemoryReplayStore implements ReplayStore {
  private readonly entries = new Map<string, number>();
  private readonly now: () => number;
  readonly capacity: number;
  private inserts = 0;
  private lastFullSweep = Number.NEGATIVE_INFINITY;

  constructor(options: { now?: () => number; maxEntries?: number } = {}) {
    this.now = options.now ?? Date.now;
    this.capacity = options.maxEntries ?? 500_000;
  }

  get size(): number {
    return this.entries.size;
  }

  remember(key: string, ttlMs: number): boolean {
    const now = this.now();
    const expiry = this.entries.get(key);
    if (expiry !== undefined && expiry > now) return false;
    if (expiry !== undefined) this.entries.delete(key);
    if (this.entries.size >= this.capacity) {
      if (now - this.lastFullSweep >= FULL_SWEEP_INTERVAL_MS) {
        this.lastFullSweep = now;
        this.sweep(now);
      }
      if (this.entries.size >= this.capacity) throw new ReplayStoreFullError(this.capacity);
    }
    this.entries.set(key, now + ttlMs);
    this.inserts += 1;
    if (this.inserts % 1024 === 0) this.sweepOldest(now);
    return true;
  }

  /** Drops every expired entry. */
  sweep(now: number = this.now()): void {
    for (const [key, expiry] of this.entries) if (expiry <= now) this.entries.delete(key);
  }

  /**
   * Cheap periodic cleanup: drops expired entries from the oldest end and stops at the first live
   * one. Entries with a longer ttl may hold up younger expired ones; those wait for a full sweep.
   */
  private sweepOldest(now: number): void {
    for (const [key, expiry] of this.entries) {
      if (expiry > now) break;
      this.entries.delete(key);
    }
  }
}

/**
 * How long a request's entry must live so that it outlives the request's acceptance window: the
 * router accepts iat (seconds) while |iat - floor(now / 1000)| * 1000 <= skewMs, that is until the
 * end of second iat + floor(skewMs / 1000). At least `minTtlMs`.
 */
export function replayTtlFor(iatSeconds: number, skewMs: number, nowMs: number, minTtlMs: number): number {
  const lastAcceptedMs = (iatSeconds + Math.floor(skewMs / 1000) + 1) * 1000 - 1;
  return Math.max(minTtlMs, lastAcceptedMs - nowMs + 1);
}
