/**
 * Terminals versus pipes, for real: the built binary on a pseudo-terminal (util-linux `script`) or
 * on pipes, against a router process. Colour only on a TTY (per stream), NO_COLOR and FORCE_COLOR
 * honoured, the spinner only on an interactive stderr and never under CI, --json or --quiet; the
 * answer on stdout, the analysis dimmed on stderr only when stderr is a terminal.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSandbox, runCliInProcess } from '../helpers/cli.js';
import { startRouterProcess, type RouterProcess } from '../helpers/router-process.js';
import { ERROR_LINE, cliLine, hasScript, readIfExists, runInPty, sh } from './support.js';

// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[[0-9;]*m/;
// eslint-disable-next-line no-control-regex
const SGR_ALL = /\u001b\[[0-9;]*m/g;
// eslint-disable-next-line no-control-regex
const CONTROL_SEQUENCES = /\u001b\[[0-9;?]*[A-Za-z]/g;
/** The text of a terminal transcript without cursor and colour sequences. */
const visible = (text: string) => text.replace(CONTROL_SEQUENCES, '');
/** ora hides the cursor when it starts and prints its text next to the frame. */
const SPINNER_START = '\u001b[?25l';

const sandbox = makeSandbox();
let router: RouterProcess;
/** Routers that die mid-analysis (after 5 tokens) and mid-answer (after 28 of 34). */
let cutInAnalysis: RouterProcess;
let cutInAnswer: RouterProcess;
let keysFile: string;
let counter = 0;

function scratch(name: string): string {
  counter += 1;
  return join(sandbox.dir, `${counter}-${name}`);
}

const ask = (...extra: string[]) => cliLine(['ask', 'What is 2+2?', '--router', router.url, ...extra]);

beforeAll(async () => {
  expect(hasScript(), 'util-linux script must be installed for the terminal tests').toBe(true);
  [router, cutInAnalysis, cutInAnswer] = await Promise.all([
    startRouterProcess(sandbox.dir, ['--render-workers', '0', ], sandbox.env),
    startRouterProcess(sandbox.dir, ['--render-workers', '0', '--fault', 'disconnect:5'], sandbox.env),
    startRouterProcess(sandbox.dir, ['--render-workers', '0', '--fault', 'disconnect:28'], sandbox.env),
  ]);
  keysFile = join(sandbox.dir, 'router.keys');
  const fetched = await runCliInProcess(['keys', 'fetch', '--router', router.url, '--out', keysFile], { env: sandbox.env });
  expect(fetched.code, fetched.stderr).toBe(0);
});

afterAll(async () => {
  await Promise.all([router?.stop(), cutInAnalysis?.stop(), cutInAnswer?.stop()]);
  sandbox.cleanup();
});

describe('ask on a terminal', () => {
  it('stderr a TTY: spinner and dimmed analysis there, the bare answer on stdout', async () => {
    const out = scratch('stdout.txt');
    const result = await runInPty(`${ask()} > ${sh(out)}`, sandbox.env);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain(SPINNER_START);
    expect(result.output).toContain(`Asking ${router.url}`);
    expect(result.output).toMatch(/\u001b\[2m[^\u001b]*The/); // the analysis is dimmed
    expect(result.output.replace(SGR_ALL, '')).toContain('The user asks what 2+2 is. Simple arithmetic: 4.');
    expect(result.output).not.toContain('2 + 2 = 4.');
    expect(readIfExists(out)).toBe('2 + 2 = 4.\n');
  });

  it('stdout a TTY, stderr a file: the answer on the terminal, nothing on stderr (no analysis, no spinner)', async () => {
    const err = scratch('stderr.txt');
    const result = await runInPty(`${ask()} 2> ${sh(err)}`, sandbox.env);
    expect(result.code).toBe(0);
    expect(result.output).toBe('2 + 2 = 4.\n');
    expect(readIfExists(err)).toBe('');
  });

  it('both on pipes: no escape sequences anywhere, no analysis, no spinner', async () => {
    const result = await runCliInProcess(['ask', 'What is 2+2?', '--router', router.url], { env: sandbox.env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('2 + 2 = 4.\n');
    expect(result.stderr).toBe('');
  });

  it('CI=1: no spinner even on a terminal; colour stays', async () => {
    const out = scratch('stdout.txt');
    const result = await runInPty(`${ask()} > ${sh(out)}`, { ...sandbox.env, CI: '1' });
    expect(result.code).toBe(0);
    expect(result.output).not.toContain(SPINNER_START);
    expect(result.output).not.toContain('Asking');
    expect(result.output).toMatch(SGR);
    expect(result.output.replace(SGR_ALL, '')).toContain('The user asks what 2+2 is.');
    expect(readIfExists(out)).toBe('2 + 2 = 4.\n');
  });

  it('NO_COLOR: no colour at all on a terminal, the spinner frame included; the analysis still shown', async () => {
    const result = await runInPty(ask(), { ...sandbox.env, NO_COLOR: '1' });
    expect(result.code).toBe(0);
    expect(result.output).not.toMatch(SGR);
    expect(result.output).toContain('Asking');
    expect(result.output).toContain('The user asks what 2+2 is. Simple arithmetic: 4.\n2 + 2 = 4.\n');
  });

  it('FORCE_COLOR=0 turns colour off on a terminal; FORCE_COLOR=1 turns it on for pipes', async () => {
    const off = await runInPty(ask(), { ...sandbox.env, FORCE_COLOR: '0' });
    expect(off.code).toBe(0);
    expect(off.output).not.toMatch(SGR);

    const forced = await runCliInProcess(['ask', 'What is 2+2?', '--router', router.url, '--show', 'analysis,final'], {
      env: { ...sandbox.env, FORCE_COLOR: '1' },
    });
    expect(forced.code).toBe(0);
    expect(forced.stderr).toMatch(/\u001b\[2m[^\u001b]*The/);
    expect(forced.stdout).toBe('2 + 2 = 4.\n'); // the answer itself is never decorated
  });

  it('--hide-analysis on a terminal: spinner, no analysis', async () => {
    const out = scratch('stdout.txt');
    const result = await runInPty(`${ask('--hide-analysis')} > ${sh(out)}`, sandbox.env);
    expect(result.code).toBe(0);
    expect(result.output).toContain('Asking');
    expect(result.output).not.toContain('The user asks');
    expect(readIfExists(out)).toBe('2 + 2 = 4.\n');
  });

  it('--quiet and --json on a terminal: no spinner, no analysis', async () => {
    const quiet = await runInPty(ask('--quiet'), sandbox.env);
    expect(quiet.code).toBe(0);
    expect(quiet.output).toBe('2 + 2 = 4.\n');

    const out = scratch('stdout.ndjson');
    const json = await runInPty(`${ask('--json')} > ${sh(out)}`, sandbox.env);
    expect(json.code).toBe(0);
    expect(json.output).toBe('');
    const last = JSON.parse(readIfExists(out).trim().split('\n').at(-1) as string) as Record<string, unknown>;
    expect(last).toMatchObject({ type: 'done', answer: '2 + 2 = 4.' });
  });

  it('an unsized terminal (0 columns, as under script or some CI runners) gets no spinner and does not hang', async () => {
    const out = scratch('stdout.txt');
    const result = await runInPty(`${ask()} > ${sh(out)}`, sandbox.env, { columns: 0, timeoutMs: 15_000 });
    expect(result.code).toBe(0);
    expect(result.output).not.toContain('Asking');
    expect(result.output.replace(SGR_ALL, '')).toContain('The user asks');
    expect(readIfExists(out)).toBe('2 + 2 = 4.\n');
  });

  it('a prompt-less ask on a terminal stdin is a usage error at once, never a wait for typing', async () => {
    const result = await runInPty(cliLine(['ask', '--router', router.url]), sandbox.env, { timeoutMs: 10_000 });
    expect(result.code).toBe(2);
    expect(result.output.replace(SGR_ALL, '').trim()).toMatch(/^harmony-hpke: error: no prompt: .+ \(NO_PROMPT\)$/);
  });
});

describe('errors and other commands on a terminal', () => {
  it('the error line is red on a terminal and plain on a pipe, one line either way', async () => {
    const args = ['ask', 'x', '--max-tokens', 'lots'];
    const tty = await runInPty(cliLine(args), sandbox.env);
    expect(tty.code).toBe(2);
    expect(tty.output).toContain('harmony-hpke: \u001b[31merror:\u001b[39m ');
    const lines = tty.output.replace(SGR_ALL, '').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(ERROR_LINE);

    const piped = await runCliInProcess(args, { env: sandbox.env });
    expect(piped.code).toBe(2);
    expect(piped.stderr).not.toMatch(SGR);
    expect(piped.stderr.trim()).toMatch(ERROR_LINE);

    const forced = await runCliInProcess(args, { env: { ...sandbox.env, FORCE_COLOR: '1' } });
    expect(forced.stderr).toContain('\u001b[31merror:');
  });

  it('an error in the middle of the analysis or the answer starts on a line of its own', async () => {
    const out = scratch('stdout.txt');
    const analysis = await runInPty(`${cliLine(['ask', 'What is 2+2?', '--router', cutInAnalysis.url])} > ${sh(out)}`, {
      ...sandbox.env,
      NO_COLOR: '1',
    });
    expect(analysis.code).toBe(7);
    const lines = visible(analysis.output).split('\n');
    expect(lines.at(-2)).toMatch(/^harmony-hpke: error: .+ \(STREAM_TRUNCATED\)$/);
    expect(lines.at(-3)).toMatch(/The user$/); // the verified part of the analysis, then a line break

    // stdout and stderr on one terminal: the answer's verified prefix, then the error below it.
    const answer = await runInPty(cliLine(['ask', 'What is 2+2?', '--router', cutInAnswer.url, '--hide-analysis']), {
      ...sandbox.env,
      NO_COLOR: '1',
    });
    expect(answer.code).toBe(7);
    expect(visible(answer.output)).toMatch(/2 \+ \nharmony-hpke: error: .+ \(STREAM_TRUNCATED\)\n$/);

    // On pipes, stdout keeps exactly the bytes it had (no newline is added to data).
    const piped = await runCliInProcess(['ask', 'What is 2+2?', '--router', cutInAnswer.url], { env: sandbox.env });
    expect(piped.code).toBe(7);
    expect(piped.stdout).toBe('2 + ');
    expect(piped.stderr).toMatch(/^harmony-hpke: error: .+ \(STREAM_TRUNCATED\)\n$/);
  });

  it('inspect: bold heading on a terminal stdout only', async () => {
    const tty = await runInPty(`${cliLine(['inspect', keysFile])} 2>/dev/null`, sandbox.env);
    expect(tty.code).toBe(0);
    expect(tty.output).toMatch(/^\u001b\[1mkey-config\u001b\[22m\n/);

    const noColor = await runInPty(cliLine(['inspect', keysFile]), { ...sandbox.env, NO_COLOR: 'yes' });
    expect(noColor.output).toMatch(/^key-config\n/);

    const piped = await runCliInProcess(['inspect', keysFile], { env: sandbox.env });
    expect(piped.stdout).toMatch(/^key-config\n/);
    expect(piped.stdout).not.toMatch(SGR);
  });
});
