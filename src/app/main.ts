/**
 * CLI entry: builds the program, maps every error to one stderr line and a stable exit code,
 * and keeps pipes (`| head`) and Ctrl-C quiet.
 */
import { CommanderError } from 'commander';
import { HarmonyHpkeError } from '../core/errors.js';
import { packageVersion } from '../version.js';
import type { CliContext } from '../cli/context.js';
import { ExitCode, exitCodeForFamily } from '../cli/exit-codes.js';
import type { Terminal } from '../cli/output.js';
import { installNodeCryptoBackend } from '../node/crypto-backend.js';
import { buildProgram } from './program.js';

installNodeCryptoBackend();

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

const WRITE_PROBLEMS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'the file is too large',
  EIO: 'input/output error',
  EBADF: 'stdout is closed',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
};

/** The one line for a failed stdout write; returns the exit code (12). */
export function reportStdoutFailure(stderr: { write(text: string): unknown }, error: NodeJS.ErrnoException): number {
  const code = typeof error.code === 'string' ? error.code : 'error';
  try {
    stderr.write(`harmony-hpke: error: cannot write to stdout: ${WRITE_PROBLEMS[code] ?? code} (STDOUT_WRITE_FAILED)\n`);
  } catch {
    // Nowhere left to say it.
  }
  return ExitCode.Output;
}

/** reportStreamError already wrote the record of errors raised while streaming. */
function jsonRecordWritten(error: unknown): boolean {
  return error instanceof HarmonyHpkeError && (error as { jsonReported?: boolean }).jsonReported === true;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

export async function main(argv: string[]): Promise<void> {
  const controller = new AbortController();
  const ctx: CliContext = {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    signal: controller.signal,
    exitCode: ExitCode.Ok,
  };

  // `| head` closes our stdout: stop quietly instead of dying with EPIPE. Any other failure to
  // write stdout (a full disk, /dev/full) is one error line and exit 12, never a stack.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(ctx.exitCode);
    process.exit(reportStdoutFailure(process.stderr, error));
  });
  // A diagnostic that cannot be written is lost; it must not crash the command.
  process.stderr.on('error', () => {});

  let interrupts = 0;
  let finished = false;
  const onSignal = (signal: NodeJS.Signals) => {
    // A signal after the command is done (while the process winds down) must not kill it with the
    // default action mid-exit: the work is complete, so it ends with the command's own code.
    if (finished) process.exit(ctx.exitCode);
    interrupts += 1;
    if (interrupts > 1) process.exit(signal === 'SIGTERM' ? ExitCode.Terminated : ExitCode.Interrupted);
    controller.abort(new InterruptedError(signal));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const debug = argv.includes('--debug');
  try {
    await buildProgram(ctx, packageVersion()).parseAsync(argv);
  } catch (error) {
    // Loaded only on failure: `--version` and `--help` never pay for chalk.
    const { Terminal } = await import('../cli/output.js');
    const terminal = new Terminal({ stdout: ctx.stdout, stderr: ctx.stderr, env: ctx.env, debug });
    terminal.clearSpinner();
    ctx.exitCode = reportError(terminal, error, debug, argv.includes('--json') && !jsonRecordWritten(error));
  } finally {
    finished = true;
  }
  process.exitCode = ctx.exitCode;
}
