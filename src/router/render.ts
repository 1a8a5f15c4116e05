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
  loadHarmonyEncoding,
  type HarmonyEncoding,
} from '../harmony/index.js';
import type { RequestPayload } from '../hpke/index.js';

let encoding: HarmonyEncoding | undefined;

export function harmonyEncoding(): HarmonyEncoding {
  encoding ??= loadHarmonyEncoding('HarmonyGptOss');
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

export function renderPrompt(payload: RequestPayload, now: Date): RenderedPrompt {
  const conversation = Conversation.fromDict(payload.conversation);
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
