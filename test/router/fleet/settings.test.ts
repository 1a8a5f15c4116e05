/**
 * The seed router's Harmony settings, router-side: a default reasoning effort, analysis withheld
 * from the encrypted stream, and Harmony off (a chat-completions upstream), from flags, the
 * HARMONY_HPKE_* and seed HARMONY_* environment variables, and a router config file.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildConversation, buildPayload, sealForRouter } from '../../../src/client/request.js';
import { loadHarmonyEncoding, Role } from '../../../src/harmony/index.js';
import { resolveHarmonySettings, readRouterConfigFile } from '../../../src/router/settings.js';
import { makeSandbox, runCli } from '../../helpers/cli.js';
import { startFakeUpstream } from '../../helpers/fake-upstream.js';
import { startRouterProcess } from '../../helpers/router-process.js';
import { decode, finalAnswer, post, routerKey, waitFor } from '../helpers.js';

const sandbox = makeSandbox();
afterAll(() => sandbox.cleanup());
const encoding = loadHarmonyEncoding('HarmonyGptOss');

describe('resolveHarmonySettings', () => {
  it('takes flag > HARMONY_HPKE_* > HARMONY_* > config file > default', () => {
    expect(resolveHarmonySettings({}, {})).toEqual({ reasoningEffort: undefined, includeAnalysis: true, harmony: true, upstreamApi: 'completions' });
    const file = { reasoning_effort: 'low' as const, include_analysis: false, harmony: false };
    expect(resolveHarmonySettings({}, {}, file)).toEqual({ reasoningEffort: 'low', includeAnalysis: false, harmony: false, upstreamApi: 'chat' });
    const seed = { HARMONY_REASONING_EFFORT: 'medium', HARMONY_INCLUDE_ANALYSIS: 'true', HARMONY_ENABLED: 'true' };
    expect(resolveHarmonySettings({}, seed, file)).toMatchObject({ reasoningEffort: 'medium', includeAnalysis: true, harmony: true });
    const ours = { ...seed, HARMONY_HPKE_REASONING_EFFORT: 'high', HARMONY_HPKE_INCLUDE_ANALYSIS: 'off' };
    expect(resolveHarmonySettings({}, ours, file)).toMatchObject({ reasoningEffort: 'high', includeAnalysis: false });
    expect(resolveHarmonySettings({ reasoningEffort: 'low', includeAnalysis: 'yes' }, ours, file)).toMatchObject({
      reasoningEffort: 'low',
      includeAnalysis: true,
    });
  });

  it.each([
    [{ includeAnalysis: 'maybe' }, {}, '--include-analysis must be true or false'],
    [{}, { HARMONY_ENABLED: 'perhaps' }, 'HARMONY_ENABLED must be true or false'],
    [{}, { HARMONY_REASONING_EFFORT: 'extreme' }, 'HARMONY_REASONING_EFFORT must be low, medium or high'],
  ])('refuses a bad value, naming where it came from: %o %o', (flags, env, message) => {
    expect(() => resolveHarmonySettings(flags, env)).toThrow(message);
  });

  it('a router config file with an unknown or ill-typed setting is refused', async () => {
    const bad = join(sandbox.dir, 'bad-router.json');
    writeFileSync(bad, JSON.stringify({ include_analysis: 'no' }));
    await expect(readRouterConfigFile(bad)).rejects.toThrow("invalid 'include_analysis'");
    writeFileSync(bad, JSON.stringify({ harmony_enabled: false }));
    await expect(readRouterConfigFile(bad)).rejects.toThrow("unknown setting 'harmony_enabled'");
  });
});

async function sealFor(url: string, reasoningEffortExplicit: boolean) {
  const key = await routerKey(url);
  const conversation = await buildConversation({ prompt: 'What is 2+2?' });
  const payload = buildPayload(conversation, { model: 'gpt-oss-20b', maxTokens: 256, reasoningEffort: 'low', reasoningEffortExplicit });
  return sealForRouter(url, key, payload);
}

describe('analysis withheld (--include-analysis false)', () => {
  it.each([
    ['the flag', ['--include-analysis', 'false'], {}],
    ['HARMONY_INCLUDE_ANALYSIS', [], { HARMONY_INCLUDE_ANALYSIS: 'false' }],
    ['HARMONY_HPKE_INCLUDE_ANALYSIS', [], { HARMONY_HPKE_INCLUDE_ANALYSIS: 'false' }],
    ['the router config file', ['--router-config', 'CONFIG'], {}],
  ])('from %s: the stream verifies, carries no analysis, and says so', async (_what, args, env) => {
    const config = join(sandbox.dir, 'router.json');
    writeFileSync(config, JSON.stringify({ include_analysis: false }));
    const router = await startRouterProcess(sandbox.dir, args.map((arg) => (arg === 'CONFIG' ? config : arg)), { ...sandbox.env, ...env });
    try {
      await waitFor(() => router.stdout().includes('analysis withheld'), 'the ready line saying analysis withheld');
      const sealed = await sealFor(router.url, true);
      const decoded = await decode(await post(sealed), sealed.session);
      expect(decoded.start).toMatchObject({ t: 'start', analysis: 'withheld' });
      expect(decoded.final).toMatchObject({ t: 'end', finish: 'stop' });
      const channels = encoding.parseMessagesFromCompletionTokens(decoded.ids, Role.Assistant).map((message) => message.channel);
      expect(channels).toEqual(['final']);
      expect(decoded.text).not.toContain('The user wrote');
      expect(finalAnswer(decoded.ids)).toBe('2 + 2 = 4.');
    } finally {
      await router.stop();
    }
  });

  it('the CLI says the analysis was withheld and prints the answer', async () => {
    const router = await startRouterProcess(sandbox.dir, ['--include-analysis', 'false'], sandbox.env);
    try {
      const result = await runCli(['ask', '--router', router.url, 'What is 2+2?'], { env: sandbox.env });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe('2 + 2 = 4.\n');
      expect(result.stderr).toContain('withholds the analysis channel');
    } finally {
      await router.stop();
    }
  });
});

describe('default reasoning effort (--reasoning-effort)', () => {
  it.each([
    ['the flag', ['--reasoning-effort', 'high'], {}],
    ['HARMONY_REASONING_EFFORT', [], { HARMONY_REASONING_EFFORT: 'high' }],
  ])('from %s: applies to requests that set none, not to those that do', async (_what, args, env) => {
    const upstream = await startFakeUpstream([{ path: '/v1/completions', fixture: 'vllm/basic.sse' }]);
    const router = await startRouterProcess(
      sandbox.dir,
      ['--upstream', upstream.url, '--upstream-kind', 'vllm', ...args],
      { ...sandbox.env, ...env },
    );
    try {
      for (const explicit of [false, true]) {
        const sealed = await sealFor(router.url, explicit);
        expect((await decode(await post(sealed), sealed.session)).final?.t).toBe('end');
      }
      const prompts = upstream.requests.map((request) => encoding.decode((request.json as { prompt: number[] }).prompt));
      expect(prompts[0]).toContain('Reasoning: high');
      expect(prompts[1]).toContain('Reasoning: low');
    } finally {
      await router.stop();
    }
  });
});

describe('Harmony off (--harmony off: a chat-completions upstream)', () => {
  it.each([
    ['the flag', ['--harmony', 'off'], {}],
    ['HARMONY_ENABLED=false', [], { HARMONY_ENABLED: 'false' }],
  ])('from %s: the conversation goes to /v1/chat/completions and reasoning/content come back as analysis/final', async (_what, args, env) => {
    const upstream = await startFakeUpstream([{ path: '/v1/chat/completions', fixture: 'openai-chat/answer.sse' }]);
    const router = await startRouterProcess(
      sandbox.dir,
      ['--upstream', upstream.url, '--upstream-kind', 'vllm', ...args],
      { ...sandbox.env, ...env },
    );
    try {
      const sealed = await sealFor(router.url, true);
      const decoded = await decode(await post(sealed), sealed.session);
      const messages = encoding.parseMessagesFromCompletionTokens(decoded.ids, Role.Assistant);
      expect(messages.map((message) => message.channel)).toEqual(['analysis', 'final']);
      expect(finalAnswer(decoded.ids)).toBe('2 + 2 = 4.');
      expect(upstream.requests[0]?.path).toBe('/v1/chat/completions');
      expect(upstream.requests[0]?.json).toMatchObject({ messages: [{ role: 'user', content: 'What is 2+2?' }], reasoning_effort: 'low' });
    } finally {
      await router.stop();
    }
  });

  it('without an upstream, or with --upstream-api completions, serve refuses (exit 2)', async () => {
    const none = await runCli(['serve', '--port', '0', '--harmony', 'off'], { env: sandbox.env });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--harmony off needs an upstream.*\(USAGE_HARMONY\)/);
    const both = await runCli(['serve', '--port', '0', '--harmony', 'off', '--upstream-api', 'completions', '--upstream', 'http://127.0.0.1:1', '--upstream-kind', 'vllm'], {
      env: sandbox.env,
    });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('USAGE_HARMONY');
  });
});
