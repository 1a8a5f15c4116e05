/** A hidden option (a test-only flag) stays out of the completion scripts, as it stays out of --help. */
import { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../src/cli/context.js';
import { run } from '../../src/commands/completion.js';

function capture(): { ctx: CliContext; text: () => string } {
  let out = '';
  const stream = { write: (chunk: string | Uint8Array) => ((out += String(chunk)), true), isTTY: false };
  const ctx: CliContext = { stdin: process.stdin, stdout: stream, stderr: stream, env: {}, signal: new AbortController().signal, exitCode: 0 };
  return { ctx, text: () => out };
}

describe('completion', () => {
  it.each(['bash', 'zsh', 'fish'])('%s: offers the visible flag, not the hidden one', async (shell) => {
    const program = new Command('harmony-hpke');
    program.command('serve').option('--visible-flag', 'shown').addOption(new Option('--secret-test-flag', 'tests only').hideHelp());
    const { ctx, text } = capture();
    expect(await run(ctx, shell, program)).toBe(0);
    expect(text()).toContain('visible-flag');
    expect(text()).not.toContain('secret-test-flag');
  });
});
