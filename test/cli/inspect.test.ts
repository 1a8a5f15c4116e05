/**
 * `inspect` on every kind of file along the path, produced by the real binary against a router
 * process: key config, router key file, sealed body, envelope, session, SSE stream (with and
 * without the session), conversation JSON and Harmony completions (text and token ids). Text and
 * `--json` forms; never a private key or session secret; an unknown file is a usage error.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSandbox, type CliResult, runCliInProcess } from '../helpers/cli.js';
import { startRouterProcess, type RouterProcess } from '../helpers/router-process.js';
import { expectOneErrorLine } from './support.js';

type Json = Record<string, unknown>;

const sandbox = makeSandbox();
const env = sandbox.env;
const file = (name: string) => join(sandbox.dir, name);
let router: RouterProcess;

/** Chunk records of one `ask --json` answer: the token ids and texts the router sent. */
let askedChunks: Array<{ ids: number[]; text: string }>;

async function inspect(path: string, ...extra: string[]): Promise<{ text: CliResult; json: Json }> {
  const [text, json] = await Promise.all([runCliInProcess(['inspect', path, ...extra], { env }), runCliInProcess(['inspect', path, '--json', ...extra], { env })]);
  expect(text.code, text.stderr).toBe(0);
  expect(json.code, json.stderr).toBe(0);
  expect(json.stdout.trim().split('\n'), 'one JSON document').toHaveLength(1);
  return { text, json: JSON.parse(json.stdout) as Json };
}

beforeAll(async () => {
  router = await startRouterProcess(sandbox.dir, ['--render-workers', '0', ], env);
  const fetched = await runCliInProcess(['keys', 'fetch', '--router', router.url, '--out', file('router.keys')], { env });
  expect(fetched.code, fetched.stderr).toBe(0);
  const created = await runCliInProcess(
    ['create-request', 'What is 2+2?', '--router', router.url, '--keys', file('router.keys'), '--session', file('session.json'), '--body-out', file('body.bin')],
    { env },
  );
  expect(created.code, created.stderr).toBe(0);
  writeFileSync(file('envelope.json'), created.stdout);
  const sent = await runCliInProcess(['send', file('envelope.json')], { env });
  expect(sent.code, sent.stderr).toBe(0);
  writeFileSync(file('answer.sse'), sent.stdoutBytes);

  const asked = await runCliInProcess(['ask', 'What is 3*3?', '--router', router.url, '--json'], { env });
  expect(asked.code, asked.stderr).toBe(0);
  askedChunks = asked.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Json)
    .filter((record) => record['type'] === 'chunk') as unknown as Array<{ ids: number[]; text: string }>;
});

afterAll(async () => {
  await router?.stop();
  sandbox.cleanup();
});

describe('inspect', () => {
  it('a key config: ids, suites, fingerprints', async () => {
    const { text, json } = await inspect(file('router.keys'));
    expect(text.stdout).toMatch(/^key-config\n/);
    expect(text.stdout).toContain(`fingerprint: ${router.fingerprint}`);
    expect(text.stdout).toContain('name: HKDF-SHA256 + AES-128-GCM');
    const configs = json['configs'] as Json[];
    expect(configs[0]).toMatchObject({ key_id: 0, kem_id: 32, fingerprint: router.fingerprint });
    expect((configs[0]?.['suites'] as Json[]).map((suite) => suite['aead_id'])).toContain(1);
  });

  it('a router key file: its public half, never the private key', async () => {
    const generated = await runCliInProcess(['keys', 'generate', '--out', file('router.key'), '--key-id', '7', '--json'], { env });
    expect(generated.code, generated.stderr).toBe(0);
    const privateKey = (JSON.parse(readFileSync(file('router.key'), 'utf8')) as { private_key: string }).private_key;
    expect(privateKey.length).toBeGreaterThan(20);
    const { text, json } = await inspect(file('router.key'));
    expect(text.stdout).toMatch(/^router-key\n/);
    expect(text.stdout).toContain('private_key: (present, not shown)');
    expect(json).toMatchObject({ kind: 'router-key', key_id: 7, fingerprint: (JSON.parse(generated.stdout) as Json)['fingerprint'] });
    for (const output of [text.stdout, JSON.stringify(json)]) expect(output).not.toContain(privateKey);
  });

  it('a sealed body and its envelope: header, suite and sizes, never plaintext', async () => {
    const body = await inspect(file('body.bin'));
    expect(body.json).toMatchObject({ kind: 'sealed-request', key_id: 0, kem_id: 32, kdf_id: 1, aead_id: 1, suite: 'HKDF-SHA256 + AES-128-GCM' });
    expect(body.json['total_bytes']).toBe(readFileSync(file('body.bin')).byteLength);
    expect((body.json['padded_plaintext_bytes'] as number) % 1024).toBe(0);
    expect(body.text.stdout).toMatch(/^sealed-request\n/);

    const envelope = JSON.parse(readFileSync(file('envelope.json'), 'utf8')) as Json;
    const { text, json } = await inspect(file('envelope.json'));
    expect(text.stdout).toMatch(/^envelope\n/);
    expect(json).toMatchObject({ kind: 'envelope', url: `${router.url}/v1/harmony/stream`, rid: envelope['rid'], session: file('session.json') });
    expect(json['request']).toEqual(body.json); // the same body, as the envelope carries it
    for (const output of [text.stdout, JSON.stringify(json)]) expect(output).not.toContain('2+2');
  });

  it('a session file: everything but the secret', async () => {
    const session = JSON.parse(readFileSync(file('session.json'), 'utf8')) as Json;
    const secret = session['secret'] as string;
    const { text, json } = await inspect(file('session.json'));
    expect(text.stdout).toMatch(/^session\n/);
    expect(json).toMatchObject({ kind: 'session', rid: session['rid'], router: router.url, enc: session['enc'] });
    expect(json).not.toHaveProperty('secret');
    for (const output of [text.stdout, JSON.stringify(json)]) expect(output).not.toContain(secret);
  });

  it('an SSE stream without a session: events and sizes only', async () => {
    const { text, json } = await inspect(file('answer.sse'));
    expect(text.stdout).toMatch(/^sse-stream\n/);
    const events = json['event_list'] as Json[];
    expect(json['events']).toBe(events.length);
    expect(events[0]).toMatchObject({ event: 'hpke' });
    expect(events.at(-1)).toMatchObject({ event: 'final' });
    expect(events.slice(1, -1).every((event) => event['event'] === 'chunk')).toBe(true);
    expect(json).not.toHaveProperty('decrypted');
    expect(text.stdout).not.toContain('2 + 2 = 4.');
  });

  it('an SSE stream with --session: decrypted chunks with their channels, verified, the messages', async () => {
    const { text, json } = await inspect(file('answer.sse'), '--session', file('session.json'));
    expect(json).toMatchObject({ kind: 'sse-stream', verified: true });
    const decrypted = json['decrypted'] as Json[];
    expect(decrypted[0]).toMatchObject({ index: 0, type: 'start', final: false });
    expect(decrypted.at(-1)).toMatchObject({ type: 'end', final: true, finish: 'stop' });
    // The same channels as `decode --raw --show CHANNEL` picks (the old script's lines carry no label).
    const tokens = decrypted.filter((chunk) => chunk['type'] === 'tokens');
    const raw = await runCliInProcess(['decode', file('answer.sse'), '--session', file('session.json'), '--raw'], { env });
    expect(raw.stdout.trim().split('\n')).toHaveLength(tokens.length);
    for (const channel of ['analysis', 'final']) {
      const shown = await runCliInProcess(['decode', file('answer.sse'), '--session', file('session.json'), '--raw', '--show', channel], { env });
      const lines = shown.stdout.trim().split('\n').map((line) => Number(/^Chunk (\d+):/.exec(line)?.[1]));
      expect(tokens.filter((chunk) => chunk['channel'] === channel).map((chunk) => chunk['index'])).toEqual(lines);
    }
    expect(json['messages']).toEqual([
      expect.objectContaining({ channel: 'analysis', text: 'The user asks what 2+2 is. Simple arithmetic: 4.' }),
      expect.objectContaining({ channel: 'final', text: '2 + 2 = 4.' }),
    ]);
    expect(text.stdout).toContain('verified: true');
    expect(text.stdout).toContain('text: 2 + 2 = 4.');
  });

  it('a conversation: the rendered prompt and its token count, as the router counts it', async () => {
    const conversation = {
      messages: [
        { role: 'system', content: [{ type: 'system_content', model_identity: 'You are a terse calculator.', reasoning_effort: 'Low' }] },
        { role: 'developer', content: [{ type: 'developer_content', instructions: 'Answer with the number.' }] },
        { role: 'user', content: [{ type: 'text', text: 'What is 2+3?' }] },
      ],
    };
    writeFileSync(file('conversation.json'), JSON.stringify(conversation));
    const { text, json } = await inspect(file('conversation.json'));
    expect(text.stdout).toMatch(/^conversation\n/);
    expect(json['messages']).toBe(3);
    const rendered = json['rendered'] as string;
    expect(rendered).toMatch(/^<\|start\|>system<\|message\|>You are a terse calculator\.\n/);
    expect(rendered).toContain('Reasoning: low');
    expect(rendered).toContain('<|start|>developer<|message|># Instructions\n\nAnswer with the number.<|end|>');
    expect(rendered.endsWith('<|start|>user<|message|>What is 2+3?<|end|><|start|>assistant')).toBe(true);
    expect(text.stdout).toContain('  | Reasoning: low');

    // The router renders the same conversation to the same number of prompt tokens.
    const asked = await runCliInProcess(['ask', '--router', router.url, '--conversation', file('conversation.json'), '--json'], { env });
    expect(asked.code, asked.stderr).toBe(0);
    const done = JSON.parse(asked.stdout.trim().split('\n').at(-1) as string) as { answer: string; usage: { prompt_tokens: number } };
    expect(done.answer).toBe('2 + 3 = 5.');
    expect(done.usage.prompt_tokens).toBe(json['prompt_tokens']);
  });

  it('a Harmony completion, as text and as token ids, from a real answer', async () => {
    writeFileSync(file('completion.txt'), askedChunks.map((chunk) => chunk.text).join(''));
    writeFileSync(file('completion.ids'), `${askedChunks.flatMap((chunk) => chunk.ids).join(' ')}\n`);
    const expected = [
      expect.objectContaining({ role: 'assistant', channel: 'analysis', text: 'The user asks what 3*3 is. Simple arithmetic: 9.' }),
      expect.objectContaining({ role: 'assistant', channel: 'final', text: '3 * 3 = 9.' }),
    ];
    const fromText = await inspect(file('completion.txt'));
    expect(fromText.json).toMatchObject({ kind: 'harmony-completion', tokens: askedChunks.flatMap((chunk) => chunk.ids).length });
    expect(fromText.json['messages']).toEqual(expected);
    expect(fromText.text.stdout).toMatch(/^harmony-completion\n/);
    const fromIds = await inspect(file('completion.ids'));
    expect(fromIds.json).toEqual(fromText.json);
  });

  it('reads the file from stdin too', async () => {
    const result = await runCliInProcess(['inspect', '-', '--json'], { env, input: readFileSync(file('router.keys')) });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ kind: 'key-config' });
  });

  it('an unknown file, or JSON of no known kind, is a usage error', async () => {
    writeFileSync(file('notes.txt'), 'shopping list: milk, eggs\n');
    const unknown = await runCliInProcess(['inspect', file('notes.txt')], { env });
    expect(unknown.code).toBe(2);
    expectOneErrorLine(unknown.stderr, 'INSPECT_UNKNOWN');
    expect(unknown.stdout).toBe('');

    writeFileSync(file('other.json'), '{"name":"something else"}');
    const otherJson = await runCliInProcess(['inspect', file('other.json'), '--json'], { env });
    expect(otherJson.code).toBe(2);
    expectOneErrorLine(otherJson.stderr, 'INSPECT_UNKNOWN');

    writeFileSync(file('broken.json'), '{"messages": [');
    const broken = await runCliInProcess(['inspect', file('broken.json')], { env });
    expect(broken.code).toBe(2);
    expectOneErrorLine(broken.stderr, 'INSPECT_UNKNOWN');
  });
});
