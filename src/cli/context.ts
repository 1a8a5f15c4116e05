import type { Env, OutputStream } from './output.js';

/** What a command may touch of the process: passed in so commands stay testable and thin. */
export interface CliContext {
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean | undefined; readonly fd?: number };
  /**
   * What stdin is, for a stream without a file descriptor to ask (an in-process run's in-memory
   * stdin): 'pipe' or 'file' is read like a pipe or a file, 'none' like /dev/null. Absent: fstat of
   * `stdin.fd` (0) decides, as for the real process.
   */
  readonly stdinKind?: 'pipe' | 'file' | 'socket' | 'none';
  readonly stdout: OutputStream;
  readonly stderr: OutputStream & { readonly columns?: number };
  readonly env: Env;
  /** Aborted on SIGINT/SIGTERM; long-running commands stop cleanly when it fires. */
  readonly signal: AbortSignal;
  /** Reload requests (SIGHUP for the process): subscribes, returns the unsubscribe. Absent: none come. */
  readonly onHangup?: (listener: () => void) => () => void;
  /**
   * Asks the host to end `afterMs` after the command returned even if a handle still holds the
   * event loop (serve after its bounded close). Absent (in-process runs): nothing is forced.
   */
  readonly exitSoon?: (code: number, afterMs: number) => void;
  exitCode: number;
}
