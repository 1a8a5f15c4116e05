import type { Env, OutputStream } from './output.js';

/** What a command may touch of the process: passed in so commands stay testable and thin. */
export interface CliContext {
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean | undefined; readonly fd?: number };
  readonly stdout: OutputStream;
  readonly stderr: OutputStream & { readonly columns?: number };
  readonly env: Env;
  /** Aborted on SIGINT/SIGTERM; long-running commands stop cleanly when it fires. */
  readonly signal: AbortSignal;
  exitCode: number;
}
