/**
 * `--tool-exec CMD`: runs the user's command for one tool call. The command line is the user's own
 * (run by /bin/sh -c, as a shell would); the model's call travels only as JSON on the command's
 * stdin, never in its command line or environment, so nothing the model writes is ever parsed by
 * a shell. Its stdout (at most 1 MiB, UTF-8) is the tool's answer; it gets a time limit, and a
 * command that fails, times out or floods is a clear error (exit 2), not a tool answer.
 */
import { spawn } from 'node:child_process';
import { sanitizeText } from '../hpke/index.js';
import { UsageError, type CodeOf } from '../core/errors.js';
import type { ToolCall } from './tool-call.js';

export const TOOL_OUTPUT_LIMIT = 1024 * 1024;
const STDERR_KEPT = 4096;
export const DEFAULT_TOOL_TIMEOUT_MS = 60_000;

export interface ToolExecOptions {
  readonly command: string;
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
}

export interface ToolExecResult {
  readonly output: string;
  /** What the command wrote on stderr (its last 4 KiB), for diagnostics. */
  readonly stderr: string;
}

/** The JSON the command reads on stdin. */
export function toolCallInput(call: ToolCall): string {
  return `${JSON.stringify({
    recipient: call.recipient,
    namespace: call.namespace,
    name: call.name,
    content_type: call.contentType ?? null,
    arguments: call.arguments === undefined ? null : call.arguments,
    raw: call.raw,
  })}\n`;
}

function failed(code: CodeOf<'usage'>, message: string): UsageError {
  return new UsageError(code, `--tool-exec: ${message}`);
}

export function runToolCommand(call: ToolCall, options: ToolExecOptions): Promise<ToolExecResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout ends the command and whatever it started.
    const child = spawn('/bin/sh', ['-c', options.command], {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
      env: { ...(options.env ?? process.env) } as NodeJS.ProcessEnv,
    });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = Buffer.alloc(0);
    let problem: unknown;
    let settled = false;
    const kill = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const stop = (error: unknown) => {
      problem ??= error;
      kill();
    };
    const timer = setTimeout(() => stop(failed('TOOL_EXEC_TIMEOUT', `the command did not finish within ${Math.round(timeoutMs / 1000)} s (killed)`)), timeoutMs);
    // Interrupted: the signal's reason (Ctrl-C's InterruptedError) is what the CLI reports.
    const onAbort = () => stop(options.signal?.reason ?? failed('TOOL_EXEC_ABORTED', 'interrupted'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    child.stdout.on('data', (part: Buffer) => {
      outBytes += part.length;
      if (outBytes > TOOL_OUTPUT_LIMIT) stop(failed('TOOL_EXEC_OUTPUT_TOO_LARGE', `the command wrote more than ${TOOL_OUTPUT_LIMIT} bytes (killed)`));
      else out.push(part);
    });
    child.stderr.on('data', (part: Buffer) => {
      err = Buffer.concat([err, part]);
      if (err.length > STDERR_KEPT) err = err.subarray(err.length - STDERR_KEPT);
    });
    // A command that does not read its stdin is fine: EPIPE there is not an error.
    child.stdin.on('error', () => {});
    child.stdin.end(toolCallInput(call));
    child.on('error', (error) => finish(() => reject(failed('TOOL_EXEC_FAILED', `cannot run the command: ${(error as NodeJS.ErrnoException).code ?? error.message}`))));
    child.on('close', (code, signal) => {
      finish(() => {
        const stderr = err.toString('utf8');
        if (problem !== undefined) return reject(problem);
        if (code !== 0) {
          const tail = sanitizeText(stderr.trim().split('\n').slice(-1)[0] ?? '', 200);
          const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
          return reject(failed('TOOL_EXEC_FAILED', `the command ${how} for ${sanitizeText(call.recipient, 80)}${tail ? `: ${tail}` : ''}`));
        }
        const bytes = Buffer.concat(out);
        const output = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
        resolve({ output, stderr });
      });
    });
  });
}
