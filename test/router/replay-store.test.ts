/**
 * Scale-out as docs/router.md describes it: replicas that share their keys and one ReplayStore
 * accept a sealed request once across the fleet; a store that fails makes the router refuse
 * (fail closed). These routers are started in-process with startRouter (the embedding API a
 * shared store plugs into) and driven over real HTTP on loopback with the library client.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { generateRouterKey, type RouterKey } from '../../src/hpke/index.js';
import { createEchoEngine, MemoryReplayStore, startRouter, type ReplayStore, type RunningRouter } from '../../src/router/index.js';
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
