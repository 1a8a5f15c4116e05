/** `--json`: NDJSON events on stdout (chunk, message, tool_call; the caller adds done or error). */
import type { Message } from '../harmony/model.js';
import { safeJson } from './safe-text.js';
import type { StreamOutput } from './stream-output.js';
import type { StreamSink } from './stream-sink.js';
import { toolCallRecord, type ToolCall } from './tool-call.js';

export interface MessageRecord {
  readonly type: 'message';
  readonly role: string;
  readonly channel: string | null;
  readonly recipient: string | null;
  readonly content_type: string | null;
  readonly text: string;
}

function messageText(message: Message): string {
  return message.content.map((part) => ('text' in part && typeof part.text === 'string' ? part.text : '')).join('');
}

export function messageRecord(message: Message): MessageRecord {
  return {
    type: 'message',
    role: message.author.role,
    channel: message.channel ?? null,
    recipient: message.recipient ?? null,
    content_type: message.contentType ?? null,
    text: messageText(message),
  };
}

/**
 * `JSON.stringify({ type: 'chunk', index, ids, text })` and a newline, built directly (the same
 * bytes: the index and ids are verified safe non-negative integers), for the NDJSON hot path.
 */
export function chunkLine(index: number, ids: readonly number[], text: string): string {
  const idList = ids.length === 1 ? `[${ids[0]}]` : JSON.stringify(ids);
  return `{"type":"chunk","index":${index},"ids":${idList},"text":${safeJson(text)}}\n`;
}

export class JsonSink implements StreamSink {
  constructor(private readonly out: StreamOutput) {}

  tokens(index: number, ids: readonly number[], text: string, parse: () => void): void {
    this.out.write(chunkLine(index, ids, text));
    parse();
  }

  delta(): void {}

  message(message: Message): void {
    this.out.jsonLine(messageRecord(message));
  }

  end(): void {}

  toolCall(call: ToolCall): void {
    this.out.jsonLine(toolCallRecord(call));
  }

  failing(): void {}

  close(): void {}
}
