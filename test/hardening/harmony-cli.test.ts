/**
 * Malformed Harmony through the whole stack (issue 6): a real router process relays what a model
 * produced (the echo engine's malformed-header fault, a completion cut by max tokens, and token ids
 * chosen by a fake vLLM upstream), and the built CLI either recovers with one warning per
 * recovery (default) or exits 9 with the HarmonyParseError code (`--strict`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHarmonyEncoding } from '../../src/harmony/index.js';
import { makeSandbox, type CliResult, runCliInProcess, warmRouter } from '../helpers/cli.js';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js';
import { startRouterProcess, type RouterProcess } from '../helpers/router-process.js';
import { errorCode, useSeed, vllmBody } from './helpers.js';

const SEED = useSeed();
const sandbox = makeSandbox();
const encoding = loadHarmonyEncoding('HarmonyGptOss');
const enc = (text: string) => encoding.encode(text, { allowedSpecial: 'all' });

const HUGE = Array.from({ length: 3000 }, (_, i) => ['Grüße', '東京', '😀', '🦙', 'четыре', '½', '𝄞', 'ok'][i % 8]).join(' ');

/** What the fake model answers, chosen by a `case:NAME` marker in the prompt. */
const COMPLETIONS: Record<string, { text: string; perEvent?: number }> = {
  'missing-end': { text: '<|channel|>analysis<|message|>User asks.<|start|>assistant<|channel|>final<|message|>4 is the answer.<|return|>' },
  'unknown-channel': {
    text: '<|channel|>scratchpad<|message|>private notes<|end|><|start|>assistant<|channel|>final<|message|>4 is the answer.<|return|>',
  },
  stray: { text: '<|channel|>final<|message|>4 is<|message|> the answer.<|return|>' },
  recipients: {
    text:
      '<|channel|>commentary to=functions.f json<|message|>{"a":1}<|end|>' +
      '<|start|>assistant to=functions.f<|channel|>commentary json<|message|>{"a":2}<|end|>' +
      '<|start|>assistant<|channel|>final<|message|>done<|return|>',
  },
  huge: { text: `<|channel|>final<|message|>${HUGE}<|return|>`, perEvent: 7 },
};

let echoFaulty: RouterProcess;
let echo: RouterProcess;
let relay: RouterProcess;
let upstream: FakeUpstream;

beforeAll(async () => {
  upstream = await startFakeUpstream([
    {
      path: '/v1/completions',
      handler: (_req, res, request) => {
        const prompt = encoding.decode((request.json as { prompt: number[] }).prompt);
        const name = /case:([a-z-]+)/.exec(prompt)?.[1] ?? '';
        const completion = COMPLETIONS[name];
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        if (completion === undefined) {
          res.end('data: {"error":{"message":"no such case"}}\n\n');
          return;
        }
        for (const event of vllmBody(enc(completion.text), 'stop', completion.perEvent ?? 1)) res.write(event);
        res.end();
      },
    },
  ]);
  [echoFaulty, echo, relay] = await Promise.all([
    startRouterProcess(sandbox.dir, ['--render-workers', '0', '--fault', 'malformed-header'], sandbox.env),
    startRouterProcess(sandbox.dir, ['--render-workers', '0', ], sandbox.env),
    startRouterProcess(sandbox.dir, ['--render-workers', '0', '--upstream', upstream.url, '--upstream-kind', 'vllm'], sandbox.env),
  ]);
  await Promise.all([warmRouter(echoFaulty.url, sandbox.env), warmRouter(echo.url, sandbox.env)]);
}, 60_000);

afterAll(async () => {
  await Promise.all([echoFaulty, echo, relay].map((router) => router?.stop()));
  await upstream?.close();
  sandbox.cleanup();
});

function ask(router: RouterProcess, prompt: string, extra: string[] = []): Promise<CliResult> {
  return runCliInProcess(['ask', prompt, '--router', router.url, ...extra], { env: sandbox.env, timeoutMs: 30_000 });
}

function warnings(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('harmony-hpke: warning:'));
}

/** Lenient: exit 0, the answer on stdout, one warning naming the code; strict: exit 9 with it. */
async function recoversOrFails(router: RouterProcess, prompt: string, code: string, answer: string, extra: string[] = []): Promise<void> {
  const [lenient, strict] = await Promise.all([ask(router, prompt, extra), ask(router, prompt, [...extra, '--strict'])]);
  expect(lenient.code, lenient.stderr).toBe(0);
  expect(lenient.stdout).toBe(answer);
  // One warning about the Harmony (an answer cut at --max-tokens also gets the finish-length one).
  const harmony = warnings(lenient.stderr).filter((line) => /\(HARMONY_[A-Z_]+\)$/.test(line));
  expect(harmony, lenient.stderr).toHaveLength(1);
  expect(harmony[0]).toContain(`(${code})`);
  expect(warnings(lenient.stderr).length - harmony.length, lenient.stderr).toBe(extra.includes('--max-tokens') ? 1 : 0);
  expect(strict.code, strict.stderr).toBe(9);
  expect(errorCode(strict.stderr), strict.stderr).toBe(code);
  expect(strict.stderr).not.toMatch(/\n\s+at /);
}

describe(`malformed Harmony through router and CLI (seed ${SEED})`, () => {
  it("the echo engine's malformed final header: recovered with a warning, --strict exits 9", async () => {
    await recoversOrFails(echoFaulty, 'What is 2+2?', 'HARMONY_MALFORMED_HEADER', '2 + 2 = 4.\n');
  });

  it('an answer cut by --max-tokens inside a header: recovered (nothing to show), --strict exits 9', async () => {
    await recoversOrFails(echo, 'What is 2+2?', 'HARMONY_UNEXPECTED_EOS', '', ['--max-tokens', '2']);
  });

  it('a missing <|end|> before the next <|start|> (llama.cpp style): the final answer survives', async () => {
    await recoversOrFails(relay, 'case:missing-end', 'HARMONY_UNEXPECTED_TOKEN', '4 is the answer.\n');
  });

  it('an unknown channel: kept out of stdout with a warning, --strict exits 9', async () => {
    await recoversOrFails(relay, 'case:unknown-channel', 'HARMONY_UNKNOWN_CHANNEL', '4 is the answer.\n');
  });

  it('a stray <|message|> inside the answer: dropped with a warning, --strict exits 9', async () => {
    await recoversOrFails(relay, 'case:stray', 'HARMONY_UNEXPECTED_TOKEN', '4 is the answer.\n');
  });

  it('the recipient before and after the channel give the same tool-call messages, even with --strict', async () => {
    const result = await ask(relay, 'case:recipients', ['--json', '--strict']);
    expect(result.code, result.stderr).toBe(0);
    const messages = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((record) => record.type === 'message');
    expect(messages.map((m) => [m.channel, m.recipient, m.content_type, m.text])).toEqual([
      ['commentary', 'functions.f', 'json', '{"a":1}'],
      ['commentary', 'functions.f', 'json', '{"a":2}'],
      ['final', null, null, 'done'],
    ]);
  });

  it('a huge multi-byte answer, its characters split across tokens and events, arrives byte for byte', async () => {
    const result = await ask(relay, 'case:huge', ['--strict', '--max-tokens', '32768']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout === `${HUGE}\n`).toBe(true);
    expect(warnings(result.stderr)).toEqual([]);
    console.log(`[hardening] huge answer through router and CLI: ${HUGE.length} characters, ${encoding.encodeOrdinary(HUGE).length} tokens`);
  });
});
