/**
 * The process wiring around run() (src/app/run.ts): the real streams and environment, Ctrl-C and
 * SIGTERM as the abort signal, SIGHUP as serve's reload, quiet pipes (`| head`), a failed stdout
 * write as one error line and exit 12, and the exit code. Everything else is in run().
 */
import type { CliContext } from '../cli/context.js';
import { ExitCode } from '../cli/exit-codes.js';
import { InterruptedError, run } from './run.js';

export { InterruptedError, reportError } from './run.js';

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

export async function main(argv: string[]): Promise<void> {
  const controller = new AbortController();
  const ctx: CliContext = {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    signal: controller.signal,
    onHangup: (listener) => {
      process.on('SIGHUP', listener);
      return () => process.off('SIGHUP', listener);
    },
    exitSoon: (code, afterMs) => {
      setTimeout(() => process.exit(code), afterMs).unref();
    },
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

  try {
    process.exitCode = await run(argv.slice(2), ctx);
  } finally {
    finished = true;
  }
}
