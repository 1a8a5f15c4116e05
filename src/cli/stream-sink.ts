/**
 * One sink per output mode of a stream view (text, `--raw`, `--json`): viewStream walks the
 * verified events and the Harmony parser, and tells the sink what happened; the sink alone
 * decides what is printed. Calls come in this order: for each `tokens` chunk, `tokens` (which
 * calls `parse`, and inside it `delta` and `message` per token); then `end` and `toolCall` when
 * the stream completed; `failing` before an authenticated error chunk is thrown; `close` always,
 * last.
 */
import type { Message } from '../harmony/model.js';
import type { ToolCall } from './tool-call.js';

export interface StreamSink {
  /** A verified `tokens` chunk. `parse()` feeds its ids to the parser; a sink calls it exactly once. */
  tokens(index: number, ids: readonly number[], text: string, parse: () => void): void;
  /** The content the token just parsed added on `channel`; `recipient` is set inside a tool call. */
  delta(channel: string, delta: string, recipient: string | undefined): void;
  /** A message the parser completed. */
  message(message: Message): void;
  /** The stream ended and every message is parsed. */
  end(): void;
  /** The tool call the verified answer ends with. */
  toolCall(call: ToolCall): void;
  /** An authenticated error chunk ends the stream (the error is thrown next). */
  failing(): void;
  /** Last, after success or failure: stop whatever the sink started. */
  close(): void;
}
