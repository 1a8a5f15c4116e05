/**
 * Scale-out as docs/router.md describes it: replicas that share their keys and one ReplayStore
 * accept a sealed request once across the fleet; a store that fails makes the router refuse
 * (fail closed). These routers are started in-process with startRouter (the embedding API a
 * shared store plugs into) and driven over real HTTP on loopback with the library client.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { generateRouterKey, type RouterKey } from '../../src/hpke/index.js';
import { createEchoEngine, MemoryReplayStore, ReplayStoreFullError, startRouter, type ReplayStore, type RunningRouter } from '../../src/router/index.js';
import { replayTtlFor } from '../../src/router/replay-cache.js';
import { decode, expectRefusal, finalAnswer, post, routerKey, seal, TYPES } from './helpers.js';

const running: RunningRouter[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((router) => router.close()));
});

async function replica(key: RouterKey, replayStore: ReplayStore): Promise<RunningRouter> {
  const router = await startRouter({ keys: [key], engine: createEchoEngine(), replayStore });
  running.push(router);
  return router;
}

/** An asynchronous store, as a Redis `SET key 1 NX PX ttl` client would be. */
class AsyncSharedStore implements ReplayStore {
  private readonly inner = new MemoryReplayStore();
  calls = 0;
  async remember(key: string, ttlMs: number): Promise<boolean> {
    this.calls += 1;
    await new Promise((resolve) => setImmediate(resolve));
    return this.inner.remember(key, ttlMs);
  }
}

describe('replicas with shared keys and a shared replay store', () => {
  it('a request served by one replica is refused as a replay by the other', async () => {
    const key = await generateRouterKey({ keyId: 5 });
    const store = new AsyncSharedStore();
    const [a, b] = [await replica(key, store), await replica(key, store)];
    expect(a.fingerprint).toBe(b.fingerprint);

    // The client fetched its key config from replica a; replica b holds the same key.
    const sealed = await seal(a.url, 'What is 2+2?', { key: await routerKey(a.url) });
    const answer = await decode(await post(sealed), sealed.session);
    expect(finalAnswer(answer.ids)).toBe('2 + 2 = 4.');

    const replayed = await post({ ...sealed, url: `${b.url}/v1/harmony/stream` });
    const refusal = await expectRefusal(replayed, 400, TYPES.replay);
    expect(typeof refusal.problem['server_time']).toBe('number');
    expect(store.calls).toBe(2);
    expect(b.stats().totalStreams).toBe(0);
  });

  it('fails closed: a store that cannot answer gets 503 with Retry-After and no stream is served', async () => {
    const key = await generateRouterKey();
    const broken: ReplayStore = {
      remember: () => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.7:6379')),
    };
    const router = await replica(key, broken);
    const sealed = await seal(router.url, 'What is 2+2?');
    const refusal = await expectRefusal(await post(sealed), 503, 'urn:harmony-hpke:error:replay-store-unavailable');
    expect(refusal.headers['retry-after']).toBe('1');
    expect(JSON.stringify(refusal.problem)).not.toContain('6379');
    expect(router.stats()).toMatchObject({ totalStreams: 0, activeStreams: 0 });
  });
});

describe('the replay window (issue 11)', () => {
  it('an entry outlives the whole acceptance window: a replay in the last accepted millisecond is refused', async () => {
    const skewMs = 300_000;
    let clock = Math.floor(Date.now() / 1000) * 1000 + 1; // 1 ms into a second
    const router = await startRouter({
      keys: [await generateRouterKey()],
      engine: createEchoEngine(),
      iatSkewMs: skewMs,
      replayTtlMs: 2 * skewMs,
      now: () => clock,
    });
    running.push(router);
    // A client whose clock runs the whole skew ahead: iat at the window's far edge.
    const iatMs = clock + skewMs;
    const sealed = await seal(router.url, 'What is 2+2?', { nowMs: iatMs });
    expect(finalAnswer((await decode(await post(sealed), sealed.session)).ids)).toBe('2 + 2 = 4.');
    // The last millisecond in which iat is still accepted: the end of second iat + skew.
    clock = (Math.floor(iatMs / 1000) + skewMs / 1000 + 1) * 1000 - 1;
    await expectRefusal(await post(sealed), 400, TYPES.replay);
    // One millisecond later the request is outside the window by its time alone.
    clock += 1;
    const late = await expectRefusal(await post(sealed), 400, TYPES.replay);
    expect(late.problem['title']).toBe('Request time outside the accepted window');
  });

  it('replayTtlFor covers the window for any iat in it, and never less than the minimum', () => {
    const skewMs = 300_000;
    for (const offsetS of [-300, -1, 0, 1, 299, 300]) {
      for (const fractionMs of [0, 1, 500, 999]) {
        const nowMs = 1_800_000_000_000 + fractionMs;
        const iat = Math.floor(nowMs / 1000) + offsetS;
        const ttl = replayTtlFor(iat, skewMs, nowMs, 0);
        const lastAccepted = (iat + 300 + 1) * 1000 - 1;
        expect(nowMs + ttl).toBeGreaterThan(lastAccepted);
        expect(replayTtlFor(iat, skewMs, nowMs, 10 * skewMs)).toBe(10 * skewMs);
      }
    }
  });
});

describe('MemoryReplayStore when full (issue 11)', () => {
  it('refuses to record more than its capacity of unexpired entries, and forgets none of them', () => {
    let clock = 0;
    const store = new MemoryReplayStore({ maxEntries: 1000, now: () => clock });
    for (let index = 0; index < 1000; index += 1) expect(store.remember(`k${index}`, 60_000)).toBe(true);
    expect(() => store.remember('one-more', 60_000)).toThrow(ReplayStoreFullError);
    for (let index = 0; index < 1000; index += 1) expect(store.remember(`k${index}`, 60_000)).toBe(false);
    // Once entries expire there is room again.
    clock = 60_001;
    expect(store.remember('one-more', 60_000)).toBe(true);
    expect(store.size).toBe(1);
  });

  it('a flood against a full store costs one full scan per second at most', () => {
    let clock = 0;
    const store = new MemoryReplayStore({ maxEntries: 10_000, now: () => clock });
    for (let index = 0; index < 10_000; index += 1) store.remember(`k${index}`, 600_000);
    const sweep = store.sweep.bind(store);
    let sweeps = 0;
    store.sweep = (now?: number) => {
      sweeps += 1;
      sweep(now);
    };
    for (let index = 0; index < 5_000; index += 1) {
      clock = index; // 5 s of flood
      expect(() => store.remember(`flood${index}`, 600_000)).toThrow(ReplayStoreFullError);
    }
    expect(sweeps).toBe(5);
  });
});
