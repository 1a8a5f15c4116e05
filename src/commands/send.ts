/** `harmony-hpke send`: POST an envelope; print the raw SSE response unchanged, or decode it (--decode). */
import { Buffer } from 'node:buffer';
import type { CliContext } from '../cli/context.js';
import { ExitCode } from '../cli/exit-codes.js';
import { readInputFile } from '../cli/input.js';
import { terminalFor } from '../cli/output.js';
import { reportStreamError } from '../cli/report.js';
import { answerExitCode } from '../cli/tool-call.js';
import { doneRecord, timingLine } from '../cli/stream-outcome.js';
import { streamAnswer } from './answer.js';
import { DEFAULT_RETRY, sendWithRetry } from '../client/http.js';
import { parseEnvelope } from '../client/request.js';
import { readSession } from '../client/session-store.js';
import { KeyError, UsageError } from '../core/errors.js';
import { timeoutsFrom, type DisplayOptions, type GlobalOptions, type TimeoutOptions } from '../cli/flags.js';

export interface SendOptions extends GlobalOptions, TimeoutOptions, DisplayOptions {
  readonly decode?: boolean;
  readonly session?: string;
  readonly buffer?: boolean;
  readonly retries?: number;
}

export async function run(ctx: CliContext, envelopeArg: string | undefined, options: SendOptions): Promise<number> {
  const terminal = terminalFor(ctx, options);
  const decode = options.decode ?? false;
  // A flag mistake is reported before any input is read.
  if (!decode && (options.raw || options.json || options.show || options.buffer)) {
    throw new UsageError('USAGE_NEEDS_DECODE', '--raw, --json, --show and --buffer need --decode');
  }
  const input = await readInputFile(ctx, envelopeArg, 'envelope');
  const envelope = parseEnvelope(input.bytes.toString('utf8'), input.name);
  const sessionPath = options.session ?? (envelope.session || undefined);
  // Load the session first: failing after the request was sent would waste the one-shot request.
  const session = decode
    ? sessionPath
      ? await readSession(sessionPath)
      : (() => {
          throw new UsageError('NO_SESSION', 'the envelope names no session file; pass --session FILE');
        })()
    : undefined;
  const timeouts = timeoutsFrom(options);
  const startedAt = performance.now();
  try {
    const response = await sendWithRetry(
      {
        method: 'POST',
        url: envelope.url,
        headers: envelope.headers,
        body: Buffer.from(envelope.body, 'base64'),
        timeouts,
        signal: ctx.signal,
      },
      { ...DEFAULT_RETRY, retries: options.retries ?? DEFAULT_RETRY.retries },
      (attempt, reason, delayMs) => terminal.info(`retry ${attempt} (${reason}) in ${delayMs} ms`),
    ).catch((error: unknown) => {
      if (error instanceof KeyError && error.code === 'ROUTER_KEY_REJECTED') {
        throw new KeyError(
          'ROUTER_KEY_REJECTED',
          `${error.message}; the router's key changed: run create-request again (ask re-seals by itself)`,
        );
      }
      throw error;
    });
    terminal.detail(`response headers after ${response.headersMs.toFixed(0)} ms`);
    if (!session) {
      // Waits for 'drain': a router faster than stdout must not fill our memory.
      for await (const part of response.body) if (!ctx.stdout.write(part)) await terminal.drained();
      return ExitCode.Ok;
    }
    const outcome = await streamAnswer(response.body, session, terminal, { ...options, idleMs: timeouts.idleMs, sessionPath, startedAt });
    if (options.json) terminal.jsonLine(doneRecord(outcome));
    terminal.detail(timingLine(outcome, response.firstByteMs()));
    return answerExitCode(outcome.toolCall);
  } catch (error) {
    return reportStreamError(terminal, error, options);
  }
}
