/**
 * The CLI end to end, as users run it: the real built binary as a child process against a real
 * router process on loopback. ask and the create-request | send | decode pipeline agree.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, baseEnv, makeSandbox, runCliInProcess } from '../helpers/cli.js';
import { startRouterProcess, type RouterProcess } from '../helpers/router-process.js';

const sandbox = makeSandbox();
let router: RouterProcess;
let keysFile: string;

beforeAll(async () => {
  router = await startRouterProcess(sandbox.dir, ['--render-workers', '0', ], sandbox.env);
  keysFile = join(sandbox.dir, 'router.ohttp-keys');
  const fetched = await runCliInProcess(['keys', 'fetch', '--router', router.url, '--out', keysFile], { env: sandbox.env });
  expect(fetched.code, fetched.stderr).toBe(0);
});

afterAll(async () => {
  await router?.stop();
  sandbox.cleanup();
});

describe('ask', () => {
  it('answers 2+2 with the embedded router when no router is configured', async () => {
    const result = await runCliInProcess(['ask', 'What is 2+2?'], { env: sandbox.env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('2 + 2 = 4.\n');
    expect(result.stderr).toMatch(/embedded local router/);
    expect(result.stderr.split('\n').filter((line) => line.includes('embedded'))).toHaveLength(1);
  });

  it('talks to a configured router and prints only the final channel on stdout', async () => {
    const result = await runCliInProcess(['ask', 'What is 12*(3+4)?', '--router', router.url], { env: sandbox.env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('12 * (3 + 4) = 84.\n');
    expect(result.stderr).not.toMatch(/embedded/);
  });

  it('prints NDJSON with --json: chunks, one message per Harmony message, done last', async () => {
    const result = await runCliInProcess(['ask', 'What is 2+2?', '--router', router.url, '--json'], { env: sandbox.env });
    expect(result.code, result.stderr).toBe(0);
    const records = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const messages = records.filter((record) => record['type'] === 'message');
    expect(messages.map((message) => message['channel'])).toEqual(['analysis', 'final']);
    expect(messages[1]).toMatchObject({ type: 'message', channel: 'final', recipient: null, text: '2 + 2 = 4.' });
    expect(records.filter((record) => record['type'] === 'chunk').length).toBeGreaterThan(5);
    expect(records.at(-1)).toMatchObject({ type: 'done', finish: 'stop', answer: '2 + 2 = 4.', verified: true });
  });

  it("prints each decrypted chunk with --raw in the old helper script's format exactly", async () => {
    const result = await runCliInProcess(['ask', 'What is 2+2?', '--router', router.url, '--raw'], { env: sandbox.env });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe("Chunk 1: '<|channel|>'");
    expect(lines[1]).toBe("Chunk 2: 'analysis'");
    expect(lines).toContain("Chunk 3: '<|message|>'");
    expect(lines.at(-1)).toMatch(/^Chunk \d+: '<\|return\|>'$/);
    // Every line is the old script's `print(f"Chunk {i}: {text!r}")`.
    for (const line of lines) expect(line).toMatch(/^Chunk \d+: (?:'[^']*'|"[^"]*")$/);
  });

  it('--raw --show final prints only the chunks of the final channel; --raw --json is a usage error', async () => {
    const all = await runCliInProcess(['ask', 'What is 2+2?', '--router', router.url, '--raw'], { env: sandbox.env });
    const final = await runCliInProcess(['ask', 'What is 2+2?', '--router', router.url, '--raw', '--show', 'final'], { env: sandbox.env });
    expect(final.code, final.stderr).toBe(0);
    const lines = final.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThan(all.stdout.trim().split('\n').length);
    expect(lines).not.toContain("Chunk 2: 'analysis'");
    expect(lines.at(-1)).toMatch(/^Chunk \d+: '<\|return\|>'$/);
    const both = await runCliInProcess(['ask', 'What is 2+2?', '--router', router.url, '--raw', '--json'], { env: sandbox.env });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--raw.*--json|--json.*--raw/);
    expect(JSON.parse(both.stdout)).toMatchObject({ type: 'error', code: 'USAGE_CONFLICTING_OPTION', exit_code: 2 });
  });

  it('saves the conversation with the answer and continues it', async () => {
    const saved = join(sandbox.dir, 'convo.json');
    const first = await runCliInProcess(['ask', 'What is 2+2?', '--router', router.url, '--save', saved], { env: sandbox.env });
    expect(first.code, first.stderr).toBe(0);
    const conversation = JSON.parse(readFileSync(saved, 'utf8')) as { messages: Array<{ role: string; channel?: string }> };
    expect(conversation.messages.map((message) => [message.role, message.channel ?? null])).toEqual([
      ['user', null],
      ['assistant', 'analysis'],
      ['assistant', 'final'],
    ]);
    const second = await runCliInProcess(['ask', 'What is 3*3?', '--router', router.url, '--conversation', saved], { env: sandbox.env });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe('3 * 3 = 9.\n');
  });
});

describe('create-request | send | decode', () => {
  it('gives the same answer as ask, offline key config, session file mode 0600', async () => {
    const session = join(sandbox.dir, 'pipeline-session.json');
    const created = await runCliInProcess(['create-request', 'What is 2+2?', '--router', router.url, '--keys', keysFile, '--session', session], {
      env: sandbox.env,
    });
    expect(created.code, created.stderr).toBe(0);
    const envelope = JSON.parse(created.stdout) as Record<string, unknown>;
    expect(Object.keys(envelope).sort()).toEqual(['body', 'headers', 'rid', 'session', 'url']);
    expect(envelope['url']).toBe(`${router.url}/v1/harmony/stream`);
    expect(envelope['session']).toBe(session);
    expect(statSync(session).mode & 0o777).toBe(0o600);

    const sent = await runCliInProcess(['send'], { env: sandbox.env, input: created.stdout });
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(/^event: hpke\n/);

    const decoded = await runCliInProcess(['decode'], { env: sandbox.env, input: sent.stdout });
    expect(decoded.code, decoded.stderr).toBe(0);
    const asked = await runCliInProcess(['ask', 'What is 2+2?', '--router', router.url], { env: sandbox.env });
    expect(decoded.stdout).toBe(asked.stdout);
    expect(decoded.stdout).toBe('2 + 2 = 4.\n');
  });

  it('works as a real shell pipeline, finding the stored session by itself', () => {
    const env = baseEnv(sandbox.env);
    const node = JSON.stringify(process.execPath);
    const bin = JSON.stringify(BIN);
    const output = execFileSync(
      'bash',
      [
        '-o',
        'pipefail',
        '-c',
        `${node} ${bin} create-request "What is 7-2?" --router ${router.url} | ${node} ${bin} send | ${node} ${bin} decode --json`,
      ],
      { env, encoding: 'utf8' },
    );
    const records = output.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.at(-1)).toMatchObject({ type: 'done', answer: '7 - 2 = 5.' });
    expect(records.find((record) => record['type'] === 'message' && record['channel'] === 'final')).toMatchObject({
      text: '7 - 2 = 5.',
    });
  });

  it('send --decode decodes in the same process', async () => {
    const created = await runCliInProcess(['create-request', 'What is 1+1?', '--router', router.url, '--keys', keysFile], { env: sandbox.env });
    expect(created.code, created.stderr).toBe(0);
    const sent = await runCliInProcess(['send', '--decode'], { env: sandbox.env, input: created.stdout });
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toBe('1 + 1 = 2.\n');
  });

  it('--curl prints a command line that curl runs (| grep curl | bash keeps working)', async () => {
    const hasCurl = spawnSync('curl', ['--version']).status === 0;
    expect(hasCurl, 'curl must be installed for this test').toBe(true);
    const created = await runCliInProcess(['create-request', 'What is 6/3?', '--router', router.url, '--keys', keysFile, '--curl'], {
      env: sandbox.env,
    });
    expect(created.code, created.stderr).toBe(0);
    const line = created.stdout.split('\n').find((candidate) => candidate.includes('curl'));
    expect(line).toBeDefined();
    const sse = execFileSync('bash', ['-c', line as string], { encoding: 'utf8' });
    expect(sse).toMatch(/^event: hpke\n/);
    const decoded = await runCliInProcess(['decode'], { env: sandbox.env, input: sse });
    expect(decoded.code, decoded.stderr).toBe(0);
    expect(decoded.stdout).toBe('6 / 3 = 2.\n');
  });

  it('--body-out writes the raw sealed body that inspect recognises', async () => {
    const bodyFile = join(sandbox.dir, 'body.bin');
    const created = await runCliInProcess(['create-request', 'hi', '--router', router.url, '--keys', keysFile, '--body-out', bodyFile], {
      env: sandbox.env,
    });
    expect(created.code, created.stderr).toBe(0);
    const envelope = JSON.parse(created.stdout) as { body: string };
    expect(readFileSync(bodyFile).toString('base64')).toBe(envelope.body);
    const inspected = await runCliInProcess(['inspect', bodyFile, '--json'], { env: sandbox.env });
    expect(inspected.code, inspected.stderr).toBe(0);
    expect(JSON.parse(inspected.stdout)).toMatchObject({ kind: 'sealed-request', kem_id: 32, kdf_id: 1, aead_id: 1 });
    expect(inspected.stdout).not.toMatch(/"hi"/);
  });

  it('a saved stream decodes again later from the file with --session', async () => {
    const session = join(sandbox.dir, 'later-session.json');
    const streamFile = join(sandbox.dir, 'later.sse');
    const created = await runCliInProcess(['create-request', 'What is 9+1?', '--router', router.url, '--keys', keysFile, '--session', session], {
      env: sandbox.env,
    });
    const sent = await runCliInProcess(['send'], { env: sandbox.env, input: created.stdout });
    writeFileSync(streamFile, sent.stdoutBytes);
    const decoded = await runCliInProcess(['decode', streamFile, '--session', session], { env: sandbox.env });
    expect(decoded.code, decoded.stderr).toBe(0);
    expect(decoded.stdout).toBe('9 + 1 = 10.\n');
  });
});
