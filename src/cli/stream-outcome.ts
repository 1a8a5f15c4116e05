/** What a viewed stream came to, and what that means for the exit code and the closing records. */
import { CheckFailedError, IncompleteAnswerError } from '../core/errors.js';
import type { Message } from '../harmony/model.js';
import type { Terminal } from './output.js';
import type { ToolCall } from './tool-call.js';

export interface StreamOutcome {
  /** The verified hpke event's response nonce (the caller records it in the session file). */
  readonly responseNonce: Uint8Array | undefined;
  readonly rid: string | undefined;
  readonly model: string | undefined;
  readonly finish: string | undefined;
  readonly usage: { prompt_tokens: number; completion_tokens: number } | undefined;
  readonly chunks: number;
  readonly completionTokens: number;
  /** The final channel's text (the answer). */
  readonly answer: string;
  /** Parsed completion messages (openai-harmony Message objects). */
  readonly messages: readonly Message[];
  readonly firstFinalTokenMs: number | undefined;
  readonly firstChunkMs: number | undefined;
  readonly durationMs: number;
  /** The tool call the answer ends with (its `tool_call` event or stderr line was printed). */
  readonly toolCall: ToolCall | undefined;
}

/**
 * What the finish reason means for the exit: `stop` and `tool_call` are complete answers;
 * `cancelled` (or none) is not: exit 11; `length` is a warning on stderr, an error with --strict.
 */
export function checkFinish(outcome: StreamOutcome, terminal: Terminal, options: { strict?: boolean | undefined }): void {
  const finish = outcome.finish;
  if (finish === 'stop' || finish === 'tool_call') return;
  if (finish === 'length') {
    const message = 'the answer was cut at the token limit (finish length): raise --max-tokens';
    if (options.strict) throw new IncompleteAnswerError('ANSWER_CUT_AT_LENGTH', message, finish);
    terminal.warn(`${message} (ANSWER_CUT_AT_LENGTH)`);
    return;
  }
  throw new IncompleteAnswerError(
    'ANSWER_CANCELLED',
    `the router stopped the answer before it finished (finish ${finish ?? 'missing'}); what was printed is incomplete`,
    finish ?? 'missing',
  );
}

/** smoke: anything but a complete `stop` answer fails (cancelled: exit 11; length and others: exit 10). */
export function requireCompleteAnswer(outcome: StreamOutcome): void {
  const finish = outcome.finish;
  if (finish === 'stop') return;
  if (finish === 'length') {
    throw new CheckFailedError('ANSWER_CUT_AT_LENGTH', 'the answer was cut at the token limit (finish length), not complete');
  }
  if (finish === 'cancelled' || finish === undefined) {
    throw new IncompleteAnswerError('ANSWER_CANCELLED', `the router stopped the answer before it finished (finish ${finish ?? 'missing'})`, finish ?? 'missing');
  }
  throw new CheckFailedError('UNEXPECTED_FINISH', `the answer ended with finish ${finish}, not stop`);
}

export function doneRecord(outcome: StreamOutcome): Record<string, unknown> {
  return {
    type: 'done',
    rid: outcome.rid ?? null,
    model: outcome.model ?? null,
    finish: outcome.finish ?? null,
    usage: outcome.usage ?? null,
    chunks: outcome.chunks,
    answer: outcome.answer,
    verified: true,
  };
}

export function timingLine(outcome: StreamOutcome, firstByteMs: number | undefined): string {
  const seconds = outcome.durationMs / 1000;
  const rate = seconds > 0 ? outcome.completionTokens / seconds : 0;
  const fmt = (ms: number | undefined) => (ms === undefined ? 'n/a' : `${ms.toFixed(0)} ms`);
  return `time to first byte ${fmt(firstByteMs)}, to first final token ${fmt(outcome.firstFinalTokenMs)}, ${outcome.completionTokens} tokens in ${seconds.toFixed(2)} s (${rate.toFixed(1)} tokens/s)`;
}
