/** `harmony-hpke decode`: verify and decrypt a saved or piped SSE response, printing it like ask. */
import { sessionOpensStream } from '../sse/index.js';
import type { Session } from '../hpke/index.js';
import type { CliContext } from '../cli/context.js';
import { ExitCode } from '../cli/exit-codes.js';
import { openInput } from '../cli/input.js';
import { terminalFor } from '../cli/output.js';
import { reportStreamError } from '../cli/report.js';
import { answerExitCode } from '../cli/tool-call.js';
import { doneRecord } from '../cli/stream-outcome.js';
import { streamAnswer } from './answer.js';
import { listStoredSessions, readSession } from '../client/session-store.js';
import { TruncatedError, UsageError } from '../core/errors.js';
import { readStreamHead } from '../client/stream-head.js';
import type { DisplayOptions, GlobalOptions } from '../cli/flags.js';

export interface DecodeOptions extends GlobalOptions, DisplayOptions {
  readonly session?: string;
  readonly buffer?: boolean;
}

/** Finds the stored session whose keys open this stream's first chunk. */
async function discoverSession(ctx: CliContext, head: string): Promise<{ path: string; session: Session }> {
  // Input that is not an SSE response at all is the user's mistake (exit 2), not a cut stream.
  if (!/\n(?:event|data|id|retry)(?::|\r?\n)|\n:/.test(`\n${head.replace(/^\ufeff/, '')}`)) {
    throw new UsageError('NOT_AN_SSE_STREAM', 'the input is not an SSE response (no event or data lines); decode reads what send prints');
  }
  if (!/\nevent: ?chunk/.test(`\n${head}`)) {
    throw new TruncatedError('STREAM_TRUNCATED', 'the stream ends before its first chunk; nothing to decode');
  }
  for (const stored of await listStoredSessions(ctx.env)) {
    if (sessionOpensStream(stored.session, head)) return stored;
  }
  // No stored session is a matter of the user's files (another machine, a pruned store): exit 2.
  throw new UsageError('NO_MATCHING_SESSION', 'no stored session opens this stream; pass --session FILE');
}

export async function run(ctx: CliContext, streamArg: string | undefined, options: DecodeOptions): Promise<number> {
  const terminal = terminalFor(ctx, options);
  try {
    let stored: { path: string; session: Session };
    let source: AsyncIterable<Uint8Array | string>;
    if (options.session !== undefined) {
      stored = { path: options.session, session: await readSession(options.session) };
      source = (await openInput(ctx, streamArg, 'SSE stream')).stream;
    } else {
      const input = await openInput(ctx, streamArg, 'SSE stream');
      const { head, stream } = await readStreamHead(input.stream);
      stored = await discoverSession(ctx, head);
      terminal.debug(`using session ${stored.path}`);
      source = stream;
    }
    const outcome = await streamAnswer(source, stored.session, terminal, { ...options, sessionPath: stored.path });
    if (options.json) terminal.jsonLine(doneRecord(outcome));
    return answerExitCode(outcome.toolCall);
  } catch (error) {
    return reportStreamError(terminal, error, options);
  }
}
