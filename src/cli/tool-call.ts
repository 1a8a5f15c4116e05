/**
 * A verified answer that is a tool call: which message it is, its NDJSON `tool_call` event, the
 * line shown on stderr, and the exit code (13) that tells scripts "the answer is a tool call".
 */
import { oneLineText } from './safe-text.js';
import { HarmonyParseError } from '../harmony/errors.js';
import type { Message } from '../harmony/model.js';
import { ExitCode } from './exit-codes.js';

export interface ToolCall {
  /** Whom the model addressed: `functions.get_weather`, `browser.search`, `python`. */
  readonly recipient: string;
  /** The namespace (`functions`) and the tool's name in it (`get_weather`; `python` for `python`). */
  readonly namespace: string;
  readonly name: string;
  /** The message's content type (`<|constrain|>json`, `json`, `code`) or undefined. */
  readonly contentType: string | undefined;
  /** The arguments as the model wrote them. */
  readonly raw: string;
  /** The arguments parsed, when the content type is JSON and they parse; else undefined. */
  readonly arguments: unknown;
  /** Whether `raw` parsed as JSON. */
  readonly argumentsAreJson: boolean;
  /** The assistant message that made the call. */
  readonly message: Message;
}

function textOf(message: Message): string {
  return message.content.map((part) => ('text' in part && typeof part.text === 'string' ? part.text : '')).join('');
}

/** What a tool's address looks like (`functions.get_weather`, `functions.web-browsing`, `python`). */
const TOOL_RECIPIENT = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/;

/** Recipients that are people, not tools. */
const NOT_TOOLS = new Set(['all', 'user', 'assistant']);

/** True when the content type says JSON (`<|constrain|>json`, `json`, `application/json`). */
export function isJsonContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && /(^|[^a-z])json$/i.test(contentType.trim());
}

/**
 * The tool call the completion ends with: its last message, from the assistant, addressed to a
 * tool. A call is never dropped: it counts whether the stream ended in `<|call|>` (finish
 * tool_call) or, from a server that mislabels it, in `<|end|>`/`<|return|>`.
 */
export function toolCallOf(messages: readonly Message[]): ToolCall | undefined {
  const message = messages[messages.length - 1];
  if (!message || message.author.role !== 'assistant') return undefined;
  const recipient = message.recipient;
  if (recipient === undefined || !TOOL_RECIPIENT.test(recipient) || NOT_TOOLS.has(recipient)) return undefined;
  const dot = recipient.indexOf('.');
  const namespace = dot > 0 ? recipient.slice(0, dot) : recipient;
  const name = dot > 0 ? recipient.slice(dot + 1) : recipient;
  const raw = textOf(message);
  let parsed: unknown;
  let argumentsAreJson = false;
  try {
    parsed = JSON.parse(raw);
    argumentsAreJson = true;
  } catch {
    parsed = undefined;
  }
  return {
    recipient,
    namespace,
    name,
    contentType: message.contentType,
    raw,
    arguments: argumentsAreJson && isJsonContentType(message.contentType) ? parsed : undefined,
    argumentsAreJson,
    message,
  };
}

/**
 * --strict: a message to a recipient that cannot be a tool's or person's name (the reference reads
 * `to=functions.f<|channel|>commentary?` as one recipient) is malformed Harmony, not a silent
 * non-answer.
 */
export function checkRecipients(messages: readonly Message[]): void {
  for (const message of messages) {
    const recipient = message.recipient;
    if (message.author.role === 'assistant' && recipient !== undefined && !TOOL_RECIPIENT.test(recipient)) {
      throw new HarmonyParseError('HARMONY_MALFORMED_HEADER', `a message addressed to a recipient that is not a name (${recipient.length} characters)`);
    }
  }
}

/** The NDJSON `tool_call` event (before `done`). */
export function toolCallRecord(call: ToolCall): Record<string, unknown> {
  return {
    type: 'tool_call',
    recipient: call.recipient,
    name: call.name,
    namespace: call.namespace,
    content_type: call.contentType ?? null,
    arguments: call.arguments === undefined ? null : call.arguments,
    raw: call.raw,
  };
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** `tool call: functions.get_weather {"location":"Paris"}`: model output, so sanitized and capped. */
export function toolCallLine(call: ToolCall): string {
  const args = call.arguments !== undefined ? JSON.stringify(call.arguments) : call.raw;
  return `tool call: ${oneLineText(clip(call.recipient, 120))} ${oneLineText(clip(args, 2000))}`;
}

/** Exit code of a verified answer: 13 when it is a tool call nobody handled, else 0. */
export function answerExitCode(call: ToolCall | undefined): number {
  return call ? ExitCode.ToolCall : ExitCode.Ok;
}
