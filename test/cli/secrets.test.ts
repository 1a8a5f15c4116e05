/**
 * Secrets never reach output: the router's private key, session secrets and the request's
 * plaintext on the router do not appear in anything the binary prints, with --debug and -v on,
 * on success or failure (stack traces included).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSandbox, type CliResult, runCliInProcess } from '../helpers/cli.js';
import { startRouterProcess, type RouterProcess } from '../helpers/router-process.js';

const sandbox = makeSandbox();
const env = sandbox.env;
const file = (name: string) => join(sandbox.dir, name);
const MARKER = 'the-codeword-is-periwinkle';
let router: RouterProcess;
let privateKey: string;
const outputs: string[] = [];

async function run(args: string[], input?: string): Promise<CliResult> {
  const result = await runCliInProcess(['--debug', '-v', ...args], { env, ...(input !== undefined ? { input } : {}) });
  outputs.push(`$ ${args.join(' ')}\n${result.stdout}\n${result.stderr}`);
  return result;
}

function secretOf(path: string): string {
  return (JSON.parse(readFileSync(path, 'utf8')) as { secret: string }).secret;
}

beforeAll(async () => {
  const generated = await run(['keys', 'generate', '--out', file('router.key')]);
  expect(generated.code, generated.stderr).toBe(0);
  privateKey = (JSON.parse(readFileSync(file('router.key'), 'utf8')) as { private_key: string }).private_key;
  router = await startRouterProcess(sandbox.dir, ['--render-workers', '0', '--key', file('router.key'), '--log-format', 'json'], env);
});

afterAll(async () => {
  await router?.stop();
  sandbox.cleanup();
});

describe('secrets stay secret', () => {
  it('across a whole session of commands, including failures with stack traces', async () => {
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
    expect((await run(['inspect', file('router.key'), '--json'])).code).toBe(0);
    expect((await run(['keys', 'show', file('router.key')])).code).toBe(0);

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

    const secrets = [privateKey, secretOf(session), secretOf(askSession), secretOf(otherSession), `${parsed['secret'] as string}AAAA`];
    for (const secret of secrets) expect(secret.length).toBeGreaterThanOrEqual(16);
    const everything = outputs.join('\n');
    for (const secret of secrets) expect(everything).not.toContain(secret);

    // The router's log and ready line: no key, no secret, no plaintext of the requests.
    const routerOutput = `${router.stdout()}\n${router.stderr()}`;
    expect(routerOutput).toContain('POST');
    for (const secret of [...secrets, MARKER, 'What is 2+2?']) expect(routerOutput).not.toContain(secret);
  });
});
