/**
 * From an opened request payload to prompt tokens: the conversation (openai-harmony JSON) gets a
 * default system message when it has none, and is rendered for the assistant's next turn.
 */
import {
  Conversation,
  Message,
  ReasoningEffort,
  RenderConversationConfig,
  Role,
  SystemContent,
} from '../harmony/model.js';
import type { HarmonyEncoding } from '../harmony/encoding.js';
import { nodeHarmonyEncoding } from '../node/harmony.js';
import { parseJsonLossless } from '../harmony/json.js';
import type { RequestPayload } from '../hpke/index.js';

let encoding: HarmonyEncoding | undefined;

export function harmonyEncoding(): HarmonyEncoding {
  encoding ??= nodeHarmonyEncoding();
  return encoding;
}

const EFFORTS = {
  low: ReasoningEffort.Low,
  medium: ReasoningEffort.Medium,
  high: ReasoningEffort.High,
} as const;

export interface RenderedPrompt {
  readonly tokens: number[];
  /** The conversation as rendered (with the default system message, if one was added). */
  readonly conversation: { readonly messages: readonly unknown[] };
  readonly stopTokens: number[];
}

/**
 * Why a conversation was not rendered. `code` goes into the stream's error chunk; `message` never
 * quotes the conversation (it names the limit or the error code only).
 */
export class RenderError extends Error {
  constructor(
    readonly code: 'bad_conversation' | 'conversation_too_deep' | 'prompt_too_long' | 'render_timeout' | 'overloaded',
    message: string,
  ) {
    super(message);
  }

  override get name(): string {
    return 'RenderError';
  }
}

export interface RenderLimits {
  /** Largest rendered prompt in tokens. */
  readonly maxPromptTokens: number;
  /** Deepest JSON nesting in the conversation (tool schemas included). */
  readonly maxDepth: number;
}

/** Deepest nesting of arrays and objects in a parsed JSON value (iterative: no stack overflow). */
export function jsonDepth(value: unknown, stopAbove = Number.POSITIVE_INFINITY): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth > deepest) {
      deepest = depth;
      if (deepest > stopAbove) return deepest;
    }
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return deepest;
}

/** The cheap checks done before any rendering work (on the event loop: linear in the payload). */
export function checkRenderable(payload: RequestPayload, limits: RenderLimits): void {
  if (jsonDepth(payload.conversation, limits.maxDepth) > limits.maxDepth) {
    throw new RenderError('conversation_too_deep', `the conversation nests deeper than ${limits.maxDepth} levels`);
  }
}

/**
 * renderPrompt within the limits, with errors as RenderError (never quoting the conversation):
 * what the render workers and the inline fallback both run.
 */
export function renderBounded(payload: RequestPayload, now: Date, limits: RenderLimits, source?: string): RenderedPrompt {
  checkRenderable(payload, limits);
  let prompt: RenderedPrompt;
  try {
    prompt = renderPrompt(payload, now, source);
  } catch (error) {
    const code = typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : undefined;
    throw new RenderError(
      'bad_conversation',
      `the conversation cannot be rendered${code !== undefined && /^[A-Z0-9_]+$/.test(code) ? ` (${code})` : ''}`,
    );
  }
  if (prompt.tokens.length > limits.maxPromptTokens) {
    throw new RenderError('prompt_too_long', `the prompt is ${prompt.tokens.length} tokens; the limit is ${limits.maxPromptTokens}`);
  }
  return prompt;
}

/**
 * The request plaintext as text, when its conversation must be read losslessly: tool schemas
 * (`"parameters"`) carry numbers (`1.0`, integers past 2^53) and key orders that JSON.parse loses
 * and the reference keeps. Other conversations render the same from the parsed payload.
 */
export function losslessSource(plaintext: Uint8Array): string | undefined {
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(plaintext);
  return text.includes('"parameters"') ? text : undefined;
}

/** Renders the payload's conversation; with `source` (losslessSource), read from the text as the reference reads it. */
export function renderPrompt(payload: RequestPayload, now: Date, source?: string): RenderedPrompt {
  const conversation =
    source !== undefined
      ? Conversation.fromDict((parseJsonLossless(source) as { conversation?: unknown }).conversation)
      : Conversation.fromDict(payload.conversation);
  const messages = [...conversation.messages];
  if (messages.length === 0) throw new Error('the conversation has no messages');
  if (messages[0]?.author.role !== Role.System) {
    const effort = EFFORTS[payload.params.reasoning_effort ?? 'medium'];
    const system = SystemContent.new()
      .withReasoningEffort(effort)
      .withConversationStartDate(now.toISOString().slice(0, 10));
    messages.unshift(Message.fromRoleAndContent(Role.System, system));
  }
  const full = Conversation.fromMessages(messages);
  const autoDrop = payload.render?.['auto_drop_analysis'];
  const config =
    typeof autoDrop === 'boolean' ? new RenderConversationConfig({ autoDropAnalysis: autoDrop }) : undefined;
  const harmony = harmonyEncoding();
  const tokens = harmony.renderConversationForCompletion(full, Role.Assistant, config);
  return {
    tokens,
    conversation: full.toDict() as { messages: unknown[] },
    stopTokens: harmony.stopTokensForAssistantActions(),
  };
}

/**
 * Token ids to text, chunk by chunk, never splitting a UTF-8 character: bytes of an unfinished
 * character are held until the next chunk, so the texts of all chunks concatenate to the whole.
 */
export class TokenTextDecoder {
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });

  decode(ids: readonly number[]): string {
    return this.decoder.decode(harmonyEncoding().decodeBytes(ids), { stream: true });
  }

  flush(): string {
    return this.decoder.decode();
  }
}
