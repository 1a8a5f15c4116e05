/**
 * ask, send and decode options with the built binary against router processes: conversation
 * flags reaching the router, channel selection, --quiet, -v timings, saved conversations, retries
 * that never repeat a started stream, --buffer releasing nothing of a cut stream, and a second,
 * different response for one session refused as an integrity error.
 */
import { lstatSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRequest, parseRequestPlaintext, parseRouterKeyFile } from '../../src/hpke/index.js';
import { makeSandbox, runCliInProcess } from '../helpers/cli.js';
import { startRouterProcess, type RouterProcess } from '../helpers/router-process.js';
import { expectOneErrorLine, waitFor } from './support.js';

type Json = Record<string, unknown>;

const sandbox = makeSandbox();
const env = sandbox.env;
const file = (name: string) => join(sandbox.dir, name);
let keyed: RouterProcess;
let replica: RouterProcess;
let cut: RouterProcess;

function ndjson(stdout: string): Json[] {
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Json);
}

beforeAll(async () => {
  const generated = await runCliInProcess(['keys', 'generate', '--out', file('router.key')], { env });
  expect(generated.code, generated.stderr).toBe(0);
  // Two replicas with one key (and no shared replay store), and a router that dies mid-stream.
  [keyed, replica, cut] = await Promise.all([
    startRouterProcess(sandbox.dir, ['--render-workers', '0', '--key', file('router.key')], env),
    startRouterProcess(sandbox.dir, ['--render-workers', '0', '--key', file('router.key')], env),
    startRouterProcess(sandbox.dir, ['--render-workers', '0', '--fault', 'disconnect:5'], env),
  ]);
});

afterAll(async () => {
  await Promise.all([keyed, replica, cut].map((router) => router?.stop()));
  sandbox.cleanup();
});

describe('conversation flags reach the router', () => {
  it('create-request seals --system, --developer, --reasoning-effort and the rest into the request', async () => {
    const created = await runCliInProcess(
      [
        'create-request', 'What is 2+2?', '--router', keyed.url, '--keys', file('router.key'),
        '--system', 'You are a calculator.', '--developer', 'Answer tersely.', '--reasoning-effort', 'high',
        '--max-tokens', '77', '--temperature', '0.5', '--model', 'gpt-oss-120b',
      ],
      { env },
    );
    expect(created.code, created.stderr).toBe(0);
    const body = Buffer.from((JSON.parse(created.stdout) as { body: string }).body, 'base64');
    const key = parseRouterKeyFile(readFileSync(file('router.key'), 'utf8'));
    const opened = await openRequest(body, (keyId) => (keyId === key.keyId ? key : undefined));
    const payload = parseRequestPlaintext(opened.plaintext);
    expect(payload).toMatchObject({ model: 'gpt-oss-120b', params: { max_tokens: 77, temperature: 0.5, reasoning_effort: 'high' } });
    const messages = payload.conversation.messages as Json[];
    expect(messages.map((message) => message['role'])).toEqual(['system', 'developer', 'user']);
    expect(messages[0]?.['content']).toEqual([expect.objectContaining({ model_identity: 'You are a calculator.', reasoning_effort: 'High' })]);
    expect(messages[1]?.['content']).toEqual([expect.objectContaining({ instructions: 'Answer tersely.' })]);
  });

  it('ask: the router renders exactly the conversation built from the flags', async () => {
    const saved = file('flags-chat.json');
    const asked = await runCliInProcess(
      ['ask', 'What is 2+2?', '--router', keyed.url, '--system', 'You are a calculator.', '--developer', 'Answer tersely.', '--reasoning-effort', 'high', '--json', '--save', saved],
      { env },
    );
    expect(asked.code, asked.stderr).toBe(0);
    const done = ndjson(asked.stdout).at(-1) as { usage: { prompt_tokens: number } };
    // The request's messages are the saved conversation without the answer.
    const conversation = JSON.parse(readFileSync(saved, 'utf8')) as { messages: Json[] };
    writeFileSync(file('flags-request.json'), JSON.stringify({ messages: conversation.messages.slice(0, 3) }));
    const inspected = await runCliInProcess(['inspect', file('flags-request.json'), '--json'], { env });
    const report = JSON.parse(inspected.stdout) as { prompt_tokens: number; rendered: string };
    expect(report.rendered).toContain('You are a calculator.');
    expect(report.rendered).toContain('Reasoning: high');
    expect(report.rendered).toContain('# Instructions\n\nAnswer tersely.');
    expect(done.usage.prompt_tokens).toBe(report.prompt_tokens);

    const plain = await runCliInProcess(['ask', 'What is 2+2?', '--router', keyed.url, '--json'], { env });
    expect((ndjson(plain.stdout).at(-1) as { usage: { prompt_tokens: number } }).usage.prompt_tokens).not.toBe(report.prompt_tokens);
  });
});

describe('what ask prints', () => {
  it('--show picks the channels: analysis on stderr, final on stdout (--hide-analysis: see terminal.test.ts)', async () => {
    const base = ['ask', 'What is 2+2?', '--router', keyed.url];
    const analysisOnly = await runCliInProcess([...base, '--show', 'analysis'], { env });
    expect(analysisOnly.code, analysisOnly.stderr).toBe(0);
    expect(analysisOnly.stdout).toBe('');
    expect(analysisOnly.stderr).toBe('The user asks what 2+2 is. Simple arithmetic: 4.\n');

    const both = await runCliInProcess([...base, '--show', 'analysis,final'], { env });
    expect(both.stdout).toBe('2 + 2 = 4.\n');
    expect(both.stderr).toBe('The user asks what 2+2 is. Simple arithmetic: 4.\n');

    const finalOnly = await runCliInProcess([...base, '--show', 'final'], { env });
    expect(finalOnly.stdout).toBe('2 + 2 = 4.\n');
    expect(finalOnly.stderr).toBe('');
  });

  it('--quiet prints only the answer, even the embedded router notice is gone', async () => {
    const result = await runCliInProcess(['ask', 'What is 2+2?', '--quiet'], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('2 + 2 = 4.\n');
    expect(result.stderr).toBe('');
  });

  it('-v adds the timings on stderr, for ask and send --decode', async () => {
    const timing = /^harmony-hpke: time to first byte \d+ ms, to first final token \d+ ms, 34 tokens in \d+\.\d\d s \(\d+\.\d tokens\/s\)$/m;
    const asked = await runCliInProcess(['-v', 'ask', 'What is 2+2?', '--router', keyed.url], { env });
    expect(asked.code, asked.stderr).toBe(0);
    expect(asked.stdout).toBe('2 + 2 = 4.\n');
    expect(asked.stderr).toMatch(/^harmony-hpke: response headers after \d+ ms$/m);
    expect(asked.stderr).toMatch(timing);

    const created = await runCliInProcess(['create-request', 'What is 2+2?', '--router', keyed.url], { env });
    const sent = await runCliInProcess(['send', '--decode', '-v'], { env, input: created.stdout });
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stderr).toMatch(timing);

    const quiet = await runCliInProcess(['ask', 'What is 2+2?', '--router', keyed.url], { env });
    expect(quiet.stderr).toBe('');
  });

  it('--save and --conversation: a conversation grows turn by turn in one file', async () => {
    const chat = file('chat.json');
    const first = await runCliInProcess(['ask', 'What is 2+2?', '--router', keyed.url, '--save', chat], { env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toBe(`harmony-hpke: saved the conversation to ${chat}\n`);
    const second = await runCliInProcess(['ask', 'And 3*3?', '--router', keyed.url, '--conversation', chat, '--save', chat], { env });
    expect(second.code, second.stderr).toBe(0);
    const messages = (JSON.parse(readFileSync(chat, 'utf8')) as { messages: Array<{ role: string; channel?: string; content: Array<{ text?: string }> }> }).messages;
    expect(messages.map((message) => `${message.role}/${message.channel ?? '-'}`)).toEqual([
      'user/-',
      'assistant/analysis',
      'assistant/final',
      'user/-',
      'assistant/analysis',
      'assistant/final',
    ]);
    expect(messages[2]?.content[0]?.text).toBe('2 + 2 = 4.');
    expect(messages[3]?.content[0]?.text).toBe('And 3*3?');
  });
});

describe('keys that changed, and the embedded router', () => {
  it('ask re-seals once after a 422 for a stale key config; send reports it with exit 4', async () => {
    const stale = await runCliInProcess(['keys', 'generate', '--out', file('stale.key')], { env });
    expect(stale.code, stale.stderr).toBe(0);
    const shown = await runCliInProcess(['keys', 'show', file('stale.key'), '--config-out', file('stale.keys')], { env });
    expect(shown.code, shown.stderr).toBe(0);

    const asked = await runCliInProcess(['ask', 'What is 2+2?', '--router', keyed.url, '--keys', file('stale.keys')], { env });
    expect(asked.code, asked.stderr).toBe(0);
    expect(asked.stdout).toBe('2 + 2 = 4.\n');
    expect(asked.stderr).toBe("harmony-hpke: the router rejected the key (422); refetching its key config\n");

    const created = await runCliInProcess(['create-request', 'What is 2+2?', '--router', keyed.url, '--keys', file('stale.keys')], { env });
    const sent = await runCliInProcess(['send'], { env, input: created.stdout });
    expect(sent.code).toBe(4);
    expectOneErrorLine(sent.stderr, 'ROUTER_KEY_REJECTED');
    expect(sent.stderr).toMatch(/run create-request again/);
  });

  it('--local uses the embedded router even when one is configured', async () => {
    const result = await runCliInProcess(['ask', 'What is 2+2?', '--local'], { env: { ...env, HARMONY_HPKE_ROUTER: 'http://127.0.0.1:9' } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('2 + 2 = 4.\n');
    expect(result.stderr).toMatch(/^harmony-hpke: --local: using the embedded local router at http:\/\/127\.0\.0\.1:\d+ /);
  });
});

describe('send retries', () => {
  it('never repeats a request whose stream has started, whatever --retries says', async () => {
    const created = await runCliInProcess(['create-request', 'What is 2+2?', '--router', cut.url], { env });
    const rid = (JSON.parse(created.stdout) as { rid: string }).rid;
    const sent = await runCliInProcess(['send', '--decode', '--retries', '3'], { env, input: created.stdout });
    expect(sent.code).toBe(7);
    expectOneErrorLine(sent.stderr, 'STREAM_TRUNCATED');
    expect(sent.stderr).not.toMatch(/retry/);
    // The router logs a request when its stream ends: wait for the line rather than racing it.
    const logged = () => cut.stderr().split('\n').filter((line) => line.includes(`rid=${rid}`));
    await waitFor(() => logged().length >= 1, 'the request in the router log');
    expect(logged()).toHaveLength(1);
  });
});

describe('decode', () => {
  it('--buffer releases nothing of a stream that never verifies; without it the verified prefix is printed', async () => {
    const created = await runCliInProcess(['create-request', 'What is 2+2?', '--router', cut.url, '--session', file('cut-session.json')], { env });
    const sent = await runCliInProcess(['send'], { env, input: created.stdout });
    expect(sent.code, sent.stderr).toBe(0); // raw SSE is passed on as it came
    writeFileSync(file('cut.sse'), sent.stdoutBytes);

    const streamed = await runCliInProcess(['decode', file('cut.sse'), '--session', file('cut-session.json'), '--raw'], { env });
    expect(streamed.code).toBe(7);
    expect(streamed.stdout.split('\n')[0]).toBe("Chunk 1: '<|channel|>'");

    const buffered = await runCliInProcess(['decode', file('cut.sse'), '--session', file('cut-session.json'), '--raw', '--buffer'], { env });
    expect(buffered.code).toBe(7);
    expectOneErrorLine(buffered.stderr, 'STREAM_TRUNCATED');
    expect(buffered.stdout).toBe('');

    const bufferedJson = await runCliInProcess(['decode', file('cut.sse'), '--session', file('cut-session.json'), '--json', '--buffer'], { env });
    expect(bufferedJson.code).toBe(7);
    expect(ndjson(bufferedJson.stdout)).toEqual([expect.objectContaining({ type: 'error', code: 'STREAM_TRUNCATED', exit_code: 7 })]);

    const live = await runCliInProcess(['create-request', 'What is 2+2?', '--router', cut.url], { env });
    const sentBuffered = await runCliInProcess(['send', '--decode', '--buffer', '--raw'], { env, input: live.stdout });
    expect(sentBuffered.code).toBe(7);
    expect(sentBuffered.stdout).toBe('');
  });

  it('a second, different response for the same session is an integrity error (6)', async () => {
    // One sealed request, answered by two replicas that share the key: two valid responses.
    const session = file('twice-session.json');
    const created = await runCliInProcess(['create-request', 'What is 2+2?', '--router', keyed.url, '--keys', file('router.key'), '--session', session], { env });
    expect(created.code, created.stderr).toBe(0);
    const envelope = JSON.parse(created.stdout) as Json;
    const rid = envelope['rid'] as string;
    const toReplica = JSON.stringify({ ...envelope, url: `${replica.url}/v1/harmony/stream` });
    const fromKeyed = await runCliInProcess(['send'], { env, input: created.stdout });
    const fromReplica = await runCliInProcess(['send'], { env, input: toReplica });
    expect(fromKeyed.code, fromKeyed.stderr).toBe(0);
    expect(fromReplica.code, fromReplica.stderr).toBe(0);

    // Decoded through the discovery link (no --session): the link stays a link, the file learns the response.
    const first = await runCliInProcess(['decode'], { env, input: fromKeyed.stdout });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe('2 + 2 = 4.\n');
    expect(lstatSync(join(sandbox.dir, 'state', 'harmony-hpke', 'sessions', `${rid}.json`)).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(session, 'utf8'))).toHaveProperty('response_nonce');

    const again = await runCliInProcess(['decode', '--session', session], { env, input: fromKeyed.stdout });
    expect(again.code, again.stderr).toBe(0);

    for (const args of [['decode', '--session', session], ['decode']]) {
      const second = await runCliInProcess(args, { env, input: fromReplica.stdout });
      expect(second.code, args.join(' ')).toBe(6);
      expectOneErrorLine(second.stderr, 'SECOND_RESPONSE');
      expect(second.stdout).toBe('');
    }
  });

  it('send --decode records the response too, so a later different one is refused', async () => {
    const session = file('send-decode-session.json');
    const created = await runCliInProcess(['create-request', 'What is 2+2?', '--router', keyed.url, '--keys', file('router.key'), '--session', session], { env });
    const envelope = JSON.parse(created.stdout) as Json;
    const decoded = await runCliInProcess(['send', '--decode'], { env, input: created.stdout });
    expect(decoded.code, decoded.stderr).toBe(0);
    const other = await runCliInProcess(['send'], { env, input: JSON.stringify({ ...envelope, url: `${replica.url}/v1/harmony/stream` }) });
    expect(other.code, other.stderr).toBe(0);
    const second = await runCliInProcess(['decode', '--session', session], { env, input: other.stdout });
    expect(second.code).toBe(6);
    expectOneErrorLine(second.stderr, 'SECOND_RESPONSE');
  });
});
