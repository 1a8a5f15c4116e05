/**
 * Tool calls end to end with the built binary, a real router process and the echo engine:
 * declaring tools (both file shapes, --builtin, a profile, a conversation file) rendered exactly as
 * openai/harmony renders them; bad tools files; the tool call as a stderr line, an NDJSON event and
 * exit 13; --tool-exec round trips (each its own sealed request) up to the final answer, with the
 * whole exchange saved; the same loop through create-request | send | decode --json; the command's
 * limits; smoke --expect-tool-call passing and failing.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRequest, parseRequestPlaintext, parseRouterKeyFile } from '../../src/hpke/index.js';
import { renderPrompt, harmonyEncoding } from '../../src/router/render.js';
import { makeSandbox, runCliInProcess } from '../helpers/cli.js';
import { startRouterProcess, type RouterProcess } from '../helpers/router-process.js';
import { cliLine, expectOneErrorLine, hasScript, runInPty, runShell, sh, waitFor } from './support.js';

type Json = Record<string, unknown>;

const sandbox = makeSandbox();
const env = sandbox.env;
const file = (name: string) => join(sandbox.dir, name);
let router: RouterProcess;

const TEST_DATA = join(import.meta.dirname, '..', '..', 'fixtures', 'harmony-vectors', 'test-data');
const WEATHER_SCHEMA = {
  type: 'object',
  properties: {
    location: { type: 'string', description: 'The city and state, e.g. San Francisco, CA' },
    format: { type: 'string', enum: ['celsius', 'fahrenheit'], default: 'celsius' },
  },
  required: ['location'],
};
// The tools of openai/harmony's test_render_functions_with_parameters, in the OpenAI `tools` shape.
const REFERENCE_TOOLS = [
  { name: 'get_location', description: 'Gets the location of the user.' },
  { name: 'get_current_weather', description: 'Gets the current weather in the provided location.', parameters: WEATHER_SCHEMA },
  {
    name: 'get_multiple_weathers',
    description: 'Gets the current weather in the provided list of locations.',
    parameters: {
      type: 'object',
      properties: {
        locations: { type: 'array', items: { type: 'string' }, description: 'List of city and state, e.g. ["San Francisco, CA", "New York, NY"]' },
        format: { type: 'string', enum: ['celsius', 'fahrenheit'], default: 'celsius' },
      },
      required: ['locations'],
    },
  },
  {
    name: 'kitchensink',
    description: 'A function with various complex schemas.',
    parameters: {
      description: 'params object',
      type: 'object',
      properties: {
        string: { type: 'string', title: 'STRING', description: 'A string', examples: ['hello', 'world'] },
        string_nullable: { type: 'string', nullable: true, description: 'A nullable string', default: 'the default' },
        string_enum: { type: 'string', enum: ['a', 'b', 'c'] },
        oneof_string_or_number: {
          oneOf: [
            { type: 'string', default: 'default_string_in_oneof' },
            { type: 'number', description: 'numbers can happen too' },
          ],
          description: 'a oneof',
          default: 20,
        },
      },
    },
  },
];

function ndjson(stdout: string): Json[] {
  return stdout
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Json);
}

function writeJson(name: string, value: unknown): string {
  writeFileSync(file(name), JSON.stringify(value));
  return file(name);
}

const weatherTools = () =>
  writeJson('weather.json', [{ type: 'function', function: { name: 'get_weather', description: 'Gets the weather.', parameters: WEATHER_SCHEMA } }]);

/** The rendered prompt the router builds from a create-request envelope (opened with the router key). */
async function renderedPrompt(stdout: string): Promise<{ text: string; messages: Json[] }> {
  const body = Buffer.from((JSON.parse(stdout) as { body: string }).body, 'base64');
  const key = parseRouterKeyFile(readFileSync(file('router.key'), 'utf8'));
  const opened = await openRequest(body, (keyId) => (keyId === key.keyId ? key : undefined));
  const payload = parseRequestPlaintext(opened.plaintext);
  const prompt = renderPrompt(payload, new Date('2025-06-28T00:00:00Z'));
  return { text: harmonyEncoding().decodeUtf8(prompt.tokens), messages: payload.conversation.messages as Json[] };
}

beforeAll(async () => {
  const generated = await runCliInProcess(['keys', 'generate', '--out', file('router.key')], { env });
  expect(generated.code, generated.stderr).toBe(0);
  router = await startRouterProcess(sandbox.dir, ['--render-workers', '0', '--key', file('router.key')], env);
});

afterAll(async () => {
  await router?.stop();
  sandbox.cleanup();
});

describe('declaring tools', () => {
  const conversationWith = (name: string, messages: Json[]) => writeJson(name, { messages });
  const system = { role: 'system', content: [{ type: 'system_content', model_identity: 'You are ChatGPT, a large language model trained by OpenAI.', reasoning_effort: 'High', conversation_start_date: '2025-06-28', knowledge_cutoff: '2024-06', channel_config: { valid_channels: ['analysis', 'commentary', 'final'], channel_required: true } }] };

  it('an OpenAI tools array and openai-harmony DeveloperContent JSON render exactly as the reference renders them', async () => {
    const conversation = conversationWith('riddles.json', [system, { role: 'developer', content: [{ type: 'developer_content', instructions: 'Always respond in riddles' }] }]);
    const openai = writeJson('openai-tools.json', REFERENCE_TOOLS.map((fn) => ({ type: 'function', function: fn })));
    const harmony = writeJson('harmony-tools.json', { type: 'developer_content', tools: { functions: { name: 'functions', tools: REFERENCE_TOOLS } } });
    const expected = readFileSync(join(TEST_DATA, 'test_render_functions_with_parameters.txt'), 'utf8').replace(/\n$/, '');
    for (const tools of [openai, harmony]) {
      const created = await runCliInProcess(
        ['create-request', 'What is the weather like in SF?', '--router', router.url, '--keys', file('router.key'), '--conversation', conversation, '--tools', tools],
        { env },
      );
      expect(created.code, created.stderr).toBe(0);
      expect((await renderedPrompt(created.stdout)).text).toBe(expected);
    }
  });

  it('--builtin browser goes into the system message, --tools into a new developer message', async () => {
    const conversation = conversationWith('plain.json', [{ role: 'system', content: [{ type: 'system_content', model_identity: 'You are ChatGPT, a large language model trained by OpenAI.', reasoning_effort: 'Medium', conversation_start_date: '2025-06-28', knowledge_cutoff: '2024-06', channel_config: { valid_channels: ['analysis', 'commentary', 'final'], channel_required: true } }] }]);
    const tools = writeJson('lookup.json', [{ type: 'function', function: { name: 'lookup_weather', description: "Use this tool to lookup the weather in a given location. Call it with the parameter 'location', can be any textual description of a location.", parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } } }]);
    const created = await runCliInProcess(
      ['create-request', 'Weather?', '--router', router.url, '--keys', file('router.key'), '--conversation', conversation, '--tools', tools, '--builtin', 'browser'],
      { env },
    );
    expect(created.code, created.stderr).toBe(0);
    // The reference's test data files end in a newline that is not part of the rendering.
    const reference = readFileSync(join(TEST_DATA, 'test_browser_and_function_tool.txt'), 'utf8').replace(/\n$/, '');
    const next = '<|start|>assistant';
    expect(reference.endsWith(next)).toBe(true);
    expect((await renderedPrompt(created.stdout)).text).toBe(`${reference.slice(0, -next.length)}<|start|>user<|message|>Weather?<|end|>${next}`);
  });

  it('tools come from a profile, and a --conversation file keeps its own (a --tools tool of the same name replaces it)', async () => {
    mkdirSync(join(sandbox.dir, 'profile'), { recursive: true });
    writeFileSync(join(sandbox.dir, 'profile', 'tools.json'), JSON.stringify([{ type: 'function', function: { name: 'from_profile', description: 'p' } }]));
    const config = writeJson('config.json', { profiles: { t: { tools: 'profile/tools.json' } } });
    const saved = conversationWith('saved-tools.json', [
      { role: 'developer', content: [{ type: 'developer_content', tools: { functions: { name: 'functions', tools: [{ name: 'get_weather', description: 'old' }, { name: 'kept', description: 'k' }] } } }] },
    ]);
    const created = await runCliInProcess(
      ['--config', config, '--profile', 't', 'create-request', 'hi', '--router', router.url, '--keys', file('router.key'), '--conversation', saved, '--tools', weatherTools()],
      { env },
    );
    expect(created.code, created.stderr).toBe(0);
    const { text, messages } = await renderedPrompt(created.stdout);
    const developer = messages.find((message) => message['role'] === 'developer') as { content: Array<{ tools: { functions: { tools: Array<{ name: string; description: string }> } } }> };
    expect(developer.content[0]!.tools.functions.tools.map((tool) => [tool.name, tool.description])).toEqual([
      ['kept', 'k'],
      ['from_profile', 'p'],
      ['get_weather', 'Gets the weather.'],
    ]);
    expect(text).toContain('type get_weather = (_: {');
    expect(text).toContain("Calls to these tools must go to the commentary channel: 'functions'.");
  });

  it.each([
    ['not JSON', '{"type": "function",', /tools file .*notjson\.json: not JSON/],
    ['an unknown shape', { hello: 'world' }, /not a tools document/],
    ['parameters that are not an object', [{ type: 'function', function: { name: 'bad_params', parameters: [1, 2] } }], /tool 'bad_params': "parameters" must be a JSON schema object/],
    ['a parameter schema that is not type object', [{ type: 'function', function: { name: 'str_params', parameters: { type: 'string' } } }], /tool 'str_params': "parameters" must be an object schema/],
    ['a duplicate name', [{ name: 'twice', description: '' }, { name: 'twice', description: '' }], /tool 'twice' is declared twice/],
    ['a name with spaces', [{ name: 'get weather', description: '' }], /tool 'get weather': "name" must be/],
    ['a non-function tool', [{ type: 'code_interpreter' }], /only "type": "function" tools/],
  ])('a tools file with %s is a usage error naming the file and the tool', async (_what, content, message) => {
    const path = file(_what === 'not JSON' ? 'notjson.json' : `bad-${_what.replace(/\W+/g, '-')}.json`);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    const result = await runCliInProcess(['create-request', 'hi', '--router', router.url, '--keys', file('router.key'), '--tools', path], { env });
    expect(result.code).toBe(2);
    expectOneErrorLine(result.stderr, 'TOOLS_INVALID');
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain(path);
    expect(result.stdout).toBe('');
  });

  it('two files declaring one tool, a missing file and an unknown --builtin are usage errors', async () => {
    const first = weatherTools();
    const second = writeJson('weather2.json', [{ name: 'get_weather', description: 'again' }]);
    const twice = await runCliInProcess(['create-request', 'hi', '--router', router.url, '--keys', file('router.key'), '--tools', first, '--tools', second], { env });
    expect(twice.code).toBe(2);
    expectOneErrorLine(twice.stderr, 'TOOLS_INVALID');
    expect(twice.stderr).toContain(`tools file ${second}: tool 'get_weather' is already declared in ${first}`);
    const missing = await runCliInProcess(['ask', 'hi', '--tools', file('nope.json')], { env });
    expect(missing.code).toBe(2);
    expectOneErrorLine(missing.stderr, 'TOOLS_NOT_FOUND');
    const builtin = await runCliInProcess(['ask', 'hi', '--builtin', 'browser,shell'], { env });
    expect(builtin.code).toBe(2);
    expectOneErrorLine(builtin.stderr, 'USAGE_BAD_BUILTIN');
  });
});

describe('ask: the answer is a tool call', () => {
  it('prints the call on stderr, nothing on stdout, and exits 13', async () => {
    const result = await runCliInProcess(['ask', 'Use get_weather location=Paris', '--router', router.url, '--tools', weatherTools()], { env });
    expect(result.code, result.stderr).toBe(13);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('tool call: functions.get_weather {"location":"Paris"}\n');
  });

  it('--json: a tool_call event with the parsed arguments right before done (finish tool_call)', async () => {
    const result = await runCliInProcess(['ask', 'Call get_weather location="San Francisco, CA" please', '--router', router.url, '--tools', weatherTools(), '--json'], { env });
    expect(result.code, result.stderr).toBe(13);
    const events = ndjson(result.stdout);
    expect(events.at(-1)).toMatchObject({ type: 'done', finish: 'tool_call', answer: '', verified: true, tool_calls: 0 });
    expect(events.at(-2)).toEqual({
      type: 'tool_call',
      recipient: 'functions.get_weather',
      name: 'get_weather',
      namespace: 'functions',
      content_type: '<|constrain|>json',
      arguments: { location: 'San Francisco, CA' },
      raw: '{"location":"San Francisco, CA"}',
    });
    const messages = events.filter((event) => event['type'] === 'message');
    expect(messages.map((message) => [message['channel'], message['recipient']])).toEqual([
      ['analysis', null],
      ['commentary', 'functions.get_weather'],
    ]);
  });

  it('on a terminal: the call line on stderr (the arguments are not streamed as commentary), nothing on stdout', async () => {
    expect(hasScript(), 'util-linux script must be installed for the terminal tests').toBe(true);
    const out = file('tty-stdout.txt');
    const shown = await runInPty(`${cliLine(['ask', 'Use get_weather location=Paris', '--router', router.url, '--tools', weatherTools()])} > ${sh(out)}; echo "exit=$?"`, { ...env, NO_COLOR: '1' });
    expect(readFileSync(out, 'utf8')).toBe('');
    expect(shown.output).toContain('tool call: functions.get_weather {"location":"Paris"}\n');
    expect(shown.output).toContain('exit=13');
    // The analysis is shown dimmed on a terminal; the call's JSON only once, in the call line.
    expect(shown.output.split('{"location":"Paris"}')).toHaveLength(2);
  });

  it('a prompt that names no tool gets an ordinary answer (exit 0)', async () => {
    const result = await runCliInProcess(['ask', 'What is 2+2?', '--router', router.url, '--tools', weatherTools()], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('2 + 2 = 4.\n');
  });
});

describe('ask --tool-exec', () => {
  const tool = () => {
    const path = file('tool.sh');
    // Reads the call from stdin, keeps a copy, answers with a JSON object.
    writeFileSync(path, `#!/bin/sh\ncat > ${sh(file('call-seen.json'))}\nprintf '{"temperature":21,"unit":"celsius"}'\n`, { mode: 0o755 });
    return path;
  };

  it('runs the command with the call on stdin, sends its answer back and prints the final answer; --save keeps the whole exchange', async () => {
    const saved = file('exchange.json');
    const result = await runCliInProcess(
      ['ask', 'Use get_weather location=Paris', '--router', router.url, '--tools', weatherTools(), '--tool-exec', tool(), '--save', saved, '--debug'],
      { env },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('functions.get_weather returned: {"temperature":21,"unit":"celsius"}\n');
    expect(result.stderr).toContain('tool call: functions.get_weather {"location":"Paris"}');
    expect(JSON.parse(readFileSync(file('call-seen.json'), 'utf8'))).toEqual({
      recipient: 'functions.get_weather',
      namespace: 'functions',
      name: 'get_weather',
      content_type: '<|constrain|>json',
      arguments: { location: 'Paris' },
      raw: '{"location":"Paris"}',
    });
    const messages = (JSON.parse(readFileSync(saved, 'utf8')) as { messages: Json[] }).messages;
    expect(messages.map((message) => [message['role'], message['name'], message['channel'] ?? null, message['recipient'] ?? null])).toEqual([
      ['developer', null, null, null],
      ['user', null, null, null],
      ['assistant', null, 'analysis', null],
      ['assistant', null, 'commentary', 'functions.get_weather'],
      ['tool', 'functions.get_weather', 'commentary', 'assistant'],
      ['assistant', null, 'analysis', null],
      ['assistant', null, 'final', null],
    ]);
    // Two round trips, each its own request with its own rid (from --debug), both in the router's log
    // (which the router writes as each stream ends, so it is waited for, not read at once).
    const rids = [...result.stderr.matchAll(/sealed request: \d+ bytes, rid=(\S+)/g)].map((match) => match[1]!);
    expect(rids).toHaveLength(2);
    expect(new Set(rids).size).toBe(2);
    const logged = () => router.stderr().split('\n').filter((line) => line.includes('/v1/harmony/stream') && rids.some((rid) => line.includes(`rid=${rid}`)));
    await waitFor(() => logged().length >= 2, 'both requests in the router log');
    expect(logged()).toHaveLength(2);
  });

  it('the second request keeps the first round\'s analysis (the reference keeps reasoning before a tool call)', async () => {
    // What ask sends in round two, rendered as the router renders it.
    const result = await runCliInProcess(
      ['ask', 'Use get_weather location=Paris', '--router', router.url, '--tools', weatherTools(), '--tool-exec', tool(), '--save', file('round2.json')],
      { env },
    );
    expect(result.code, result.stderr).toBe(0);
    const all = (JSON.parse(readFileSync(file('round2.json'), 'utf8')) as { messages: Json[] }).messages;
    const roundTwo = writeJson('round2-request.json', { messages: all.slice(0, 5) });
    const created = await runCliInProcess(['create-request', '--router', router.url, '--keys', file('router.key'), '--conversation', roundTwo], { env });
    expect(created.code, created.stderr).toBe(0);
    const { text } = await renderedPrompt(created.stdout);
    expect(text).toContain('<|start|>assistant<|channel|>analysis<|message|>The user asks for the tool get_weather.');
    expect(text).toContain('<|start|>assistant to=functions.get_weather<|channel|>commentary <|constrain|>json<|message|>{"location":"Paris"}<|call|>');
    expect(text.endsWith('<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>{"temperature":21,"unit":"celsius"}<|end|><|start|>assistant')).toBe(true);
  });

  it("after a tool call, earlier turns' analysis is dropped and this turn's kept (what the router rendered)", async () => {
    const history = writeJson('history.json', {
      messages: [
        { role: 'user', content: 'What is 2+2?' },
        { role: 'assistant', channel: 'analysis', content: 'OLD REASONING that must not be sent again after a tool call.' },
        { role: 'assistant', channel: 'final', content: '2 + 2 = 4.' },
      ],
    });
    const saved = file('history-out.json');
    const result = await runCliInProcess(
      ['ask', 'Use get_weather location=Paris', '--router', router.url, '--tools', weatherTools(), '--tool-exec', tool(), '--conversation', history, '--save', saved, '--json'],
      { env },
    );
    expect(result.code, result.stderr).toBe(0);
    const done = ndjson(result.stdout).at(-1) as { usage: { prompt_tokens: number } };
    const all = (JSON.parse(readFileSync(saved, 'utf8')) as { messages: Json[] }).messages;
    // The saved record keeps everything; round two sent it without the old analysis.
    expect(all.some((message) => JSON.stringify(message).includes('OLD REASONING'))).toBe(true);
    const roundTwo = all.slice(0, -2);
    const withoutOld = roundTwo.filter((message) => !JSON.stringify(message).includes('OLD REASONING'));
    const tokens = (messages: Json[]) =>
      renderPrompt({ v: 1, rid: 'x', iat: 0, model: 'm', conversation: { messages }, params: { reasoning_effort: 'medium' } } as never, new Date()).tokens.length;
    expect(tokens(withoutOld)).not.toBe(tokens(roundTwo));
    expect(done.usage.prompt_tokens).toBe(tokens(withoutOld));
    // This turn's analysis (before the call) was part of it.
    expect(withoutOld.some((message) => message['channel'] === 'analysis')).toBe(true);
  });

  it('--json: tool_call, tool_result, then the final round and one done', async () => {
    const result = await runCliInProcess(['ask', 'get_weather location=Oslo', '--router', router.url, '--tools', weatherTools(), '--tool-exec', tool(), '--json'], { env });
    expect(result.code, result.stderr).toBe(0);
    const events = ndjson(result.stdout).filter((event) => event['type'] !== 'chunk');
    expect(events.map((event) => event['type'])).toEqual(['message', 'message', 'tool_call', 'tool_result', 'message', 'message', 'done']);
    expect(events[3]).toEqual({ type: 'tool_result', recipient: 'functions.get_weather', name: 'get_weather', namespace: 'functions', output: '{"temperature":21,"unit":"celsius"}' });
    expect(events.at(-1)).toMatchObject({ type: 'done', finish: 'stop', tool_calls: 1, answer: 'functions.get_weather returned: {"temperature":21,"unit":"celsius"}' });
  });

  it('model-controlled arguments never reach a shell', async () => {
    const marker = file('PWNED');
    const hostile = `get_weather location=$(touch${'${IFS}'}${marker})\`touch${'${IFS}'}${marker}\`;touch${'${IFS}'}${marker}`;
    const result = await runCliInProcess(['ask', hostile, '--router', router.url, '--tools', weatherTools(), '--tool-exec', `cat > /dev/null; echo '"ok"'`], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('functions.get_weather returned: "ok"\n');
    expect(existsSync(marker)).toBe(false);
  });

  it('a failing, slow or flooding command is a clear error (exit 2), and --max-tool-calls 0 leaves the call unhandled (exit 13)', async () => {
    const base = ['ask', 'get_weather location=Oslo', '--router', router.url, '--tools', weatherTools()];
    const failing = await runCliInProcess([...base, '--tool-exec', 'echo "no such city" >&2; exit 3'], { env });
    expect(failing.code).toBe(2);
    expectOneErrorLine(failing.stderr, 'TOOL_EXEC_FAILED');
    expect(failing.stderr).toContain('exited with status 3 for functions.get_weather: no such city');
    const slow = await runCliInProcess([...base, '--tool-exec', 'sleep 30', '--tool-timeout', '1s'], { env, timeoutMs: 25_000 });
    expect(slow.code).toBe(2);
    expectOneErrorLine(slow.stderr, 'TOOL_EXEC_TIMEOUT');
    const flood = await runCliInProcess([...base, '--tool-exec', 'head -c 3000000 /dev/zero'], { env });
    expect(flood.code).toBe(2);
    expectOneErrorLine(flood.stderr, 'TOOL_EXEC_OUTPUT_TOO_LARGE');
    const capped = await runCliInProcess([...base, '--tool-exec', tool(), '--max-tool-calls', '0'], { env });
    expect(capped.code).toBe(13);
    expect(capped.stderr).toContain('--max-tool-calls 0');
  });
});

describe('create-request | send | decode --json', () => {
  it('drives the same loop: tool_call event (exit 13), then the tool message, then the final answer', async () => {
    const first = await runShell(
      `${cliLine(['create-request', 'get_weather location=Lima', '--router', router.url, '--keys', file('router.key'), '--tools', weatherTools()])} | ${cliLine(['send'])} | ${cliLine(['decode', '--json'])}; echo "exit=$?"`,
      env,
    );
    const lines = first.output.trim().split('\n');
    expect(lines.at(-1)).toBe('exit=13');
    const events = lines.slice(0, -1).map((line) => JSON.parse(line) as Json);
    expect(events.at(-1)).toMatchObject({ type: 'done', finish: 'tool_call' });
    const call = events.at(-2) as { type: string; recipient: string; arguments: unknown };
    expect(call).toMatchObject({ type: 'tool_call', recipient: 'functions.get_weather', arguments: { location: 'Lima' } });

    // The script's part of the loop: the conversation so far, the model's messages, the tool's answer.
    const modelMessages = events
      .filter((event) => event['type'] === 'message')
      .map((event) => ({ role: event['role'], content: event['text'], channel: event['channel'], ...(event['recipient'] ? { recipient: event['recipient'], content_type: event['content_type'] } : {}) }));
    const next = writeJson('pipeline-round2.json', {
      messages: [
        { role: 'user', content: 'get_weather location=Lima' },
        ...modelMessages,
        { role: 'tool', name: call.recipient, recipient: 'assistant', channel: 'commentary', content: '{"sky":"clear"}' },
      ],
    });
    const second = await runShell(
      `${cliLine(['create-request', '--router', router.url, '--keys', file('router.key'), '--tools', weatherTools(), '--conversation', next])} | ${cliLine(['send'])} | ${cliLine(['decode', '--json'])}; echo "exit=$?"`,
      env,
    );
    const after = second.output.trim().split('\n');
    expect(after.at(-1)).toBe('exit=0');
    expect(JSON.parse(after.at(-2)!)).toMatchObject({ type: 'done', finish: 'stop', answer: 'functions.get_weather returned: {"sky":"clear"}' });
  });
});

describe('smoke --expect-tool-call', () => {
  it('passes on a call to that tool with matching arguments, and reports it in NDJSON and JUnit', async () => {
    const junit = file('tools.xml');
    const result = await runCliInProcess(
      ['smoke', '--router', router.url, '--tools', weatherTools(), '--prompt', 'Call get_weather location=Paris', '--expect-tool-call', 'get_weather', '--expect-args', '"location":"Paris"', '--junit', junit, '--json'],
      { env },
    );
    expect(result.code, result.stderr).toBe(0);
    const cases = ndjson(result.stdout);
    expect(cases.at(-1)).toMatchObject({ type: 'case', name: 'Call get_weather location=Paris', ok: true, finish: 'tool_call' });
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toContain('tests="2" failures="0"');
    expect(xml).toContain('name="Call get_weather location=Paris"');
  });

  it.each([
    ['no tool call at all', 'What is 2+2?', 'get_weather', undefined, 'TOOL_CALL_MISSING'],
    ['a call to another tool', 'Call get_weather location=Paris', 'functions.get_time', undefined, 'TOOL_CALL_MISMATCH'],
    ['arguments that do not match', 'Call get_weather location=Rome', 'get_weather', '"location":"Paris"', 'TOOL_ARGS_MISMATCH'],
  ])('fails (exit 10) on %s, in NDJSON and JUnit', async (_what, prompt, name, args, code) => {
    const junit = file(`fail-${code}.xml`);
    const result = await runCliInProcess(
      ['smoke', '--router', router.url, '--tools', weatherTools(), '--prompt', prompt, '--expect-tool-call', name, ...(args ? ['--expect-args', args] : []), '--junit', junit, '--json'],
      { env },
    );
    expect(result.code).toBe(10);
    expect(ndjson(result.stdout).at(-1)).toMatchObject({ type: 'case', ok: false, code, exit_code: 10 });
    expect(readFileSync(junit, 'utf8')).toContain(`<failure type="${code}"`);
    expectOneErrorLine(result.stderr, code);
  });

  it('--expect-args without --expect-tool-call is a usage error', async () => {
    const result = await runCliInProcess(['smoke', '--router', router.url, '--expect-args', 'x'], { env });
    expect(result.code).toBe(2);
    expectOneErrorLine(result.stderr, 'USAGE_BAD_FLAGS');
  });
});
