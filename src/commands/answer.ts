/**
 * The one way an answer travels from the socket (or a file) to stdout, for ask, send --decode,
 * decode and smoke: SSE bytes -> sse/decryptStreamBatches (verify and decrypt chunk by chunk) ->
 * cli/viewStream (Harmony parser -> the sink of the output mode) -> stdout. Then the session file
 * records which response it decoded, and the finish reason decides whether the answer is complete.
 */
import type { Session } from '../hpke/index.js';
import { decryptStreamBatches } from '../sse/index.js';
import type { Terminal } from '../cli/output.js';
import { checkFinish, type StreamOutcome } from '../cli/stream-outcome.js';
import { viewStream, type ViewOptions } from '../cli/stream-view.js';
import { recordResponseNonce } from '../client/session-store.js';

export interface AnswerOptions extends ViewOptions {
  /** Release nothing until the final chunk verifies (`--buffer`). */
  readonly buffer?: boolean | undefined;
  /** The session file to record the response in (none: the session lives in memory only). */
  readonly sessionPath?: string | undefined;
  /** When the exchange started (timings are measured from there). */
  readonly startedAt?: number | undefined;
  /** What a finished stream must be; default checkFinish (cancelled: exit 11, length: a warning or --strict). */
  readonly check?: ((outcome: StreamOutcome) => void) | undefined;
}

/** Records the decoded response in its session file; a failure to do so is a warning, not an error. */
async function rememberResponse(terminal: Terminal, path: string, session: Session, nonce: Uint8Array): Promise<void> {
  await recordResponseNonce(path, session, nonce).catch(() => {
    terminal.warn(`could not record the response in ${path}`);
  });
}

export async function streamAnswer(
  source: AsyncIterable<Uint8Array | string>,
  session: Session,
  terminal: Terminal,
  options: AnswerOptions,
): Promise<StreamOutcome> {
  const events = decryptStreamBatches(source, session, { buffer: options.buffer ?? false });
  const outcome = await viewStream(events, terminal, options, options.startedAt);
  // Remember which response this session decoded, so a different second response is detected.
  if (outcome.responseNonce && options.sessionPath) {
    await rememberResponse(terminal, options.sessionPath, session, outcome.responseNonce);
  }
  if (options.check) options.check(outcome);
  else checkFinish(outcome, terminal, options);
  return outcome;
}
