/** The Redis replay store against a real redis-server: once-only, bounded calls, recovery. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisReplayStore, parseRedisUrl, redactUrl } from '../../../src/router/replay-redis.js';
import { ReplayStoreFullError } from '../../../src/router/replay-cache.js';
import { requirePrograms } from '../../helpers/external.js';
import { startRedis, type RedisServer } from '../../helpers/redis.js';
import { waitFor } from '../../helpers/wait.js';

const programs = requirePrograms('redis-server');

describe('parseRedisUrl', () => {
  it('reads host, port, db and credentials, and refuses other schemes', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6380/2')).toMatchObject({ host: '127.0.0.1', port: 6380, db: 2 });
    expect(parseRedisUrl('redis://cache')).toMatchObject({ host: 'cache', port: 6379, db: 0 });
    expect(parseRedisUrl('redis://:s3cret@cache:7000/1')).toMatchObject({ password: 's3cret', db: 1 });
    expect(() => parseRedisUrl('http://cache:6379')).toThrow(/redis:\/\/HOST:PORT/);
    expect(() => parseRedisUrl('redis://cache/x')).toThrow(/database must be a number/);
    expect(() => parseRedisUrl('nonsense')).toThrow(/redis:\/\/HOST:PORT/);
  });

  it('never puts a password in an error or description', () => {
    expect(redactUrl('redis://:s3cret@cache:7000/1')).toBe('redis://***@cache:7000/1');
    expect(() => parseRedisUrl('rediss://:s3cret@cache')).toThrow(expect.objectContaining({ message: expect.not.stringContaining('s3cret') }));
  });
});

describe.skipIf(!programs)('RedisReplayStore on a real redis-server', () => {
  let redis: RedisServer;
  let store: RedisReplayStore;
  let other: RedisReplayStore;

  beforeAll(async () => {
    redis = await startRedis(programs!['redis-server']!);
    store = new RedisReplayStore({ url: `${redis.url}/3`, timeoutMs: 200 });
    other = new RedisReplayStore({ url: `${redis.url}/3`, timeoutMs: 200 });
    await Promise.all([store.connect(), other.connect()]);
  });
  afterAll(async () => {
    await store?.close();
    await other?.close();
    await redis?.stop();
  });

  it('accepts a key once across two clients, and again after its TTL', async () => {
    expect(await store.remember('enc-a', 60_000)).toBe(true);
    expect(await other.remember('enc-a', 60_000)).toBe(false);
    expect(await store.remember('enc-a', 60_000)).toBe(false);
    expect(await store.remember('enc-short', 50)).toBe(true);
    await waitFor(async () => (await other.remember('enc-short', 60_000)) === true, 'the short key to expire');
  });

  it('of many concurrent remembers of one key, exactly one wins', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? store : other).remember('race', 60_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('a Redis at maxmemory with noeviction is "full" (ReplayStoreFullError), never a silent accept', async () => {
    const { Redis } = await import('ioredis');
    const admin = new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true });
    await admin.connect();
    try {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      await admin.config('SET', 'maxmemory', '1');
      await expect(store.remember('oom', 60_000)).rejects.toBeInstanceOf(ReplayStoreFullError);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
      admin.disconnect();
    }
    expect(await store.remember('after-oom', 60_000)).toBe(true);
  });

  it('a paused Redis makes calls fail within the bound, then recovers', async () => {
    redis.pause();
    try {
      const started = performance.now();
      await expect(store.remember('paused', 60_000)).rejects.toThrow();
      // Bounded: a generous limit, the timeout is 200 ms (bench measures the real figure).
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(await store.ping()).toBe(false);
    } finally {
      redis.resume();
    }
    await waitFor(() => store.ping(), 'Redis to answer again');
    expect(await store.remember('after-pause', 60_000)).toBe(true);
  });

  it('a killed Redis makes calls fail at once; the client reconnects when it returns', async () => {
    await redis.kill();
    await expect(store.remember('dead', 60_000)).rejects.toThrow();
    expect(await store.ping()).toBe(false);
    await redis.start();
    await waitFor(() => store.ping(), 'the client to reconnect');
    // A fresh Redis has forgotten everything: the store just works again.
    expect(await store.remember('enc-a', 60_000)).toBe(true);
    expect(await other.remember('enc-a', 60_000)).toBe(false);
  });
});
