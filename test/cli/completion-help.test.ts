/**
 * `completion bash|zsh|fish` covers every command the program has (the bash one is sourced and run
 * by a real bash), and `help exit-codes` (and the README's table) match src/cli/exit-codes.ts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODE_TABLE } from '../../src/cli/exit-codes.js';
import { REPO_ROOT, makeSandbox, runCliInProcess } from '../helpers/cli.js';
import { cliLine, runShell, sh } from './support.js';

const sandbox = makeSandbox();

function runProcessZsh(script: string): Promise<string> {
  const result = spawnSync('zsh', ['-f', '-c', script], { env: { ...process.env, ...sandbox.env }, encoding: 'utf8', timeout: 20_000 });
  if (result.status !== 0) throw new Error(`zsh failed: ${result.stderr}`);
  return Promise.resolve(result.stdout);
}
const env = sandbox.env;
const bashScript = join(sandbox.dir, 'completion.bash');
let commands: string[];
const KEYS_SUBCOMMANDS = ['generate', 'show', 'fetch', 'pin', 'api-token'];

/** The command names listed by `--help` (so a new command cannot be forgotten here). */
function listedCommands(help: string): string[] {
  const section = help.split('\nCommands:\n')[1] ?? '';
  return section
    .split('\n')
    .map((line) => /^ {2}([a-z][a-z-]*)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

beforeAll(async () => {
  const help = await runCliInProcess(['--help'], { env });
  expect(help.code).toBe(0);
  commands = listedCommands(help.stdout);
  expect(commands).toEqual(['ask', 'create-request', 'send', 'decode', 'inspect', 'smoke', 'keys', 'config', 'sessions', 'serve', 'completion', 'help']);
  const keysHelp = await runCliInProcess(['keys', '--help'], { env });
  expect(listedCommands(keysHelp.stdout).filter((name) => name !== 'help')).toEqual(KEYS_SUBCOMMANDS);
});

afterAll(() => sandbox.cleanup());

describe('completion', () => {
  it('bash: a script bash accepts, completing commands, keys subcommands and options', async () => {
    const script = await runCliInProcess(['completion', 'bash'], { env });
    expect(script.code, script.stderr).toBe(0);
    // The first completion sources the binary's own output as the README says; the others source
    // the same script from a file (one CLI start instead of one per case).
    writeFileSync(bashScript, script.stdout);
    let sourced = `source <(${cliLine(['completion', 'bash'])})`;
    const complete = (words: string[]) =>
      [
        sourced,
        `COMP_WORDS=(harmony-hpke ${words.map((word) => `'${word}'`).join(' ')}); COMP_CWORD=${words.length}`,
        '_harmony_hpke',
        'printf "%s\\n" "${COMPREPLY[@]}"',
      ].join('\n');
    const top = await runShell(complete(['']), env);
    expect(top.code, top.stderr).toBe(0);
    sourced = `source ${sh(bashScript)}`;
    for (const command of commands) expect(top.output.split('\n')).toContain(command);
    const keys = await runShell(complete(['keys', '']), env);
    expect(keys.output.split('\n')).toEqual(expect.arrayContaining(KEYS_SUBCOMMANDS));
    const option = await runShell(complete(['ask', '--hide']), env);
    expect(option.output).toBe('--hide-analysis\n');
    const pinOption = await runShell(complete(['keys', 'pin', '--fi']), env);
    expect(pinOption.output).toBe('--fingerprint\n');
  });

  it('bash: completes past positional words and option values, and offers option values and shells', async () => {
    writeFileSync(bashScript, (await runCliInProcess(['completion', 'bash'], { env })).stdout);
    const complete = (words: string[]) =>
      [
        `source ${sh(bashScript)}`,
        `COMP_WORDS=(harmony-hpke ${words.map((word) => `'${word}'`).join(' ')}); COMP_CWORD=${words.length}`,
        '_harmony_hpke',
        'printf "%s\\n" "${COMPREPLY[@]}"',
      ].join('\n');
    const cases: Array<[string[], string[]]> = [
      [['ask', 'What is 2+2?', '--js'], ['--json']],
      [['ask', '--reasoning-effort', ''], ['low', 'medium', 'high']],
      [['ask', '--reasoning-effort', 'high', '--hide'], ['--hide-analysis']],
      [['ask', '--show', ''], ['analysis', 'commentary', 'final']],
      [['serve', '--upstream-kind', 'ol'], ['ollama']],
      [['completion', ''], ['bash', 'zsh', 'fish']],
      [['--profile', 'prod', 'ask', '--hide'], ['--hide-analysis']],
      [['ask', '--debug', '--hide'], ['--hide-analysis']],
      [['keys', 'pin', '--router', 'http://x', '--fi'], ['--fingerprint']],
    ];
    for (const [words, expected] of cases) {
      const result = await runShell(complete(words), env);
      expect(result.output.trim().split('\n'), words.join(' ')).toEqual(expected);
    }
    const help = await runShell(complete(['help', '']), env);
    expect(help.output.split('\n')).toEqual(expect.arrayContaining(['ask', 'keys', 'exit-codes']));
  });

  const hasZsh = spawnSync('zsh', ['--version']).status === 0;
  if (!hasZsh && process.env['CI'] === 'true') throw new Error('zsh is not installed (apt-get install zsh); CI needs it');
  it.skipIf(!hasZsh)('zsh (bashcompinit, 1-indexed COMP_WORDS): option values, past positional words, shells', async () => {
    const zshScript = join(sandbox.dir, 'completion.zsh');
    const script = await runCliInProcess(['completion', 'zsh'], { env });
    expect(script.code, script.stderr).toBe(0);
    writeFileSync(zshScript, script.stdout);
    const line = (words: string[]) =>
      [
        'autoload -U +X compinit && compinit -u',
        `source ${sh(zshScript)}`,
        // What bashcompinit's _bash_complete hands over: zsh's own 1-indexed words, CURRENT - 1.
        `COMP_WORDS=(harmony-hpke ${words.map((word) => `'${word}'`).join(' ')}); COMP_CWORD=${words.length}`,
        '_harmony_hpke',
        // zsh filters by the typed prefix itself (its compgen does not).
        `print -l -- \${(M)COMPREPLY:#${words.at(-1)}*}`,
      ].join('\n');
    const cases: Array<[string[], string[]]> = [
      [['ask', 'What is 2+2?', '--js'], ['--json']],
      [['ask', '--reasoning-effort', ''], ['low', 'medium', 'high']],
      [['completion', ''], ['bash', 'zsh', 'fish']],
      [['keys', 'p'], ['pin']],
    ];
    for (const [words, expected] of cases) {
      const result = await runProcessZsh(line(words));
      expect(result.trim().split('\n'), words.join(' ')).toEqual(expected);
    }
  });

  it('zsh and fish: every command and keys subcommand is offered', async () => {
    const zsh = await runCliInProcess(['completion', 'zsh'], { env });
    expect(zsh.code).toBe(0);
    expect(zsh.stdout).toMatch(/^#compdef harmony-hpke\n/);
    for (const command of commands) expect(zsh.stdout).toContain(`'''|''${command}'`);

    const fish = await runCliInProcess(['completion', 'fish'], { env });
    expect(fish.code).toBe(0);
    for (const command of commands) expect(fish.stdout).toContain(`complete -c harmony-hpke -n '__fish_use_subcommand' -f -a '${command}'`);
    for (const sub of KEYS_SUBCOMMANDS) expect(fish.stdout).toContain(`-n '__fish_seen_subcommand_from keys' -f -a '${sub}'`);
    expect(fish.stdout).toContain(`-n '__fish_seen_subcommand_from ask' -l 'reasoning-effort'`);
  });
});

describe('help', () => {
  it('help exit-codes prints the table of src/cli/exit-codes.ts, line for line', async () => {
    const result = await runCliInProcess(['help', 'exit-codes'], { env });
    expect(result.code).toBe(0);
    const expected = ['harmony-hpke exit codes:', ...EXIT_CODE_TABLE.map(({ code, meaning }) => `  ${String(code).padStart(3)}  ${meaning}`)];
    expect(result.stdout).toBe(`${expected.join('\n')}\n`);
  });

  it("the README's exit code table says the same", () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const rows = [...readme.matchAll(/^\| (\d+) \| (.+) \|$/gm)].map(([, code, meaning]) => [Number(code), (meaning as string).replace(/`/g, '')]);
    expect(rows).toEqual(EXIT_CODE_TABLE.map(({ code, meaning }) => [code, meaning]));
  });

  it('help COMMAND and help keys pin print that command\'s help; --help exits 0', async () => {
    const ask = await runCliInProcess(['help', 'ask'], { env });
    expect(ask.stdout).toMatch(/^Usage: harmony-hpke ask \[options\] \[prompt\]/);
    const pin = await runCliInProcess(['help', 'keys', 'pin'], { env });
    expect(pin.code).toBe(0);
    expect(pin.stdout).toMatch(/^Usage: harmony-hpke keys pin \[options\]/);
    const flag = await runCliInProcess(['decode', '--help'], { env });
    expect(flag.code).toBe(0);
    expect(flag.stdout).toMatch(/^Usage: harmony-hpke decode \[options\] \[stream\]/);
    expect(flag.stderr).toBe('');
  });
});
