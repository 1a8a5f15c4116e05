/**
 * Client authentication, per-token limits, SIGHUP reload and metrics against real `serve`
 * processes: API tokens inside the sealed request, 401 before any engine work, 429 with
 * Retry-After that the CLI's retry honours, token names (never tokens) in logs and metrics.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAll, send } from '../../../src/client/http.js';
import { buildConversation, buildPayload, sealForRouter } from '../../../src/client/request.js';
import { makeSandbox, runCli, spawnCli } from '../../helpers/cli.js';
import { startRouterProcess, type RouterProcess } from '../../helpers/router-process.js';
import { decode, finalAnswer, health, post, readProblem, routerKey, waitFor } from '../helpers.js';

const sandbox = makeSandbox();
const tokenFile = join(sandbox.dir, 'api-tokens.jsonl');
const tokens: Record<string, string> = {};
let router: RouterProcess;
let metricsUrl: string;

async function createToken(name: string, extra: string[] = []): Promise<string> {
  const result = await runCli(['keys', 'api-token', 'create', '--name', name, '--file', tokenFile, ...extra], { env: sandbox.env });
  expect(result.code, result.stderr).toBe(0);
  const token = result.stdout.trim();
  expect(token).toMatch(/^hhpke_[A-Za-z0-9_-]{43}$/);
  // Shown once on stdout, and not on stderr.
  expect(result.stderr).not.toContain(token);
  return token;
}

/** A request sealed with `apiToken` in its payload (undefined: none). */
async function sealWith(apiToken: string | undefined, prompt = 'What is 2+2?', maxTokens = 256) {
  const key = await routerKey(router.url);
  const conversation = await buildConversation({ prompt });
  const payload = buildPayload(conversation, { model: 'gpt-oss-20b', maxTokens, reasoningEffort: 'low', apiToken });
  return sealForRouter(router.url, key, payload);
}

async function metricsText(): Promise<string> {
  const response = await send({ method: 'GET', url: metricsUrl, timeouts: { totalMs: 10_000 } });
  return Buffer.from(await readAll(response.body, 4 * 1024 * 1024)).toString('utf8');
}

function metric(text: string, line: string): number {
  const found = text.split('\n').find((candidate) => candidate.startsWith(`${line} `));
  return found ? Number(found.slice(line.length + 1)) : 0;
}

beforeAll(async () => {
  tokens['alpha'] = await createToken('alpha');
  tokens['off'] = await createToken('off');
  tokens['one'] = await createToken('one', ['--max-streams', '1']);
  tokens['rate'] = await createToken('rate', ['--requests-per-minute', '2']);
  tokens['small'] = await createToken('small', ['--max-tokens', '5']);
  // Disable 'off' by hand, as an operator would.
  writeFileSync(tokenFile, readFileSync(tokenFile, 'utf8').replace(/("name":"off".*?"enabled":)true/, '$1false'), { mode: 0o600 });
  router = await startRouterProcess(sandbox.dir, ['--api-keys', tokenFile, '--metrics-port', '0', '--test-faults'], sandbox.env);
  metricsUrl = await waitFor(() => /metrics (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(router.stdout())?.[1], 'the metrics URL in the ready line');
});

afterAll(async () => {
  await router?.stop();
  sandbox.cleanup();
});

describe('API tokens', () => {
  it('the token file holds hashes only, mode 0600; the ready line says tokens are required', async () => {
    const text = readFileSync(tokenFile, 'utf8');
    for (const token of Object.values(tokens)) expect(text).not.toContain(token);
    expect(await waitFor(() => router.stdout().includes('API tokens required (5)'), 'the ready line')).toBe(true);
  });

  it('missing, unknown and disabled tokens get the same 401 before any engine work', async () => {
    const before = await metricsText();
    const bodies: string[] = [];
    for (const token of [undefined, 'hhpke_' + 'A'.repeat(43), tokens['off']]) {
      const sealed = await sealWith(token);
      const response = await post(sealed);
      const refusal = await readProblem(response);
      expect(refusal.status).toBe(401);
      expect(refusal.problem['type']).toBe('urn:harmony-hpke:error:unauthorized');
      expect(refusal.headers['www-authenticate']).toBeDefined();
      bodies.push(JSON.stringify(refusal.problem));
    }
    expect(new Set(bodies).size).toBe(1);
    const after = await metricsText();
    // No engine work: not one more chunk or token streamed.
    expect(metric(after, 'harmony_hpke_chunks_streamed_total')).toBe(metric(before, 'harmony_hpke_chunks_streamed_total'));
    for (const reason of ['missing', 'unknown', 'disabled']) {
      const line = `harmony_hpke_auth_refusals_total{reason="${reason}"}`;
      expect(metric(after, line)).toBe(metric(before, line) + 1);
    }
  });

  it('a listed token is served; the log and metrics name the token, never its value', async () => {
    const sealed = await sealWith(tokens['alpha']);
    const decoded = await decode(await post(sealed), sealed.session);
    expect(finalAnswer(decoded.ids)).toBe('2 + 2 = 4.');
    await waitFor(() => router.stderr().includes('token=alpha'), 'the log line naming the token');
    const metrics = await metricsText();
    expect(metrics).toContain('harmony_hpke_token_requests_total{token="alpha",outcome="accepted"}');
    for (const token of Object.values(tokens)) {
      expect(router.stderr()).not.toContain(token);
      expect(router.stdout()).not.toContain(token);
      expect(metrics).not.toContain(token);
    }
    expect(metrics).not.toContain(sealed.session.rid);
  });

  it('the CLI exits 14 without a token and says what to set; env, flag and a 0600 profile work', async () => {
    const args = ['ask', '--router', router.url, 'What is 2+2?'];
    const none = await runCli(args, { env: sandbox.env });
    expect(none.code).toBe(14);
    expect(none.stderr).toMatch(/^harmony-hpke: error: .*HARMONY_HPKE_API_TOKEN.*\(API_TOKEN_REFUSED\)\n$/);
    const viaEnv = await runCli(args, { env: { ...sandbox.env, HARMONY_HPKE_API_TOKEN: tokens['alpha'] } });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    expect(viaEnv.stdout).toContain('2 + 2 = 4.');
    const viaFlag = await runCli([...args, '--api-token', tokens['alpha']!], { env: sandbox.env });
    expect(viaFlag.code, viaFlag.stderr).toBe(0);
    const wrong = await runCli(args, { env: { ...sandbox.env, HARMONY_HPKE_API_TOKEN: 'hhpke_wrong' } });
    expect(wrong.code).toBe(14);
    expect(wrong.stderr).not.toContain('hhpke_wrong');

    const config = join(sandbox.dir, 'client.json');
    writeFileSync(config, JSON.stringify({ profiles: { p: { router: router.url, api_token: tokens['alpha'] } } }), { mode: 0o644 });
    chmodSync(config, 0o644);
    const open = await runCli(['--config', config, '--profile', 'p', 'ask', 'What is 2+2?'], { env: sandbox.env });
    expect(open.code).toBe(4);
    expect(open.stderr).toContain('CONFIG_PERMISSIONS');
    expect(open.stderr).not.toContain(tokens['alpha']);
    chmodSync(config, 0o600);
    const profile = await runCli(['--config', config, '--profile', 'p', 'ask', 'What is 2+2?'], { env: sandbox.env });
    expect(profile.code, profile.stderr).toBe(0);
  });

  it('an API token never reaches a session file, an envelope or a curl line', async () => {
    const session = join(sandbox.dir, 'session.json');
    const env = { ...sandbox.env, HARMONY_HPKE_API_TOKEN: tokens['alpha'] };
    const result = await runCli(['create-request', '--router', router.url, '--session', session, 'hello'], { env });
    expect(result.code, result.stderr).toBe(0);
    const curl = await runCli(['create-request', '--router', router.url, '--curl', 'hello'], { env });
    expect(curl.code, curl.stderr).toBe(0);
    for (const text of [result.stdout, result.stderr, curl.stdout, curl.stderr, readFileSync(session, 'utf8')]) {
      expect(text).not.toContain(tokens['alpha']);
    }
    // The envelope still carries it, sealed: sent as is, it is served.
    const sent = await runCli(['send'], { env: sandbox.env, input: result.stdout });
    expect(sent.code, sent.stderr).toBe(0);
  });
});

describe('per-token limits', () => {
  it('concurrent streams: the second gets 429 with Retry-After, and the CLI retry gets through once the first ends', async () => {
    const held = await sealWith(tokens['one']);
    const controller = new AbortController();
    const first = await post(held, { headers: { 'x-harmony-hpke-test-fault': 'stall' }, signal: controller.signal });
    expect(first.status).toBe(200);
    const second = await post(await sealWith(tokens['one']));
    const refusal = await readProblem(second);
    expect(refusal.status).toBe(429);
    expect(refusal.problem['type']).toBe('urn:harmony-hpke:error:rate-limited');
    expect(refusal.headers['retry-after']).toBe('1');

    // The CLI is refused while the first stream is open, waits Retry-After and tries again.
    const child = spawnCli(['ask', '--router', router.url, 'What is 2+2?'], { env: { ...sandbox.env, HARMONY_HPKE_API_TOKEN: tokens['one'] } });
    let stderr = '';
    let stdout = '';
    child.stderr?.on('data', (part: Buffer) => (stderr += part.toString()));
    child.stdout?.on('data', (part: Buffer) => (stdout += part.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await waitFor(() => stderr.includes('retrying (HTTP 429)'), 'the CLI to retry after 429');
    controller.abort();
    first.close();
    expect(await exited).toBe(0);
    expect(stdout).toContain('2 + 2 = 4.');
  });

  it('requests per minute: the third in a minute gets 429 with a Retry-After of the seconds left', async () => {
    for (let i = 0; i < 2; i += 1) {
      const sealed = await sealWith(tokens['rate']);
      expect((await decode(await post(sealed), sealed.session)).final?.t).toBe('end');
    }
    const refused = await readProblem(await post(await sealWith(tokens['rate'])));
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Another token is not limited by this one.
    const other = await sealWith(tokens['alpha']);
    expect((await post(other)).status).toBe(200);
    await waitFor(() => router.stderr().includes('token=rate error=LIMIT_RATE') || /429 .*token=rate/.test(router.stderr()), 'the 429 log line');
  });

  it('max tokens per request caps the completion', async () => {
    const sealed = await sealWith(tokens['small'], 'What is 2+2?', 500);
    const decoded = await decode(await post(sealed), sealed.session);
    expect(decoded.final).toMatchObject({ t: 'end', finish: 'length', usage: { completion_tokens: 5 } });
  });
});

describe('SIGHUP', () => {
  it('re-reads the token file without dropping an open stream; a broken file keeps the running tokens', async () => {
    const controller = new AbortController();
    const heldSeal = await sealWith(tokens['alpha']);
    const held = await post(heldSeal, { headers: { 'x-harmony-hpke-test-fault': 'stall' }, signal: controller.signal });
    expect(held.status).toBe(200);

    const fresh = await createToken('fresh');
    expect((await readProblem(await post(await sealWith(fresh)))).status).toBe(401);
    // Disable alpha and add fresh, then reload.
    writeFileSync(tokenFile, readFileSync(tokenFile, 'utf8').replace(/("name":"alpha".*?"enabled":)true/, '$1false'), { mode: 0o600 });
    const reloads = router.stderr().split('reloaded on SIGHUP').length;
    router.child.kill('SIGHUP');
    await waitFor(() => router.stderr().split('reloaded on SIGHUP').length > reloads, 'the reload');
    const ok = await sealWith(fresh);
    expect((await decode(await post(ok), ok.session)).final?.t).toBe('end');
    expect((await readProblem(await post(await sealWith(tokens['alpha'])))).status).toBe(401);
    expect((await health(router.url))['active_streams']).toBeGreaterThanOrEqual(1);

    // A broken file: the reload fails loudly and the running table stays.
    const good = readFileSync(tokenFile, 'utf8');
    writeFileSync(tokenFile, `${good}not json\n`, { mode: 0o600 });
    router.child.kill('SIGHUP');
    await waitFor(() => router.stderr().includes('SIGHUP reload failed'), 'the failed reload warning');
    const still = await sealWith(fresh);
    expect((await decode(await post(still), still.session)).final?.t).toBe('end');
    writeFileSync(tokenFile, good, { mode: 0o600 });

    // The stream opened before both reloads is still open and ends normally when its client leaves.
    expect(router.child.exitCode).toBeNull();
    controller.abort();
    held.close();
    expect(await metricsText()).toContain('harmony_hpke_reloads_total{result="failed"} 1');
  });
});

describe('serve refuses', () => {
  it('a token file readable by others (exit 4) and says open access without one', async () => {
    const loose = join(sandbox.dir, 'loose.jsonl');
    writeFileSync(loose, readFileSync(tokenFile, 'utf8'), { mode: 0o644 });
    chmodSync(loose, 0o644);
    const result = await runCli(['serve', '--port', '0', '--api-keys', loose], { env: sandbox.env, timeoutMs: 20_000 });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/API_TOKENS_PERMISSIONS/);
    const open = await startRouterProcess(sandbox.dir, [], sandbox.env);
    try {
      await waitFor(() => open.stdout().includes('open access: no API tokens'), 'the ready line saying open access');
      expect((await health(open.url))['auth']).toBe('open');
    } finally {
      await open.stop();
    }
  });
});
