/**
 * Replay protection: each request's `enc` is accepted once within the window. The store is an
 * interface so that several router replicas can share one (e.g. Redis SET NX PX); the in-memory
 * store serves a single process.
 */

export interface ReplayStore {
  /** Records `key` for `ttlMs`; resolves false if it was already recorded and not yet expired. */
  remember(key: string, ttlMs: number): boolean | Promise<boolean>;
  /** Whether a shared store answers now (for /healthz); stores without one are local and always answer. */
  ping?(): Promise<boolean>;
}

export class MemoryReplayStore implements ReplayStore {
  private readonly entries = new Map<string, number>();
  private readonly now: () => number;
  private readonly maxEntries: number;
  private inserts = 0;

  constructor(options: { now?: () => number; maxEntries?: number } = {}) {
    this.now = options.now ?? Date.now;
    this.maxEntries = options.maxEntries ?? 200_000;
  }

  get size(): number {
    return this.entries.size;
  }

  remember(key: string, ttlMs: number): boolean {
    const now = this.now();
    const expiry = this.entries.get(key);
    if (expiry !== undefined && expiry > now) return false;
    this.entries.delete(key);
    this.entries.set(key, now + ttlMs);
    this.inserts += 1;
    if (this.entries.size > this.maxEntries || this.inserts % 1024 === 0) this.sweep(now);
    return true;
  }

  /** Drops expired entries; insertion order equals expiry order for one ttl, so stop at the first live one. */
  sweep(now: number = this.now()): void {
    for (const [key, expiry] of this.entries) {
      if (expiry > now && this.entries.size <= this.maxEntries) break;
      this.entries.delete(key);
    }
  }
}
