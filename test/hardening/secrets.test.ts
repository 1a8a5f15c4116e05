/**
 * Secrets (issue 6): generate router keys and sessions, force the error paths of every command
 * (bad flags, bad files, tampered streams, refusals, truncation, router errors), with and without
 * --debug, and search every stdout, stderr and router log for the private keys, the session
 * secrets and the response keys derived from them (hex, base64, base64url): none may appear. The
 * prompt text never reaches a router log; --debug traces show sizes and ids. And a user's ordinary
 * session of commands (with --debug -v) leaks nothing either, its own key included.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRouterKeyFile, parseSession, sessionResponseKeys, serializeRouterKeyFile, type Session } from '../../src/hpke/index.js';
import { makeSandbox, type CliResult, runCliInProcess } from '../helpers/cli.js';
import { startRouterProcess, type RouterProcess } from '../helpers/router-process.js';
import { secretSpellings } from './helpers.js';

const sandbox = makeSandbox();
const dir = sandbox.dir;
const CANARY = `canary-${randomBytes(6).toString('hex')}`;
const PROMPT = `What is 2+2? ${CANARY}`;
const routers: RouterProcess[] = [];
let router: RouterProcess;
let faulty: RouterProcess;
const outputs: Array<{ what: string; text: string }> = [];

const path = (name: string) => join(dir, name);

async function cli(what: string, args: string[], expected: number | number[], input?: string): Promise<CliResult> {
  const result = await runCliInProcess(args, { env: sandbox.env, timeoutMs: 30_000, ...(input !== undefined ? { input } : {}) });
  outputs.push({ what: `${what} (stdout)`, text: result.stdout }, { what: `${what} (stderr)`, text: result.stderr });
  const codes = Array.isArray(expected) ? expected : [expected];
  expect(codes, `${what}: exit ${result.code}\n${result.stderr}`).toContain(result.code);
  return result;
}

beforeAll(async () => {
  await cli('keys generate', ['keys', 'generate', '--out', path('router.key'), '--key-id', '4', '--debug'], 0);
  await cli('keys generate (retired)', ['keys', 'generate', '--out', path('retired.key'), '--key-id', '5'], 0);
  router = await startRouterProcess(dir, ['--render-workers', '0', '--key', path('router.key'), '--key', path('retired.key'), '--test-faults', '--debug'], sandbox.env);
  faulty = await startRouterProcess(dir, ['--render-workers', '0', '--key', path('router.key'), '--fault', 'error:3', '--log-format', 'json', '--debug'], sandbox.env);
  routers.push(router, faulty);
}, 60_000);

afterAll(async () => {
  await Promise.all(routers.map((r) => r.stop()));
  sandbox.cleanup();
});

/** Runs the cases a few at a time (each is a process start). */
async function pool(cases: Array<() => Promise<unknown>>, width = 4): Promise<void> {
  const queue = [...cases];
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) await next();
    }),
  );
}

function tamper(sse: string): string {
  const lines = sse.split('\n');
  const at = lines.findIndex((line, index) => line.startsWith('data: ') && index > 6);
  const data = lines[at]!;
  lines[at] = `${data.slice(0, 12)}${data[12] === 'A' ? 'B' : 'A'}${data.slice(13)}`;
  return lines.join('\n');
}

describe('no secret in any output', () => {
  it('every command, success and error paths, with and without --debug', async () => {
    const r = router.url;
    // Sessions of real exchanges (the prompt carries the canary).
    const created = await cli('create-request', ['create-request', PROMPT, '--router', r, '--session', path('s1.json'), '--body-out', path('body.bin'), '--debug'], 0);
    writeFileSync(path('envelope.json'), created.stdout);
    const sent = await cli('send', ['send', path('envelope.json'), '--debug'], 0);
    writeFileSync(path('answer.sse'), sent.stdout);
    writeFileSync(path('tampered.sse'), tamper(sent.stdout));
    writeFileSync(path('truncated.sse'), sent.stdout.slice(0, Math.floor(sent.stdout.length / 2)));
    await cli('decode', ['decode', path('answer.sse'), '--session', path('s1.json'), '--debug', '--json'], 0);
    await cli('keys fetch', ['keys', 'fetch', '--router', r, '--out', path('router.keys'), '--debug'], 0);
    await cli('keys generate (unknown)', ['keys', 'generate', '--out', path('unknown.key'), '--key-id', '6'], 0);
    await cli('keys show --config-out', ['keys', 'show', path('unknown.key'), '--config-out', path('unknown.keys'), '--debug'], 0);

    // Files that are wrong in every documented way.
    copyFileSync(path('s1.json'), path('loose.json'));
    chmodSync(path('loose.json'), 0o644);
    const session = readFileSync(path('s1.json'), 'utf8');
    writeFileSync(path('newer.json'), session.replace('harmony-hpke-session/1', 'harmony-hpke-session/2'), { mode: 0o600 });
    writeFileSync(path('badfield.json'), session.replace(/"kid":\d+/, '"kid":"x"'), { mode: 0o600 });
    writeFileSync(path('half.json'), session.slice(0, session.length - 30), { mode: 0o600 });
    copyFileSync(path('router.key'), path('loose.key'));
    chmodSync(path('loose.key'), 0o644);
    const key = JSON.parse(readFileSync(path('router.key'), 'utf8')) as Record<string, unknown>;
    const retired = JSON.parse(readFileSync(path('retired.key'), 'utf8')) as Record<string, unknown>;
    writeFileSync(path('mismatch.key'), JSON.stringify({ ...key, public_key: retired.public_key }), { mode: 0o600 });
    writeFileSync(path('newer.key'), JSON.stringify({ ...key, format: 'harmony-hpke-key/2' }), { mode: 0o600 });
    writeFileSync(path('half.key'), readFileSync(path('router.key'), 'utf8').slice(0, 90), { mode: 0o600 });
    // An envelope asking the router for a truncated stream, and one sealed to the retired key.
    const truncating = JSON.parse(created.stdout) as { headers: Record<string, string> };
    for (const variant of [0, 1]) {
      const unknown = await cli('create-request (unknown key)', ['create-request', PROMPT, '--router', r, '--keys', path('unknown.keys')], 0);
      writeFileSync(path(`unknown-${variant}.json`), unknown.stdout);
      const other = await cli('create-request (for truncation)', ['create-request', PROMPT, '--router', r, '--session', path(`s2-${variant}.json`)], 0);
      const otherEnvelope = JSON.parse(other.stdout) as Record<string, unknown> & { headers: Record<string, string> };
      writeFileSync(path(`truncating-${variant}.json`), JSON.stringify({ ...otherEnvelope, headers: { ...truncating.headers, 'x-harmony-hpke-test-fault': 'disconnect:4' } }));
    }

    const cases: Array<() => Promise<unknown>> = [];
    for (const debug of [[], ['--debug']]) {
      // Everything runs with --debug (its traces and stacks are what could leak: a superset of the
      // plain output); a sample of error paths also runs without it.
      const PLAIN = new Set(['ask router error', 'send replay', 'send truncated --decode', 'decode tampered', 'decode newer session', 'inspect mismatched key', 'serve loose key', 'smoke router error']);
      const add = (what: string, args: string[], expected: number | number[], input?: string) => {
        if (debug.length === 0 && !PLAIN.has(what)) return;
        cases.push(() => cli(`${what}${debug.length ? ' --debug' : ''}`, [...args, ...debug], expected, input));
      };
      add('ask ok', ['ask', PROMPT, '--router', r, '--session', path('ask.json')], 0);
      add('ask --json ok', ['ask', PROMPT, '--router', r, '--json'], 0);
      add('ask bad flag', ['ask', PROMPT, '--no-such-flag'], 2);
      add('ask router error', ['ask', PROMPT, '--router', faulty.url, '--raw'], 8);
      add('ask wrong pin', ['ask', PROMPT, '--router', r, '--key-pin', `sha256:${'0'.repeat(64)}`], 4);
      add('ask private key file as --keys', ['ask', PROMPT, '--router', r, '--keys', path('router.key')], 0);
      add('ask stale key config (422, re-seal)', ['ask', PROMPT, '--router', r, '--keys', path('unknown.keys'), '--strict'], 0);
      add('send sealed to an unknown key', ['send', path(`unknown-${debug.length}.json`)], 4);
      add('create-request no router', ['create-request', PROMPT], 2);
      add('create-request corrupt keys', ['create-request', PROMPT, '--router', r, '--keys', path('half.key')], 4);
      add('send replay', ['send', path('envelope.json')], 6);
      add('send truncated --decode', ['send', path(`truncating-${debug.length}.json`), '--decode', '--raw'], 7);
      add('send bad envelope', ['send', path('s1.json')], 2);
      add('decode tampered', ['decode', path('tampered.sse'), '--session', path('s1.json')], 6);
      add('decode truncated', ['decode', path('truncated.sse'), '--session', path('s1.json'), '--raw'], 7);
      add('decode loose session', ['decode', path('answer.sse'), '--session', path('loose.json')], 4);
      add('decode newer session', ['decode', path('answer.sse'), '--session', path('newer.json')], 2);
      add('decode bad field', ['decode', path('answer.sse'), '--session', path('badfield.json')], 2);
      add('decode half session', ['decode', path('answer.sse'), '--session', path('half.json')], 2);
      add('decode wrong session', ['decode', path('answer.sse'), '--session', path('s2-0.json')], 6);
      add('decode stdin discovery', ['decode'], 0, sent.stdout);
      add('inspect session', ['inspect', path('s1.json'), '--json'], 0);
      add('inspect key', ['inspect', path('router.key')], 0);
      add('inspect mismatched key', ['inspect', path('mismatch.key')], 4);
      add('inspect body', ['inspect', path('body.bin')], 0);
      add('inspect stream with session', ['inspect', path('answer.sse'), '--session', path('s1.json')], 0);
      add('inspect tampered stream with session', ['inspect', path('tampered.sse'), '--session', path('s1.json'), '--json'], 0);
      add('keys show key', ['keys', 'show', path('router.key'), '--json'], 0);
      add('keys show newer key', ['keys', 'show', path('newer.key')], 4);
      add('keys generate exists', ['keys', 'generate', '--out', path('router.key')], 2);
      add('keys fetch bad pin', ['keys', 'fetch', '--router', r, '--key-pin', 'sha256:nope'], 2);
      add('keys pin list', ['keys', 'pin', '--list'], 0);
      add('serve loose key', ['serve', '--port', '0', '--key', path('loose.key')], 4);
      add('serve mismatched key', ['serve', '--port', '0', '--key', path('mismatch.key')], 4);
      add('serve half key', ['serve', '--port', '0', '--key', path('half.key')], 4);
      add('serve bad port', ['serve', '--port', 'x'], 2);
      add('smoke ok', ['smoke', '--router', r, '--prompt', PROMPT, '--json'], 0);
      add('smoke expect fails', ['smoke', '--router', r, '--prompt', PROMPT, '--expect', '^never$'], 10);
      add('smoke router error', ['smoke', '--router', faulty.url, '--prompt', PROMPT], 8);
    }
    await pool(cases);

    // Every secret there is: the router keys, every session written, and their response keys.
    const privateKeys = ['router.key', 'retired.key', 'unknown.key'].map((name) => parseRouterKeyFile(readFileSync(path(name), 'utf8')).privateKey);
    const sessions: Session[] = [];
    const walk = (at: string): void => {
      for (const entry of readdirSync(at)) {
        const full = join(at, entry);
        const info = statSync(full);
        if (info.isDirectory()) walk(full);
        else if (entry.endsWith('.json') && info.size < 4096) {
          try {
            sessions.push(parseSession(readFileSync(full, 'utf8')));
          } catch {
            // not a session
          }
        }
      }
    };
    walk(dir);
    const secrets: Array<{ what: string; bytes: Uint8Array }> = [
      ...privateKeys.map((bytes, i) => ({ what: `router private key ${i}`, bytes })),
      ...sessions.map((s) => ({ what: `session secret ${s.rid}`, bytes: s.secret })),
      ...sessions
        .filter((s) => s.responseNonce !== undefined)
        .flatMap((s) => {
          const keys = sessionResponseKeys(s, s.responseNonce!);
          return [
            { what: `response key ${s.rid}`, bytes: keys.key },
            { what: `response base nonce ${s.rid}`, bytes: keys.baseNonce },
          ];
        }),
    ];
    expect(sessions.length).toBeGreaterThanOrEqual(4);
    expect(sessions.some((s) => s.responseNonce !== undefined)).toBe(true);

    const logs = routers.flatMap((rp, i) => [
      { what: `router ${i} log`, text: rp.stderr() },
      { what: `router ${i} stdout`, text: rp.stdout() },
    ]);
    const haystacks = [...outputs, ...logs];
    const found: string[] = [];
    for (const secret of secrets) {
      for (const spelling of secretSpellings(secret.bytes)) {
        for (const hay of haystacks) if (hay.text.includes(spelling)) found.push(`${secret.what} in ${hay.what}`);
      }
    }
    console.log(
      `[hardening] secrets: ${outputs.length / 2} command runs, ${privateKeys.length} router keys, ${sessions.length} sessions, ${secrets.length} secrets x 5 spellings searched in ${haystacks.length} outputs and logs (${Math.round(
        haystacks.reduce((sum, h) => sum + h.text.length, 0) / 1024,
      )} KiB): ${found.length} found`,
    );
    expect(found).toEqual([]);

    // The prompt never reaches a router log (the echo engine repeats it in the encrypted answer).
    for (const log of logs) expect(log.text, log.what).not.toContain(CANARY);
    expect(router.stderr()).toMatch(/POST \/v1\/harmony\/stream 200 rid=/);
    // --debug shows sizes and ids, and the secret spellings above never.
    const debugAsk = outputs.find((o) => o.what === 'ask ok --debug (stderr)')!.text;
    expect(debugAsk).toMatch(/debug: sealed request: \d+ bytes, rid=[A-Za-z0-9_-]{22}/);
    expect(debugAsk).toMatch(/debug: router key sha256:[0-9a-f]{64} kid=4/);
    expect(outputs.find((o) => o.what === 'ask stale key config (422, re-seal) --debug (stderr)')!.text).toMatch(/refetching its key config/);
    // Stack traces of typed errors are shown with --debug only.
    expect(outputs.find((o) => o.what === 'decode tampered --debug (stderr)')!.text).toMatch(/\n\s+at /);
    expect(outputs.find((o) => o.what === 'decode tampered (stderr)')!.text).not.toMatch(/\n\s+at /);
  }, 180_000);

  it('the key and session files themselves hold their secrets (so the search above could find them)', () => {
    const key = parseRouterKeyFile(readFileSync(path('router.key'), 'utf8'));
    expect(readFileSync(path('router.key'), 'utf8')).toContain(secretSpellings(key.privateKey).at(-1)!);
    expect(serializeRouterKeyFile(key)).toContain(Buffer.from(key.privateKey).toString('base64url'));
    const session = parseSession(readFileSync(path('s1.json'), 'utf8'));
    expect(readFileSync(path('s1.json'), 'utf8')).toContain(Buffer.from(session.secret).toString('base64url'));
    expect(statSync(path('s1.json')).mode & 0o777).toBe(0o600);
    expect(statSync(path('router.key')).mode & 0o777).toBe(0o600);
  });
});

describe('secrets stay secret', () => {
  // A user's session of commands, in a home of its own, against the router above.
  const own = makeSandbox();
  const file = (name: string) => join(own.dir, name);
  const MARKER = 'the-codeword-is-periwinkle';
  const outputs: string[] = [];
  let privateKey: string;

  async function run(args: string[], input?: string): Promise<CliResult> {
    const result = await runCliInProcess(['--debug', '-v', ...args], { env: own.env, ...(input !== undefined ? { input } : {}) });
    outputs.push(`$ ${args.join(' ')}\n${result.stdout}\n${result.stderr}`);
    return result;
  }

  function secretOf(at: string): string {
    return (JSON.parse(readFileSync(at, 'utf8')) as { secret: string }).secret;
  }

  beforeAll(async () => {
    const generated = await run(['keys', 'generate', '--out', file('own.key')]);
    expect(generated.code, generated.stderr).toBe(0);
    privateKey = (JSON.parse(readFileSync(file('own.key'), 'utf8')) as { private_key: string }).private_key;
  });

  afterAll(() => own.cleanup());

  it('across a whole session of commands, including failures with stack traces', async () => {
    const routerKey = (JSON.parse(readFileSync(path('router.key'), 'utf8')) as { private_key: string }).private_key;
    const session = file('session.json');
    const created = await run(['create-request', `Please repeat ${MARKER}`, '--router', router.url, '--session', session]);
    expect(created.code, created.stderr).toBe(0);
    const sent = await run(['send'], created.stdout);
    expect(sent.code, sent.stderr).toBe(0);
    const decoded = await run(['decode', '--json'], sent.stdout);
    expect(decoded.code, decoded.stderr).toBe(0);
    expect(decoded.stdout).toContain(MARKER); // the answer is the user's to see
    expect((await run(['inspect', session])).code).toBe(0);
    expect((await run(['inspect', session, '--json'])).code).toBe(0);
    expect((await run(['inspect', file('own.key'), '--json'])).code).toBe(0);
    expect((await run(['keys', 'show', file('own.key')])).code).toBe(0);
    expect((await run(['inspect', path('router.key'), '--json'])).code).toBe(0);

    const askSession = file('ask-session.json');
    const asked = await run(['ask', `Say ${MARKER}`, '--router', router.url, '--session', askSession, '--json']);
    expect(asked.code, asked.stderr).toBe(0);

    // Failures with --debug print stacks: still nothing secret in them.
    const otherSession = file('other-session.json');
    const other = await run(['create-request', 'What is 2+2?', '--router', router.url, '--session', otherSession]);
    expect(other.code).toBe(0);
    const wrong = await run(['decode', '--session', otherSession], sent.stdout);
    expect(wrong.code).toBe(6);
    expect(wrong.stderr).toMatch(/\n\s+at /);
    const broken = file('broken-session.json');
    const parsed = JSON.parse(readFileSync(session, 'utf8')) as Record<string, unknown>;
    writeFileSync(broken, JSON.stringify({ ...parsed, secret: `${parsed['secret'] as string}AAAA` }), { mode: 0o600 });
    const badSession = await run(['decode', '--session', broken], sent.stdout);
    expect([2, 4, 6]).toContain(badSession.code);

    const secrets = [privateKey, routerKey, secretOf(session), secretOf(askSession), secretOf(otherSession), `${parsed['secret'] as string}AAAA`];
    for (const secret of secrets) expect(secret.length).toBeGreaterThanOrEqual(16);
    const everything = outputs.join('\n');
    for (const secret of secrets) expect(everything).not.toContain(secret);

    // The router's log and ready line: no key, no secret, no plaintext of the requests.
    const routerOutput = `${router.stdout()}\n${router.stderr()}`;
    expect(routerOutput).toContain('POST');
    for (const secret of [...secrets, MARKER, 'What is 2+2?']) expect(routerOutput).not.toContain(secret);
  });
});
