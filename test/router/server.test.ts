/**
 * `harmony-hpke serve` as a real child process on a free loopback port, driven over HTTP with the
 * library client: the ready file, /healthz, the key endpoint, a full encrypted answer, every
 * refusal before the stream (status, problem+json, stable type, headers), heartbeats, the
 * test-fault header and the request log.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange } from '../../src/client/exchange.js';
import { readAll, send } from '../../src/client/http.js';
import { encodeKeyConfigList, parseKeyConfigList, publicKeyFingerprint } from '../../src/hpke/index.js';
import { StreamDecoder } from '../../src/sse/index.js';
import { makeSandbox } from '../helpers/cli.js';
import { startRouterProcess, type RouterProcess } from '../helpers/router-process.js';
import {
  ask,
  commentLines,
  decode,
  expectRefusal,
  finalAnswer,
  health,
  post,
  rawRequest,
  routerKey,
  seal,
  sealRaw,
  TYPES,
  waitFor,
} from './helpers.js';

const MAX_REQUEST_BYTES = 16 * 1024;
/** A prompt no log line may ever contain. */
const SECRET_PROMPT = 'Quokka-Zephyr-8841 what is the airspeed of an unladen swallow';
const SECRET_WORD = 'Quokka-Zephyr';

const sandbox = makeSandbox();
let router: RouterProcess;

beforeAll(async () => {
  router = await startRouterProcess(
    sandbox.dir,
    ['--test-faults', '--max-request-bytes', String(MAX_REQUEST_BYTES), '--heartbeat', '200ms', '--log-format', 'json'],
    sandbox.env,
  );
});

afterAll(async () => {
  await router?.stop();
  sandbox.cleanup();
});

describe('start-up and plain endpoints', () => {
  it('writes a ready file with the URL (a loopback free port) and the key fingerprint', async () => {
    expect(router.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Number(new URL(router.url).port)).toBeGreaterThan(0);
    expect(router.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    // Without --key the key is ephemeral, and the human ready line on stdout says so.
    await waitFor(() => router.stdout().includes('listening'), 'the ready line');
    expect(router.stdout()).toContain(
      `harmony-hpke router listening on ${router.url} (key ${router.fingerprint}, ephemeral, engine echo, open access: no API tokens)`,
    );
    const readyFiles = readdirSync(sandbox.dir).filter((name) => name.startsWith('ready-'));
    expect(readyFiles).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(sandbox.dir, readyFiles[0]!), 'utf8'))).toEqual({
      url: router.url,
      fingerprint: router.fingerprint,
    });
  });

  it('GET /healthz reports status, engine, fingerprint and stream counts', async () => {
    expect(await health(router.url)).toEqual({
      http_status: 200,
      status: 'ok',
      engine: 'echo',
      fingerprint: router.fingerprint,
      active_streams: 0,
      max_streams: 256,
      uploads: 0,
      connections: expect.any(Number),
      replay_store: 'memory',
      auth: 'open',
    });
  });

  it('serves the current key as application/ohttp-keys whose fingerprint matches the ready file', async () => {
    const response = await send({ method: 'GET', url: `${router.url}/.well-known/hpke-keys` });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/ohttp-keys');
    const bytes = await readAll(response.body, 64 * 1024);
    expect(Number(response.headers['content-length'])).toBe(bytes.byteLength);
    const configs = parseKeyConfigList(bytes);
    expect(configs).toHaveLength(1);
    expect(configs[0]?.kemId).toBe(0x0020);
    expect(configs[0]?.suites).toContainEqual({ kdfId: 1, aeadId: 1 });
    expect(publicKeyFingerprint(configs[0]!.publicKey)).toBe(router.fingerprint);
  });
});

describe('an encrypted answer', () => {
  it('answers "What is 2+2?" with 4 in well-formed Harmony, authenticated to the end', async () => {
    const answer = await ask(router.url, 'What is 2+2?');
    expect(answer.start).toMatchObject({ t: 'start', rid: answer.sealed.payload.rid, model: 'gpt-oss-20b' });
    expect(answer.final).toMatchObject({ t: 'end', finish: 'stop' });
    const usage = (answer.final as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
    expect(usage.completion_tokens).toBe(answer.ids.length);
    expect(usage.prompt_tokens).toBeGreaterThan(10);
    expect(finalAnswer(answer.ids)).toBe('2 + 2 = 4.');
    expect(answer.text).toMatch(/^<\|channel\|>analysis<\|message\|>/);
    expect(answer.text.endsWith('<|return|>')).toBe(true);
  });

  it('says plainly that no model is loaded for a question it cannot evaluate', async () => {
    const answer = await ask(router.url, 'Who wrote Hamlet?');
    expect(finalAnswer(answer.ids)).toMatch(/^No model is loaded on this router/);
  });
});

describe('refusals before the stream', () => {
  it('413 for a body over --max-request-bytes sent with Content-Length', async () => {
    const sealed = await seal(router.url, 'What is 2+2?');
    const body = new Uint8Array(MAX_REQUEST_BYTES + 1);
    body.set(sealed.body);
    const refusal = await expectRefusal(await post({ ...sealed, body }), 413, TYPES.tooLarge);
    expect(refusal.headers['connection']).toBe('close');
    expect(refusal.problem['detail']).toContain(String(MAX_REQUEST_BYTES));
  });

  it('413 for a chunked upload (no Content-Length) that grows past the limit', async () => {
    const piece = new Uint8Array(4096).fill(0x41);
    const answer = await rawRequest(`${router.url}/v1/harmony/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/harmony-hpke-req', 'transfer-encoding': 'chunked' },
      body: Array.from({ length: (2 * MAX_REQUEST_BYTES) / piece.byteLength }, () => piece),
    });
    expect(answer.status).toBe(413);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(answer.body)).toMatchObject({ type: TYPES.tooLarge, status: 413 });
  });

  it('a body exactly at the limit is not refused for its size', async () => {
    const answer = await rawRequest(`${router.url}/v1/harmony/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/harmony-hpke-req' },
      body: new Uint8Array(MAX_REQUEST_BYTES),
    });
    // All zeros: key id 0, KEM 0 is no suite at all, so the key check refuses it, not the size.
    expect(answer.status).toBe(422);
  });

  it('415 for a Content-Type other than application/harmony-hpke-req', async () => {
    const sealed = await seal(router.url, 'What is 2+2?');
    await expectRefusal(await post(sealed, { headers: { 'content-type': 'application/octet-stream' } }), 415, TYPES.mediaType);
    const none = await rawRequest(`${router.url}/v1/harmony/stream`, { method: 'POST', body: sealed.body });
    expect(none.status).toBe(415);
    expect(JSON.parse(none.body)).toMatchObject({ type: TYPES.mediaType });
  });

  it('404 for an unknown path', async () => {
    const response = await send({ method: 'GET', url: `${router.url}/v1/chat/completions` });
    await expectRefusal(response, 404, TYPES.notFound);
    const posted = await post({ url: `${router.url}/v1/harmony/streams`, body: new Uint8Array(8) });
    await expectRefusal(posted, 404, TYPES.notFound);
  });

  it('405 with Allow for a wrong method on each endpoint', async () => {
    const cases = [
      { method: 'GET', path: '/v1/harmony/stream', allow: 'POST' },
      { method: 'PUT', path: '/v1/harmony/stream', allow: 'POST' },
      { method: 'POST', path: '/.well-known/hpke-keys', allow: 'GET' },
      { method: 'DELETE', path: '/healthz', allow: 'GET' },
    ];
    for (const { method, path, allow } of cases) {
      const answer = await rawRequest(`${router.url}${path}`, { method });
      expect({ method, path, status: answer.status, allow: answer.headers['allow'] }).toEqual({ method, path, status: 405, allow });
      expect(answer.headers['content-type']).toBe('application/problem+json');
      expect(JSON.parse(answer.body)).toMatchObject({ type: TYPES.method, status: 405 });
    }
  });

  it('400 malformed for a body that is not hdr || enc || ct', async () => {
    const url = `${router.url}/v1/harmony/stream`;
    const headers = { 'content-type': 'application/harmony-hpke-req' };
    await expectRefusal(await post({ url, headers, body: new Uint8Array([1, 0]) }), 400, TYPES.malformed);
    await expectRefusal(await post({ url, headers, body: new Uint8Array(0) }), 400, TYPES.malformed);
    // A valid header, then too few bytes for enc and a tag.
    const sealed = await seal(router.url, 'What is 2+2?');
    await expectRefusal(await post({ ...sealed, body: sealed.body.slice(0, 7 + 32 + 8) }), 400, TYPES.malformed);
  });

  it('422 ohttp-key for an unknown key id, and the library client re-seals after refetching', async () => {
    const key = await routerKey(router.url);
    const staleConfig = { ...key.config, keyId: (key.config.keyId + 1) % 256 };
    const sealed = await seal(router.url, 'What is 2+2?', { key: { ...key, config: staleConfig } });
    const refusal = await expectRefusal(await post(sealed), 422, TYPES.ohttpKey);
    expect(refusal.problem['detail']).toMatch(/fetch the key config again/);

    // exchange() with a stale key config file: 422, refetch from the router, re-seal once, 200.
    const keysFile = join(sandbox.dir, 'stale.ohttp-keys');
    writeFileSync(keysFile, encodeKeyConfigList([staleConfig]));
    const payload = (await seal(router.url, 'What is 3*3?')).payload;
    const events: string[] = [];
    const result = await exchange({
      router: router.url,
      keysFile,
      env: sandbox.env,
      payload,
      onEvent: (event) => events.push(event.type),
    });
    expect(events).toContain('reseal');
    expect(result.session.kid).toBe(key.config.keyId);
    const answer = await decode(result.response, result.session);
    expect(finalAnswer(answer.ids)).toBe('3 * 3 = 9.');
  });

  it('422 ohttp-key for a suite the router does not implement', async () => {
    const sealed = await seal(router.url, 'What is 2+2?');
    const body = Uint8Array.from(sealed.body);
    body[6] = 0x07; // aead id 0x0007
    await expectRefusal(await post({ ...sealed, body }), 422, TYPES.ohttpKey);
    const kem = Uint8Array.from(sealed.body);
    kem[2] = 0x10; // kem id 0x0010 (P-256), not this router's KEM
    await expectRefusal(await post({ ...sealed, body: kem }), 422, TYPES.ohttpKey);
  });

  it('422 ohttp-key for a request that does not open (one flipped ciphertext bit)', async () => {
    const sealed = await seal(router.url, 'What is 2+2?');
    const body = Uint8Array.from(sealed.body);
    body[body.byteLength - 1]! ^= 0x01;
    await expectRefusal(await post({ ...sealed, body }), 422, TYPES.ohttpKey);
    // The same enc with an intact ciphertext still opens: the failed open recorded nothing.
    const answer = await decode(await post(sealed), sealed.session);
    expect(finalAnswer(answer.ids)).toBe('2 + 2 = 4.');
  });

  it('400 replay with server_time for the same sealed body sent twice', async () => {
    const sealed = await seal(router.url, 'What is 2+2?');
    const first = await decode(await post(sealed), sealed.session);
    expect(first.final).toMatchObject({ t: 'end', finish: 'stop' });
    const refusal = await expectRefusal(await post(sealed), 400, TYPES.replay);
    expect(refusal.problem['detail']).toMatch(/already received/);
    expect(Math.abs(Number(refusal.problem['server_time']) - Date.now() / 1000)).toBeLessThan(120);
  });

  it('400 replay with server_time for an iat more than 300 s in the past or the future', async () => {
    for (const offsetMs of [-400_000, 400_000]) {
      const sealed = await seal(router.url, 'What is 2+2?', { nowMs: Date.now() + offsetMs });
      const refusal = await expectRefusal(await post(sealed), 400, TYPES.replay);
      expect(refusal.problem['detail']).toMatch(/within 300 s/);
      const serverTime = Number(refusal.problem['server_time']);
      expect(Number.isInteger(serverTime)).toBe(true);
      expect(Math.abs(serverTime - sealed.payload.iat)).toBeGreaterThan(300);
      expect(Math.abs(serverTime - Date.now() / 1000)).toBeLessThan(120);
    }
    // 200 s off is inside the window.
    const inside = await seal(router.url, 'What is 2+2?', { nowMs: Date.now() - 200_000 });
    expect((await decode(await post(inside), inside.session)).final).toMatchObject({ finish: 'stop' });
  });
});

describe('once opened, errors travel inside the stream', () => {
  it('an invalid payload gets an authenticated bad_request error chunk, not a refusal', async () => {
    const { payload } = await seal(router.url, 'What is 2+2?');
    const sealed = await sealRaw(router.url, { ...payload, model: '' });
    const answer = await decode(await post(sealed), sealed.session);
    expect(answer.start).toMatchObject({ t: 'start', rid: payload.rid });
    expect(answer.ids).toEqual([]);
    expect(answer.final).toMatchObject({ t: 'error', code: 'bad_request' });
  });

  it('honours the test-fault header with --test-faults (error:N gives an authenticated error chunk)', async () => {
    const sealed = await seal(router.url, 'What is 2+2?');
    const response = await post(sealed, { headers: { 'x-harmony-hpke-test-fault': 'error:4' } });
    const answer = await decode(response, sealed.session);
    expect(answer.ids).toHaveLength(4);
    expect(answer.final).toMatchObject({ t: 'error', code: 'engine_fault' });
  });

  it('disconnect:N drops the connection without a final chunk (the decoder reports truncation)', async () => {
    const sealed = await seal(router.url, 'What is 2+2?');
    const response = await post(sealed, { headers: { 'x-harmony-hpke-test-fault': 'disconnect:3' } });
    await expect(decode(response, sealed.session)).rejects.toMatchObject({ code: 'STREAM_TRUNCATED' });
  });
});

describe('heartbeats', () => {
  it('sends ": ping" comment lines on a stalled stream, and freeing the client frees the slot', async () => {
    const sealed = await seal(router.url, 'What is 2+2?');
    const response = await post(sealed, { headers: { 'x-harmony-hpke-test-fault': 'stall' } });
    expect(response.status).toBe(200);
    const decoder = new StreamDecoder(sealed.session);
    let text = '';
    let pings = 0;
    let tokens = 0;
    for await (const part of response.body) {
      text += Buffer.from(part).toString('utf8');
      for (const event of decoder.push(part)) {
        if (event.type === 'ping') pings += 1;
        if (event.type === 'chunk' && event.message.t === 'tokens') tokens += 1;
      }
      if (pings >= 2) break;
    }
    response.close();
    expect(tokens).toBe(3);
    expect(pings).toBeGreaterThanOrEqual(2);
    expect(commentLines(text)).toContain(': ping');
    await waitFor(async () => (await health(router.url))['active_streams'] === 0, 'the stalled stream to end');
  });
});

describe('the request log', () => {
  it('prints one JSON line per request with id, status, tokens and duration, and never the prompt', async () => {
    const answer = await ask(router.url, SECRET_PROMPT);
    expect(answer.final).toMatchObject({ finish: 'stop' });
    // The echo engine repeats the question inside the encrypted answer: that is where it belongs.
    expect(answer.text).toContain(SECRET_WORD);
    const rid = answer.sealed.payload.rid;
    const line = await waitFor(
      () => router.stderr().split('\n').find((candidate) => candidate.includes(rid)),
      'the log line of the request',
    );
    const record = JSON.parse(line) as Record<string, unknown>;
    expect(record).toMatchObject({
      method: 'POST',
      path: '/v1/harmony/stream',
      status: 200,
      rid,
      kid: answer.sealed.session.kid,
      finish: 'stop',
      completion_tokens: answer.ids.length,
    });
    expect(record['prompt_tokens']).toBeGreaterThan(10);
    expect(typeof record['duration_ms']).toBe('number');
    expect(Date.parse(String(record['time']))).not.toBeNaN();

    const lines = router.stderr().split('\n').filter((candidate) => candidate.startsWith('{'));
    expect(lines.length).toBeGreaterThan(5);
    for (const candidate of lines) expect(() => JSON.parse(candidate) as unknown).not.toThrow();
    expect(lines.filter((candidate) => candidate.includes(rid))).toHaveLength(1);
    expect(router.stderr()).not.toContain(SECRET_WORD);
    expect(router.stdout()).not.toContain(SECRET_WORD);
  });

  it('logs refusals with their status and problem type', async () => {
    const answer = await rawRequest(`${router.url}/log-probe-${SECRET_WORD.length}`, { method: 'GET' });
    expect(answer.status).toBe(404);
    const line = await waitFor(
      () => router.stderr().split('\n').find((candidate) => candidate.includes(`/log-probe-${SECRET_WORD.length}`)),
      'the refusal log line',
    );
    expect(JSON.parse(line)).toMatchObject({ method: 'GET', status: 404, problem: TYPES.notFound });
  });
});

describe('a router without --test-faults', () => {
  const plain = makeSandbox();
  let other: RouterProcess;
  beforeAll(async () => {
    other = await startRouterProcess(plain.dir, ['--json'], plain.env);
  });
  afterAll(async () => {
    await other?.stop();
    plain.cleanup();
  });

  it('prints the --json ready line: url, fingerprint, engine, ephemeral_key', async () => {
    const line = await waitFor(() => other.stdout().split('\n').find((candidate) => candidate.startsWith('{')), 'the ready line');
    expect(JSON.parse(line)).toEqual({
      url: other.url,
      fingerprint: other.fingerprint,
      engine: 'echo',
      ephemeral_key: true,
      auth: 'open',
      replay_store: 'memory',
    });
    expect(other.stdout().trim().split('\n')).toHaveLength(1);
  });

  it('ignores the test-fault header', async () => {
    const sealed = await seal(other.url, 'What is 2+2?');
    const response = await post(sealed, { headers: { 'x-harmony-hpke-test-fault': 'error:2' } });
    const answer = await decode(response, sealed.session);
    expect(answer.final).toMatchObject({ t: 'end', finish: 'stop' });
    expect(finalAnswer(answer.ids)).toBe('2 + 2 = 4.');
  });

  it('logs text lines with status, request id, tokens and duration, never the prompt', async () => {
    const answer = await ask(other.url, SECRET_PROMPT);
    const rid = answer.sealed.payload.rid;
    const line = await waitFor(() => other.stderr().split('\n').find((candidate) => candidate.includes(rid)), 'the log line');
    const usage = (answer.final as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
    expect(line).toMatch(
      new RegExp(
        `^\\S+Z POST /v1/harmony/stream 200 rid=${rid} kid=\\d+ finish=stop tokens=${usage.prompt_tokens}\\+${usage.completion_tokens} \\d+ms$`,
      ),
    );
    expect(other.stderr()).not.toContain(SECRET_WORD);
  });
});
