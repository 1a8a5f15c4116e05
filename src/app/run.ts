/**
 * The whole CLI as a function: `run(argv, ctx)` parses the arguments with the commander program,
 * runs the command, prints any error in the house one-line format and returns the exit code. It
 * touches nothing of the process (no process.exit, process.on, process.env, process.stdin): the
 * context carries the streams, the environment, the abort signal and the host's hooks, so tests run
 * it in-process with in-memory streams, and src/app/main.ts wires it to the real process.
 */
import { CommanderError, type Command } from 'commander';
import { HarmonyHpkeError } from '../core/errors.js';
import { packageVersion } from '../version.js';
import type { CliContext } from '../cli/context.js';
import { ExitCode, exitCodeForFamily } from '../cli/exit-codes.js';
import type { Env, OutputStream, Terminal } from '../cli/output.js';
import { installNodeCryptoBackend } from '../node/crypto-backend.js';
import { buildProgram } from './program.js';

/** The reason the context's signal carries on Ctrl-C (SIGINT) or SIGTERM. */
export class InterruptedError extends Error {
  constructor(readonly signal: NodeJS.Signals = 'SIGINT') {
    super(signal === 'SIGTERM' ? 'terminated' : 'interrupted');
  }
}

function commanderCode(code: string): string {
  const tail = code.replace(/^commander\./, '');
  return `USAGE_${tail.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`;
}

/** Maps an error to its exit code after printing it in the house one-line format. */
export function reportError(terminal: Terminal, error: unknown, debug: boolean, json = false): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return ExitCode.Ok;
    if (error.code === 'commander.help') {
      // No (sub)command given: commander printed the help on stderr; it is still a usage error.
      terminal.error('no command given (the commands are listed above)', 'USAGE_MISSING_COMMAND');
      return ExitCode.Usage;
    }
    // Commander puts its "(Did you mean ...?)" on a line of its own: keep it on the one line.
    const message = oneLine(error.message.replace(/^error:\s*/, ''));
    const code = commanderCode(error.code);
    if (json) terminal.jsonLine({ type: 'error', code, family: 'usage', message, exit_code: ExitCode.Usage });
    terminal.error(/\(Did you mean /.test(message) ? message : `${message} (see --help)`, code);
    return ExitCode.Usage;
  }
  if (error instanceof InterruptedError) return error.signal === 'SIGTERM' ? ExitCode.Terminated : ExitCode.Interrupted;
  if (error instanceof Error && error.name === 'AbortError') return ExitCode.Interrupted;
  if (error instanceof HarmonyHpkeError) {
    // With --json, an error raised outside a stream (reportStreamError writes the others) is a record too.
    if (json) {
      terminal.jsonLine({ type: 'error', code: error.code, family: error.family, message: oneLine(error.message), exit_code: exitCodeForFamily(error.family) });
    }
    terminal.error(oneLine(error.message), error.code);
    if (debug && error.stack) terminal.writeErr(`${error.stack}\n`);
    return exitCodeForFamily(error.family);
  }
  const message = error instanceof Error ? error.message : String(error);
  terminal.error(`unexpected failure: ${oneLine(message)}`, 'INTERNAL');
  if (debug && error instanceof Error && error.stack) terminal.writeErr(`${error.stack}\n`);
  else terminal.writeErr('harmony-hpke: run again with --debug for a stack trace\n');
  return ExitCode.Internal;
}

/** reportStreamError already wrote the record of errors raised while streaming. */
function jsonRecordWritten(error: unknown): boolean {
  return error instanceof HarmonyHpkeError && (error as { jsonReported?: boolean }).jsonReported === true;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** Commander's own colour convention (NO_COLOR, FORCE_COLOR, CLICOLOR_FORCE), read from the context's env. */
function colourFromEnv(env: Env): boolean | undefined {
  if (env['NO_COLOR'] || env['FORCE_COLOR'] === '0' || env['FORCE_COLOR'] === 'false') return false;
  if (env['FORCE_COLOR'] || env['CLICOLOR_FORCE'] !== undefined) return true;
  return undefined;
}

type SizedStream = OutputStream & { readonly columns?: number; hasColors?: () => boolean };

/**
 * Commander sizes and colours help by process.stdout/stderr and process.env unless told otherwise:
 * every command asks the context's streams instead (the same answers when they are the process's).
 */
function helpFollowsContext(command: Command, ctx: CliContext): void {
  const stdout = ctx.stdout as SizedStream;
  const stderr = ctx.stderr as SizedStream;
  command.configureOutput({
    getOutHelpWidth: () => (stdout.isTTY ? stdout.columns : undefined) as number,
    getErrHelpWidth: () => (stderr.isTTY ? stderr.columns : undefined) as number,
    getOutHasColors: () => colourFromEnv(ctx.env) ?? (stdout.isTTY === true && stdout.hasColors?.() === true),
    getErrHasColors: () => colourFromEnv(ctx.env) ?? (stderr.isTTY === true && stderr.hasColors?.() === true),
  });
  for (const sub of command.commands) helpFollowsContext(sub, ctx);
}

/**
 * Runs `harmony-hpke <args>` (argv without the node binary and script) in this context; resolves
 * with the exit code, which is also left in `ctx.exitCode` (the host reads it while a command runs,
 * e.g. when stdout closes under it).
 */
export async function run(args: readonly string[], ctx: CliContext): Promise<number> {
  // The pure libraries' crypto seam, bound to node:crypto for this process (idempotent).
  installNodeCryptoBackend();
  const debug = args.includes('--debug');
  try {
    const program = buildProgram(ctx, packageVersion());
    helpFollowsContext(program, ctx);
    await program.parseAsync(['node', 'harmony-hpke', ...args]);
  } catch (error) {
    // Loaded only on failure: `--version` and `--help` never pay for chalk.
    const { Terminal } = await import('../cli/output.js');
    const terminal = new Terminal({ stdout: ctx.stdout, stderr: ctx.stderr, env: ctx.env, debug });
    terminal.clearSpinner();
    ctx.exitCode = reportError(terminal, error, debug, args.includes('--json') && !jsonRecordWritten(error));
  }
  return ctx.exitCode;
}
