/**
 * Rendering conversations to o200k_harmony token ids, ported from openai/harmony's
 * `Render<Message>` and `render_conversation*` (src/encoding.rs).
 *
 * Each header piece and each content part is BPE-encoded separately, exactly as the reference does
 * (token boundaries never cross a piece), and special tokens come from the registry.
 */
import { HarmonyErrorCode, UsageError } from './errors.js';
import {
  Conversation,
  Role,
  type Content,
  type DeveloperContent,
  type Message,
  type RenderConversationConfigLike,
  type RenderOptionsLike,
  type SystemContent,
} from './model.js';
import { SpecialToken, SpecialTokenText } from './registry.js';
import { renderToolsSection } from './render-tools.js';
import type { Tokenizer } from './tokenizer.js';

/** Messages to render: a Conversation or any list of messages. */
export type MessageList = Conversation | Iterable<Message>;

function toMessages(conversation: MessageList): Message[] {
  return conversation instanceof Conversation ? conversation.messages : [...conversation];
}

function pushText(tokenizer: Tokenizer, out: number[], text: string): void {
  for (const id of tokenizer.encodeOrdinary(text)) out.push(id);
}

function invalidMessage(message: string): UsageError {
  return new UsageError(HarmonyErrorCode.InvalidMessage, message);
}

function renderSystemContent(sys: SystemContent, options: RenderOptionsLike | undefined): string {
  const sections: string[] = [];
  const top: string[] = [];
  if (sys.modelIdentity !== undefined) top.push(sys.modelIdentity);
  if (sys.knowledgeCutoff !== undefined) top.push(`Knowledge cutoff: ${sys.knowledgeCutoff}`);
  if (sys.conversationStartDate !== undefined) top.push(`Current date: ${sys.conversationStartDate}`);
  if (top.length > 0) sections.push(top.join('\n'));
  if (sys.reasoningEffort !== undefined) sections.push(`Reasoning: ${sys.reasoningEffort.toLowerCase()}`);
  if (sys.tools !== undefined && sys.tools.size > 0) sections.push(renderToolsSection(sys.tools));
  const channels = sys.channelConfig;
  if (channels !== undefined && channels.validChannels.length > 0) {
    let header = `# Valid channels: ${channels.validChannels.join(', ')}.`;
    if (channels.channelRequired) header += ' Channel must be included for every message.';
    if (options?.conversationHasFunctionTools) header += "\nCalls to these tools must go to the commentary channel: 'functions'.";
    sections.push(header);
  }
  return sections.join('\n\n');
}

function renderDeveloperContent(dev: DeveloperContent): string {
  const sections: string[] = [];
  if (dev.instructions !== undefined) sections.push('# Instructions', dev.instructions);
  if (dev.tools !== undefined && dev.tools.size > 0) sections.push(renderToolsSection(dev.tools));
  return sections.join('\n\n');
}

function renderContent(tokenizer: Tokenizer, content: Content, role: Role, out: number[], options: RenderOptionsLike | undefined): void {
  switch (content.type) {
    case 'text':
      pushText(tokenizer, out, content.text);
      return;
    case 'system_content':
      if (role !== Role.System) throw invalidMessage(`SystemContent may only appear in system messages, found in ${role}`);
      pushText(tokenizer, out, renderSystemContent(content, options));
      return;
    case 'developer_content':
      if (role !== Role.Developer) throw invalidMessage(`DeveloperContent may only appear in developer messages, found in ${role}`);
      pushText(tokenizer, out, renderDeveloperContent(content));
      return;
  }
}

/** Renders one message: `<|start|>header<|message|>content<|end|>` (or `<|call|>` for a tool call). */
function renderMessageInto(tokenizer: Tokenizer, message: Message, out: number[], options?: RenderOptionsLike): void {
  out.push(SpecialToken.Start);
  const { role, name } = message.author;
  if (role === Role.Tool) {
    // A tool message's header is the tool's name, not the role.
    if (name === undefined) throw invalidMessage('Tools should have a name!');
    pushText(tokenizer, out, name);
  } else {
    pushText(tokenizer, out, role);
    if (name !== undefined) pushText(tokenizer, out, `:${name}`);
  }
  if (message.recipient !== undefined && message.recipient !== 'all') pushText(tokenizer, out, ` to=${message.recipient}`);
  if (message.channel !== undefined) {
    out.push(SpecialToken.Channel);
    pushText(tokenizer, out, message.channel);
  }
  if (message.contentType !== undefined) {
    // `<|constrain|>json` keeps <|constrain|> a special token, preceded by a space.
    if (message.contentType.startsWith(SpecialTokenText.Constrain)) {
      const rest = message.contentType.slice(SpecialTokenText.Constrain.length);
      pushText(tokenizer, out, ' ');
      out.push(SpecialToken.Constrain);
      if (rest.length > 0) pushText(tokenizer, out, rest);
    } else {
      pushText(tokenizer, out, ` ${message.contentType}`);
    }
  }
  out.push(SpecialToken.Message);
  for (const content of message.content) renderContent(tokenizer, content, role, out, options);
  out.push(role === Role.Assistant && message.recipient !== undefined ? SpecialToken.Call : SpecialToken.End);
}

/** Renders one message on its own. */
export function render(tokenizer: Tokenizer, message: Message, options?: RenderOptionsLike): number[] {
  const out: number[] = [];
  renderMessageInto(tokenizer, message, out, options);
  return out;
}

function hasFunctionTools(messages: readonly Message[]): boolean {
  return messages.some((message) =>
    message.content.some((content) => content.type === 'developer_content' && (content.tools?.get('functions')?.tools.length ?? 0) > 0),
  );
}

/**
 * Which messages to render. Once the conversation's last assistant message is a final answer,
 * analysis messages before the first final message are dropped (the reference's
 * `auto_drop_analysis`, on by default): the model never sees earlier chains of thought.
 */
function messagesToRender(messages: readonly Message[], config: RenderConversationConfigLike | undefined): readonly Message[] {
  const autoDrop = config?.autoDropAnalysis ?? true;
  if (!autoDrop) return messages;
  let lastAssistantIsFinal = false;
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    if (messages[i]!.author.role === Role.Assistant) {
      lastAssistantIsFinal = messages[i]!.channel === 'final';
      break;
    }
  }
  if (!lastAssistantIsFinal) return messages;
  const firstFinal = messages.findIndex((message) => message.channel === 'final');
  if (firstFinal < 0) return messages;
  return messages.filter((message, index) => !(index < firstFinal && message.channel === 'analysis'));
}

function renderConversationInto(tokenizer: Tokenizer, messages: readonly Message[], out: number[], config: RenderConversationConfigLike | undefined): void {
  const options: RenderOptionsLike = { conversationHasFunctionTools: hasFunctionTools(messages) };
  for (const message of messagesToRender(messages, config)) renderMessageInto(tokenizer, message, out, options);
}

/** Renders a conversation without a next turn. */
export function renderConversation(tokenizer: Tokenizer, conversation: MessageList, config?: RenderConversationConfigLike): number[] {
  const out: number[] = [];
  renderConversationInto(tokenizer, toMessages(conversation), out, config);
  return out;
}

/** Renders a conversation and opens the next turn: `...<|start|>assistant` for inference. */
export function renderConversationForCompletion(
  tokenizer: Tokenizer,
  conversation: MessageList,
  nextTurnRole: Role,
  config?: RenderConversationConfigLike,
): number[] {
  const out: number[] = [];
  renderConversationInto(tokenizer, toMessages(conversation), out, config);
  out.push(SpecialToken.Start);
  pushText(tokenizer, out, nextTurnRole);
  return out;
}

/**
 * Renders a conversation for training: when it ends with an assistant `final` message, that
 * message ends in `<|return|>` (what the model samples at the end of its turn) instead of `<|end|>`.
 */
export function renderConversationForTraining(tokenizer: Tokenizer, conversation: MessageList, config?: RenderConversationConfigLike): number[] {
  const messages = toMessages(conversation);
  const out: number[] = [];
  renderConversationInto(tokenizer, messages, out, config);
  const last = messages[messages.length - 1];
  if (last !== undefined && last.author.role === Role.Assistant && last.channel === 'final' && out.length > 0) {
    out[out.length - 1] = SpecialToken.Return;
  }
  return out;
}
