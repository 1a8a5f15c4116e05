/**
 * A fleet on real parts: two `serve` processes sharing one real redis-server as their replay
 * store, behind a real nginx (round-robin on loopback). A request replayed to the other replica is
 * refused; Redis killed (or hung) gives prompt 503s and the fleet recovers when it returns; a
 * rolling key rotation by SIGHUP loses no request sealed to a key still in its grace period; a
 * replica killed mid-stream gives the client a truncated-stream exit while the other keeps serving.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SelectedKey } from '../../../src/client/keys.js';
import { makeSandbox, runCli, spawnCli } from '../../helpers/cli.js';
import { requirePrograms, freePort } from '../../helpers/external.js';
import { startNginx, type Nginx } from '../../helpers/nginx.js';
import { startRedis, type RedisServer } from '../../helpers/redis.js';
import { startRouterProcess, type RouterProcess } from '../../helpers/router-process.js';
import { decode, expectRefusal, finalAnswer, health, post, routerKey, seal, TYPES, waitFor } from '../helpers.js';

const programs = requirePrograms('redis-server', 'nginx');
const REPLAY_STORE_UNAVAILABLE = 'urn:harmony-hpke:error:replay-store-unavailable';

describe.skipIf(!programs)('two replicas, one Redis, behind nginx', () => {
  const sandbox = makeSandbox();
  const current = join(sandbox.dir, 'current.key');
  const previous = join(sandbox.dir, 'previous.key');
  const spare = (name: string) => join(sandbox.dir, name);
  let redis: RedisServer;
  let nginx: Nginx;
  const replicas: RouterProcess[] = [];
  const ports: number[] = [];

  const replicaArgs = (port: number) => [
    '--port',
    String(port),
    '--key',
    current,
    '--key',
    previous,
    '--replay-store',
    `${redis.url}/1`,
    '--test-faults',
    '--engine-delay-ms',
    '5',
  ];

  async function startReplica(index: number): Promise<RouterProcess> {
    const replica = await startRouterProcess(sandbox.dir, replicaArgs(ports[index]!), sandbox.env);
    replicas[index] = replica;
    return replica;
  }

  async function generate(file: string, keyId: number): Promise<void> {
    const result = await runCli(['keys', 'generate', '--out', file, '--key-id', String(keyId), '--force'], { env: sandbox.env });
    expect(result.code, result.stderr).toBe(0);
  }

  async function hangup(replica: RouterProcess): Promise<void> {
    const before = replica.stderr().split('reloaded on SIGHUP').length;
    replica.child.kill('SIGHUP');
    await waitFor(() => replica.stderr().split('reloaded on SIGHUP').length > before, 'the SIGHUP reload');
  }

  beforeAll(async () => {
    redis = await startRedis(programs!['redis-server']!);
    await generate(spare('k1.key'), 1);
    await generate(spare('k0.key'), 0);
    copyFileSync(spare('k1.key'), current);
    copyFileSync(spare('k0.key'), previous);
    ports.push(await freePort(), await freePort());
    await Promise.all([startReplica(0), startReplica(1)]);
    nginx = await startNginx(programs!['nginx']!, join(sandbox.dir, 'nginx'), ports.map((port) => `127.0.0.1:${port}`));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica?.stop()));
    await nginx?.stop();
    await redis?.stop();
    sandbox.cleanup();
  });

  it('nginx spreads requests over both replicas and streams every answer whole', async () => {
    for (let i = 0; i < 6; i += 1) {
      const sealed = await seal(nginx.url, 'What is 2+2?');
      const decoded = await decode(await post(sealed), sealed.session);
      expect(finalAnswer(decoded.ids)).toBe('2 + 2 = 4.');
    }
    const log = nginx.accessLog();
    for (const port of ports) expect(log).toContain(`upstream=127.0.0.1:${port}`);
    expect((await health(replicas[0]!.url))['replay_store']).toBe('ok');
  });

  it('a request served by one replica is refused as a replay by the other, and through nginx', async () => {
    const sealed = await seal(replicas[0]!.url, 'What is 2+2?');
    const first = await decode(await post(sealed), sealed.session);
    expect(first.final?.t).toBe('end');
    const atOther = { ...sealed, url: `${replicas[1]!.url}/v1/harmony/stream` };
    await expectRefusal(await post(atOther), 400, TYPES.replay);
    const viaLb = { ...sealed, url: `${nginx.url}/v1/harmony/stream` };
    for (let i = 0; i < 2; i += 1) await expectRefusal(await post(viaLb), 400, TYPES.replay);
  });

  it('Redis killed: prompt 503 replay-store-unavailable, /healthz says so, and recovery when it returns', async () => {
    await redis.kill();
    for (let i = 0; i < 4; i += 1) {
      const sealed = await seal(nginx.url, 'What is 2+2?');
      const started = performance.now();
      const refusal = await expectRefusal(await post(sealed), 503, REPLAY_STORE_UNAVAILABLE);
      // Generous bound for a loaded machine; `npm run bench` measures the real figure.
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(refusal.headers['retry-after']).toBe('1');
    }
    const status = await health(replicas[1]!.url);
    expect(status).toMatchObject({ http_status: 503, status: 'replay-store-unavailable', replay_store: 'unavailable' });
    // The CLI's retries end in exit 5 (refused), never a hang.
    const cli = await runCli(['ask', '--router', nginx.url, 'What is 2+2?'], { env: sandbox.env, timeoutMs: 30_000 });
    expect(cli.code).toBe(5);
    expect(cli.stderr).toContain('replay-store-unavailable');

    await redis.start();
    for (const replica of replicas) await waitFor(async () => (await health(replica.url))['status'] === 'ok', 'the replica to reconnect');
    const sealed = await seal(nginx.url, 'What is 2+2?');
    expect((await decode(await post(sealed), sealed.session)).final?.t).toBe('end');
  });

  it('Redis hung (SIGSTOP): requests get 503 within the bound, never hang; served again on SIGCONT', async () => {
    redis.pause();
    try {
      const sealed = await seal(replicas[0]!.url, 'What is 2+2?');
      const started = performance.now();
      await expectRefusal(await post(sealed), 503, REPLAY_STORE_UNAVAILABLE);
      expect(performance.now() - started).toBeLessThan(5_000);
    } finally {
      redis.resume();
    }
    await waitFor(async () => (await health(replicas[0]!.url))['status'] === 'ok', 'Redis to answer again');
    const sealed = await seal(replicas[0]!.url, 'What is 2+2?');
    expect((await decode(await post(sealed), sealed.session)).final?.t).toBe('end');
  });

  it('a rolling key rotation by SIGHUP loses no request sealed to a key still in its grace period', async () => {
    // Clients that fetched the key config before the rotation hold key 1.
    const k1: SelectedKey = await routerKey(nginx.url);
    expect(k1.config.keyId).toBe(1);
    const sealedEarly = await Promise.all([0, 1, 2, 3].map(() => seal(nginx.url, 'What is 2+2?', { key: k1 })));

    // Step 1: every replica learns key 2 as an accepted, unpublished key (one at a time).
    await generate(spare('k2.key'), 2);
    copyFileSync(spare('k2.key'), previous);
    await hangup(replicas[0]!);
    // Mid-roll: both replicas still serve key 1.
    const mid = await seal(nginx.url, 'What is 2+2?', { key: k1 });
    expect((await decode(await post(mid), mid.session)).final?.t).toBe('end');
    await hangup(replicas[1]!);

    // Step 2: key 2 becomes current, key 1 retired (its grace starts now), one replica at a time.
    copyFileSync(spare('k2.key'), current);
    copyFileSync(spare('k1.key'), previous);
    await hangup(replicas[0]!);
    // A client that fetched from the rolled replica seals to key 2; the other replica accepts it (step 1).
    const k2 = await routerKey(replicas[0]!.url);
    expect(k2.config.keyId).toBe(2);
    const toOld = await seal(replicas[1]!.url, 'What is 2+2?', { key: k2 });
    expect((await decode(await post(toOld), toOld.session)).final?.t).toBe('end');
    await hangup(replicas[1]!);
    expect((await routerKey(replicas[1]!.url)).config.keyId).toBe(2);

    // Requests sealed to key 1 before the rotation are served on either replica, through nginx.
    for (const sealed of sealedEarly) {
      const viaLb = { ...sealed, url: `${nginx.url}/v1/harmony/stream` };
      expect((await decode(await post(viaLb), sealed.session)).final?.t).toBe('end');
    }
    for (const replica of replicas) {
      const direct = await seal(replica.url, 'What is 2+2?', { key: k1 });
      expect((await decode(await post(direct), direct.session)).final?.t).toBe('end');
    }
  });

  it('a replica killed mid-stream: the client exits 7 (truncated), the other replica keeps serving', async () => {
    const child = spawnCli(['ask', '--router', nginx.url, '--max-tokens', '400', 'Tell me something long: ' + 'word '.repeat(200)], {
      env: sandbox.env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (part: Buffer) => (stdout += part.toString()));
    child.stderr?.on('data', (part: Buffer) => (stderr += part.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    // Find the replica holding the stream, and kill it once part of the answer has arrived.
    const victim = await waitFor(async () => {
      for (const replica of replicas) if (Number((await health(replica.url))['active_streams']) > 0) return replica;
      return undefined;
    }, 'the stream to open on a replica');
    await waitFor(() => stdout.length > 0, 'part of the answer on stdout');
    victim.child.kill('SIGKILL');
    const code = await exited;
    expect(code, stderr).toBe(7);
    expect(stderr).toMatch(/truncat/i);

    const survivor = replicas.find((replica) => replica !== victim)!;
    for (let i = 0; i < 4; i += 1) {
      const sealed = await seal(nginx.url, 'What is 2+2?');
      expect((await decode(await post(sealed), sealed.session)).final?.t).toBe('end');
    }
    const direct = await seal(survivor.url, 'What is 2+2?');
    expect((await decode(await post(direct), direct.session)).final?.t).toBe('end');
  });
});
