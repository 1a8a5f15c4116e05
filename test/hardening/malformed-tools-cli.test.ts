/**
 * The real-world malformed shapes (fixtures/malformed-harmony) through the whole stack: a fake vLLM
 * upstream sends each fixture's token ids, a real router process relays them, and the built CLI
 * parses them leniently (the tool call kept: a `tool_call` event, exit 13; the final answer kept:
 * exit 0) or strictly (`--strict`: exit 9 with the parse error, or the reference's reading).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHarmonyEncoding } from '../../src/harmony/index.js';
import { makeSandbox, runCliInProcess } from '../helpers/cli.js';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js';
import { startRouterProcess, type RouterProcess } from '../helpers/router-process.js';
import { vllmBody } from './helpers.js';

interface Case {
  readonly name: string;
  readonly text: string;
  readonly ids: number[];
}

const cases = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'malformed-harmony', 'cases.json'), 'utf8')) as Case[];
const encoding = loadHarmonyEncoding('HarmonyGptOss');
const sandbox = makeSandbox();
let upstream: FakeUpstream;
let relay: RouterProcess;

beforeAll(async () => {
  upstream = await startFakeUpstream([
    {
      path: '/v1/completions',
      handler: (_req, res, request) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const name = caseName(request.json as { prompt: number[] });
        const c = cases.find((item) => item.name === name);
        if (!c) {
          res.end('data: {"error":{"message":"no such case"}}\n\n');
          return;
        }
        for (const event of vllmBody(c.ids, 'stop', 3)) res.write(event);
        res.end();
      },
    },
  ]);
  relay = await startRouterProcess(sandbox.dir, ['--render-workers', '0', '--upstream', upstream.url, '--upstream-kind', 'vllm'], sandbox.env);
}, 60_000);

afterAll(async () => {
  await relay?.stop();
  await upstream?.close();
  sandbox.cleanup();
});

/** The prompt's user text holds `case:NAME`; the ids are the router's rendering of it. */
function caseName(body: { prompt: number[] }): string {
  return /case:([a-z0-9-]+)/.exec(encoding.decode(body.prompt))?.[1] ?? '';
}

const ask = (name: string, extra: string[] = []) =>
  runCliInProcess(['ask', `case:${name}`, '--router', relay.url, '--json', ...extra], { env: sandbox.env, timeoutMs: 30_000 });

function events(stdout: string): Array<Record<string, unknown>> {
  return stdout.trim().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
}

const toolCases = cases.filter((c) => /to=functions\./.test(c.text));
const answerCases = cases.filter((c) => ['text-after-end-without-start', 'missing-end-before-final', 'role-after-end-without-start', 'junk-before-channel-name'].includes(c.name) && !/to=functions\./.test(c.text));

describe('malformed tool calls through a real router (lenient)', () => {
  it.each(toolCases.map((c) => [c.name] as const))('%s: the call survives (tool_call event, exit 13)', async (name) => {
    const result = await ask(name);
    expect(result.code, result.stderr).toBe(13);
    const all = events(result.stdout);
    const call = all.find((event) => event['type'] === 'tool_call');
    expect(call?.['recipient']).toMatch(/^functions\.[\w-]+$/);
    expect(all.at(-1)?.['type']).toBe('done');
  });

  it.each(answerCases.map((c) => [c.name] as const))('%s: the final answer is the answer (exit 0)', async (name) => {
    const result = await ask(name);
    expect(result.code, result.stderr).toBe(0);
    const done = events(result.stdout).at(-1) as { answer: string };
    expect(done.answer).toMatch(/^(2 \+ 2 = 4\.|Hello!)$/);
    expect(result.stderr).toMatch(/warning: malformed Harmony from the model, recovered: .*\(HARMONY_[A-Z_]+\)/);
  });
});

const STRICT_CODES = new Map<string, number>();

describe('the same with --strict', () => {
  it.each([...toolCases, ...answerCases].map((c) => [c.name] as const))('%s: exit 9 with the parse error, or the reference\'s reading', async (name) => {
    const result = await ask(name, ['--strict']);
    expect([0, 9, 13], result.stderr).toContain(result.code);
    if (result.code === 9) expect(result.stderr).toMatch(/\(HARMONY_[A-Z_]+\)/);
    STRICT_CODES.set(name, result.code ?? -1);
  });

  it('strict mode refuses the shapes the reference refuses, and keeps the calls it reads', () => {
    expect(Object.fromEntries(STRICT_CODES)).toEqual({
      'junk-before-channel-name': 9,
      'channel-name-with-question-marks': 9,
      // The reference reads the recipient as `functions.get_weather<|channel|>commentary?`.
      'doubled-channel-marker': 9,
      'unicode-spaces-in-header': 9,
      'recipient-in-role-header': 13,
      'recipient-after-channel-json-word': 13,
      'tool-call-on-analysis-channel': 13,
      'hyphenated-tool-name': 13,
      'missing-end-before-tool-call': 9,
      'tool-call-ending-in-return': 13,
      // The adapter closes the turn with <|call|> after the <|end|>: a token where <|start|> belongs.
      'tool-call-ending-in-end': 9,
      'tool-call-cut-before-call': 13,
      'text-after-end-without-start': 9,
      'role-after-end-without-start': 9,
      'missing-end-before-final': 9,
    });
  });
});
