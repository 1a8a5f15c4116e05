/**
 * Per-token limits on one router process: concurrent streams and requests per rolling minute.
 * State is keyed by the token's name (never the token) and bounded: one counter and at most
 * `requests_per_minute` timestamps per name in the token file.
 */
import type { ApiTokenEntry } from './tokens.js';

const WINDOW_MS = 60_000;

export type Admission =
  | { readonly ok: true; release(): void }
  | { readonly ok: false; readonly reason: 'streams' | 'rate'; readonly retryAfterSeconds: number };

interface TokenState {
  streams: number;
  /** Acceptance times within the last minute, oldest first. */
  recent: number[];
}

export class TokenLimiter {
  private readonly state = new Map<string, TokenState>();

  constructor(private readonly now: () => number = Date.now) {}

  admit(entry: ApiTokenEntry): Admission {
    const { maxStreams, requestsPerMinute } = entry.limits;
    let state = this.state.get(entry.name);
    if (!state) {
      state = { streams: 0, recent: [] };
      this.state.set(entry.name, state);
    }
    const now = this.now();
    while (state.recent.length > 0 && state.recent[0]! <= now - WINDOW_MS) state.recent.shift();
    if (maxStreams !== undefined && state.streams >= maxStreams) {
      return { ok: false, reason: 'streams', retryAfterSeconds: 1 };
    }
    if (requestsPerMinute !== undefined) {
      if (state.recent.length >= requestsPerMinute) {
        const oldest = state.recent[state.recent.length - requestsPerMinute]!;
        return { ok: false, reason: 'rate', retryAfterSeconds: Math.max(1, Math.ceil((oldest + WINDOW_MS - now) / 1000)) };
      }
      state.recent.push(now);
    }
    state.streams += 1;
    const held = state;
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        held.streams -= 1;
      },
    };
  }

  /** Forgets names no longer in the token file (after a reload) once they hold no stream. */
  retain(names: ReadonlySet<string>): void {
    for (const [name, state] of this.state) if (!names.has(name) && state.streams === 0) this.state.delete(name);
  }
}
