/**
 * `smoke --expect-tool-call NAME [--expect-args REGEX]` (with `--tools FILE`): the check passes only
 * when the verified stream ends in a call to that tool whose arguments parse as JSON and, as
 * compact JSON, match the regex.
 */
import { CheckFailedError, UsageError } from '../core/errors.js';
import { sanitizeText } from '../hpke/index.js';
import type { StreamOutcome } from './stream-outcome.js';

export interface ToolCallExpectation {
  /** `functions.NAME` (a bare NAME means the functions namespace). */
  readonly recipient: string;
  readonly args: RegExp | undefined;
  readonly argsSource: string | undefined;
}

export function parseToolCallExpectation(options: {
  readonly expectToolCall?: string | undefined;
  readonly expectArgs?: string | undefined;
  readonly tools?: readonly string[] | undefined;
}): ToolCallExpectation | undefined {
  if (options.expectToolCall === undefined) {
    if (options.expectArgs !== undefined) throw new UsageError('USAGE_BAD_FLAGS', '--expect-args needs --expect-tool-call NAME');
    return undefined;
  }
  const name = options.expectToolCall.trim();
  if (name === '') throw new UsageError('USAGE_BAD_FLAGS', '--expect-tool-call needs a tool name');
  let args: RegExp | undefined;
  if (options.expectArgs !== undefined) {
    try {
      args = new RegExp(options.expectArgs);
    } catch {
      throw new UsageError('USAGE_BAD_REGEX', `--expect-args is not a valid regular expression: ${options.expectArgs}`);
    }
  }
  return { recipient: name.includes('.') ? name : `functions.${name}`, args, argsSource: options.expectArgs };
}

function shown(text: string): string {
  return JSON.stringify(sanitizeText(text, 80));
}

export function checkToolCall(outcome: StreamOutcome, expected: ToolCallExpectation): void {
  const call = outcome.toolCall;
  if (!call) {
    throw new CheckFailedError(
      'TOOL_CALL_MISSING',
      `expected a call to ${expected.recipient}, but the answer is not a tool call (finish ${outcome.finish ?? 'unknown'}): ${shown(outcome.answer)}`,
    );
  }
  if (call.recipient !== expected.recipient) {
    throw new CheckFailedError('TOOL_CALL_MISMATCH', `expected a call to ${expected.recipient}, got one to ${shown(call.recipient)}`);
  }
  if (outcome.finish !== 'tool_call') {
    throw new CheckFailedError('TOOL_CALL_NOT_ENDED', `the call to ${expected.recipient} did not end the turn with <|call|> (finish ${outcome.finish ?? 'unknown'})`);
  }
  if (!call.argumentsAreJson) {
    throw new CheckFailedError('TOOL_ARGS_INVALID', `the arguments of ${expected.recipient} are not JSON: ${shown(call.raw)}`);
  }
  const compact = JSON.stringify(JSON.parse(call.raw));
  if (expected.args && !expected.args.test(compact)) {
    throw new CheckFailedError('TOOL_ARGS_MISMATCH', `the arguments of ${expected.recipient} do not match /${expected.argsSource}/: ${shown(compact)}`);
  }
}
