import { HarmonyHpkeError } from '../core/errors.js';
import { exitCodeForFamily } from './exit-codes.js';
import type { Terminal } from './output.js';

/**
 * With --json, a failure is also an NDJSON `error` record on stdout (the last line); the error is
 * then rethrown so main() prints the one-line message and picks the exit code.
 */
export function reportStreamError(terminal: Terminal, error: unknown, options: { json?: boolean | undefined }): never {
  terminal.clearSpinner();
  if (options.json && error instanceof HarmonyHpkeError) {
    (error as { jsonReported?: boolean }).jsonReported = true;
    terminal.jsonLine({
      type: 'error',
      code: error.code,
      family: error.family,
      message: error.message,
      exit_code: exitCodeForFamily(error.family),
    });
  }
  throw error;
}
