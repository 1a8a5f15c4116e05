/**
 * Settings precedence, observed from outside: flags > environment (HARMONY_HPKE_*) > the config
 * file's profile > defaults. What the router answers (model, completion tokens in the verified
 * `done` record) and the envelope's URL show which value won. A bad config is a usage error.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSandbox, runCliInProcess, warmRouter } from '../helpers/cli.js';
import { startRouterProcess, type RouterProcess } from '../helpers/router-process.js';
import { expectOneErrorLine } from './support.js';

const sandbox = makeSandbox();
const file = (name: string) => join(sandbox.dir, name);
let router: RouterProcess;
let keysFile: string;

function writeConfig(name: string, config: unknown): string {
  const path = file(name);
  writeFileSync(path, typeof config === 'string' ? config : JSON.stringify(config));
  return path;
}

async function askDone(args: string[], env: Record<string, string>): Promise<{ model: string; finish: string; usage: { completion_tokens: number } }> {
  const result = await runCliInProcess(['ask', 'What is 2+2?', '--json', ...args], { env: { ...sandbox.env, ...env } });
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout.trim().split('\n').at(-1) as string) as { model: string; finish: string; usage: { completion_tokens: number } };
}

async function envelopeUrl(args: string[], env: Record<string, string>): Promise<string> {
  const result = await runCliInProcess(['create-request', 'hi', '--keys', keysFile, ...args], { env: { ...sandbox.env, ...env } });
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { url: string }).url;
}

beforeAll(async () => {
  router = await startRouterProcess(sandbox.dir, ['--render-workers', '0'], sandbox.env);
  await warmRouter(router.url, sandbox.env);
  keysFile = file('router.keys');
  const fetched = await runCliInProcess(['keys', 'fetch', '--router', router.url, '--out', keysFile], { env: sandbox.env });
  expect(fetched.code, fetched.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await router?.stop();
  sandbox.cleanup();
});

describe('precedence: flags > env > config profile > defaults', () => {
  it('router URL', async () => {
    const config = writeConfig('router-config.json', { default_profile: 'p', profiles: { p: { router: 'http://profile.example' } } });
    const withConfig = { HARMONY_HPKE_CONFIG: config };
    const withEnv = { ...withConfig, HARMONY_HPKE_ROUTER: 'http://env.example' };
    expect(await Promise.all([envelopeUrl([], withConfig), envelopeUrl([], withEnv), envelopeUrl(['--router', 'http://flag.example/base'], withEnv)])).toEqual([
      'http://profile.example/v1/harmony/stream',
      'http://env.example/v1/harmony/stream',
      'http://flag.example/base/v1/harmony/stream',
    ]);
  });

  it('model and max tokens, as the router saw them', async () => {
    const config = writeConfig('model-config.json', {
      default_profile: 'p',
      profiles: { p: { router: router.url, model: 'profile-model', max_tokens: 5 } },
    });
    const withConfig = { HARMONY_HPKE_CONFIG: config };
    const withEnv = { ...withConfig, HARMONY_HPKE_MODEL: 'env-model', HARMONY_HPKE_MAX_TOKENS: '4' };

    const [fromProfile, fromEnv, fromFlags, defaults] = await Promise.all([
      askDone([], withConfig),
      askDone([], withEnv),
      askDone(['--model', 'flag-model', '--max-tokens', '3'], withEnv),
      askDone(['--router', router.url], {}),
    ]);
    expect(fromProfile).toMatchObject({ model: 'profile-model', finish: 'length', usage: { completion_tokens: 5 } });
    expect(fromEnv).toMatchObject({ model: 'env-model', usage: { completion_tokens: 4 } });
    expect(fromFlags).toMatchObject({ model: 'flag-model', usage: { completion_tokens: 3 } });
    expect(defaults).toMatchObject({ model: 'gpt-oss-20b', finish: 'stop' });
  });

  it('reasoning effort: into the system message --system builds', async () => {
    const config = writeConfig('effort-config.json', { profiles: { p: { router: router.url, reasoning_effort: 'low' } } });
    const render = async (args: string[], env: Record<string, string>) => {
      const saved = file(`effort-${Math.random().toString(36).slice(2)}.json`);
      const asked = await runCliInProcess(['ask', 'What is 2+2?', '--system', 'You are terse.', '--save', saved, ...args], {
        env: { ...sandbox.env, HARMONY_HPKE_CONFIG: config, ...env },
      });
      expect(asked.code, asked.stderr).toBe(0);
      const inspected = await runCliInProcess(['inspect', saved, '--json'], { env: sandbox.env });
      return /Reasoning: (\w+)/.exec((JSON.parse(inspected.stdout) as { rendered: string }).rendered)?.[1];
    };
    const efforts = await Promise.all([
      render(['--profile', 'p'], {}),
      render(['--profile', 'p'], { HARMONY_HPKE_REASONING_EFFORT: 'high' }),
      render(['--profile', 'p', '--reasoning-effort', 'medium'], { HARMONY_HPKE_REASONING_EFFORT: 'high' }),
      render(['--router', router.url], {}),
    ]);
    expect(efforts).toEqual(['low', 'high', 'medium', 'medium']);
  });

  it('key pin: a wrong pin in the profile refuses (4); the right one from env wins', async () => {
    const wrong = `sha256:${'cd'.repeat(32)}`;
    const config = writeConfig('pin-config.json', { default_profile: 'p', profiles: { p: { router: router.url, key_pin: wrong } } });
    const refused = await runCliInProcess(['ask', 'What is 2+2?'], { env: { ...sandbox.env, HARMONY_HPKE_CONFIG: config } });
    expect(refused.code).toBe(4);
    expectOneErrorLine(refused.stderr, 'PIN_MISMATCH');
    const accepted = await runCliInProcess(['ask', 'What is 2+2?'], {
      env: { ...sandbox.env, HARMONY_HPKE_CONFIG: config, HARMONY_HPKE_KEY_PIN: router.fingerprint },
    });
    expect(accepted.code, accepted.stderr).toBe(0);
    const flagWins = await runCliInProcess(['ask', 'What is 2+2?', '--key-pin', wrong], {
      env: { ...sandbox.env, HARMONY_HPKE_KEY_PIN: router.fingerprint, HARMONY_HPKE_ROUTER: router.url },
    });
    expect(flagWins.code).toBe(4);
  });

  it('profile choice: --profile > HARMONY_HPKE_PROFILE > default_profile; the default location is read', async () => {
    const profiles = {
      default_profile: 'a',
      profiles: { a: { router: 'http://a.example' }, b: { router: 'http://b.example' }, c: { router: 'http://c.example' } },
    };
    const configHome = file('xdg-config');
    mkdirSync(join(configHome, 'harmony-hpke'), { recursive: true });
    writeFileSync(join(configHome, 'harmony-hpke', 'config.json'), JSON.stringify(profiles));
    const env = { XDG_CONFIG_HOME: configHome };
    // --config names another file, whatever the default location holds.
    const other = writeConfig('other-config.json', { default_profile: 'x', profiles: { x: { router: 'http://x.example' } } });
    const urls = await Promise.all([
      envelopeUrl([], env),
      envelopeUrl([], { ...env, HARMONY_HPKE_PROFILE: 'b' }),
      envelopeUrl(['--profile', 'c'], { ...env, HARMONY_HPKE_PROFILE: 'b' }),
      envelopeUrl(['--config', other], env),
    ]);
    expect(urls).toEqual(['a', 'b', 'c', 'x'].map((name) => `http://${name}.example/v1/harmony/stream`));
  });

  it('nothing configured anywhere: ask uses the embedded router and says so', async () => {
    const result = await runCliInProcess(['ask', 'What is 2+2?'], { env: sandbox.env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('2 + 2 = 4.\n');
    expect(result.stderr).toMatch(/^harmony-hpke: no router configured: using the embedded local router at http:\/\/127\.0\.0\.1:\d+/);
  });
});

describe('a bad config is a usage error', () => {
  it.concurrent.each([
    ['not JSON', '{"profiles": {', 'CONFIG_INVALID'],
    ['not an object', '[1, 2]', 'CONFIG_INVALID'],
    ['an unknown setting', { profiles: { p: { routr: 'http://x.example' } } }, 'CONFIG_INVALID'],
    ['a bad max_tokens', { profiles: { p: { max_tokens: -1 } } }, 'CONFIG_INVALID'],
    ['a bad reasoning_effort', { profiles: { p: { reasoning_effort: 'maximal' } } }, 'CONFIG_INVALID'],
    ['a default_profile that names none', { default_profile: 'q', profiles: { p: {} } }, 'CONFIG_INVALID'],
    ['a bad router URL in the profile', { default_profile: 'p', profiles: { p: { router: 'nowhere' } } }, 'BAD_URL'],
  ])('%s', async (_what, config, code) => {
    const path = writeConfig(`bad-${code}-${Math.random().toString(36).slice(2)}.json`, config);
    const result = await runCliInProcess(['ask', 'What is 2+2?'], { env: { ...sandbox.env, HARMONY_HPKE_CONFIG: path } });
    expect(result.code).toBe(2);
    expectOneErrorLine(result.stderr, code);
    expect(result.stdout).toBe('');
  });

  it('an unknown profile, bad environment values, a missing --config file', async () => {
    const path = writeConfig('ok-config.json', { profiles: { p: { router: router.url } } });
    const cases: Array<[string[], Record<string, string>, string]> = [
      [['--profile', 'nope'], { HARMONY_HPKE_CONFIG: path }, 'CONFIG_NO_PROFILE'],
      [[], { HARMONY_HPKE_CONFIG: path, HARMONY_HPKE_PROFILE: 'nope' }, 'CONFIG_NO_PROFILE'],
      [[], { HARMONY_HPKE_MAX_TOKENS: 'many' }, 'ENV_INVALID'],
      [[], { HARMONY_HPKE_REASONING_EFFORT: 'maximal' }, 'ENV_INVALID'],
      [['--config', file('absent-config.json')], {}, 'CONFIG_UNREADABLE'],
    ];
    const results = await Promise.all(cases.map(([args, env]) => runCliInProcess(['ask', 'What is 2+2?', ...args], { env: { ...sandbox.env, ...env } })));
    cases.forEach(([, , code], index) => {
      const result = results[index] as (typeof results)[number];
      expect(result.code, code).toBe(2);
      expectOneErrorLine(result.stderr, code);
    });
  });
});
