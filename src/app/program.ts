/**
 * The commander program: the global flags and every command, composed. Each command module
 * (src/commands/*.command.ts) declares its own flags and loads its handler lazily, so `--version`
 * and `--help` pay for nothing but commander and the flag definitions.
 */
import { Command } from 'commander';
import type { CliContext } from '../cli/context.js';
import { globalFlags } from '../cli/flags.js';
import { askCommand } from '../commands/ask.command.js';
import { configCommand } from '../commands/config.command.js';
import { createRequestCommand } from '../commands/create-request.command.js';
import { decodeCommand } from '../commands/decode.command.js';
import { completionCommand, helpCommand } from '../commands/help.command.js';
import { inspectCommand } from '../commands/inspect.command.js';
import { keysCommand } from '../commands/keys.command.js';
import { sendCommand } from '../commands/send.command.js';
import { serveCommand } from '../commands/serve.command.js';
import { sessionsCommand } from '../commands/sessions.command.js';
import { smokeCommand } from '../commands/smoke.command.js';

/** The commands in the order `--help` lists them. */
const COMMANDS = [
  askCommand,
  createRequestCommand,
  sendCommand,
  decodeCommand,
  inspectCommand,
  smokeCommand,
  keysCommand,
  configCommand,
  sessionsCommand,
  serveCommand,
  completionCommand,
  helpCommand,
] as const;

export function buildProgram(ctx: CliContext, version: string): Command {
  const program = new Command('harmony-hpke');
  program
    .description('Encrypted Harmony requests for gpt-oss routers (HPKE + SSE)')
    .version(version, '-V, --version', 'print the version');
  globalFlags(program)
    .showSuggestionAfterError(true)
    .helpCommand(false)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.stdout.write(text),
      writeErr: (text) => ctx.stderr.write(text),
      // Errors are printed by main() in the house one-line format.
      outputError: () => {},
    });
  for (const add of COMMANDS) add(program, ctx);
  return program;
}
