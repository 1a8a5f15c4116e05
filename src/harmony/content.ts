/** Message content: text, system content and developer content (with their JSON), as openai-harmony models them. */
import { ReasoningEffort, invalid, isObject, optionalString, parseEffort, refuseDuplicates, requiredString } from './model-base.js';
import type { JsonObject } from './python-json.js';
import { ToolDescription, ToolNamespaceConfig, toolsFromDict, toolsToDict, withNamespace, type ToolNamespaces } from './tools.js';

export class TextContent {
  readonly type = 'text' as const;
  text: string;

  constructor(text: string) {
    this.text = text;
  }

  static new(text: string): TextContent {
    return new TextContent(text);
  }

  toDict(): { type: 'text'; text: string } {
    return { type: 'text', text: this.text };
  }
}

export class ChannelConfig {
  validChannels: string[];
  channelRequired: boolean;

  constructor(validChannels: readonly string[], channelRequired: boolean) {
    this.validChannels = [...validChannels];
    this.channelRequired = channelRequired;
  }

  static requireChannels(channels: readonly string[]): ChannelConfig {
    return new ChannelConfig(channels, true);
  }

  toDict(): JsonObject {
    return { valid_channels: [...this.validChannels], channel_required: this.channelRequired };
  }

  static fromDict(raw: unknown): ChannelConfig {
    if (!isObject(raw)) throw invalid('channel_config must be an object');
    refuseDuplicates(raw, ['valid_channels', 'channel_required'], 'channel_config');
    // Both fields are required, as in the reference (no serde defaults).
    const channels = raw['valid_channels'];
    if (channels === undefined) throw invalid('missing field `valid_channels` in channel_config');
    if (!Array.isArray(channels) || !channels.every((c) => typeof c === 'string')) {
      throw invalid('channel_config.valid_channels must be a list of strings');
    }
    const required = raw['channel_required'];
    if (required === undefined) throw invalid('missing field `channel_required` in channel_config');
    if (typeof required !== 'boolean') throw invalid('channel_config.channel_required must be a boolean');
    return new ChannelConfig(channels as string[], required);
  }
}

// Tool namespace texts of the reference (src/chat.rs): part of the rendered prompt, so verbatim.
export class SystemContent {
  readonly type = 'system_content' as const;
  modelIdentity: string | undefined = 'You are ChatGPT, a large language model trained by OpenAI.';
  reasoningEffort: ReasoningEffort | undefined = ReasoningEffort.Medium;
  conversationStartDate: string | undefined = undefined;
  knowledgeCutoff: string | undefined = '2024-06';
  channelConfig: ChannelConfig | undefined = ChannelConfig.requireChannels(['analysis', 'commentary', 'final']);
  tools: ToolNamespaces | undefined = undefined;

  /** The reference defaults: ChatGPT identity, medium effort, cutoff 2024-06, the three channels required. */
  static new(): SystemContent {
    return new SystemContent();
  }

  withModelIdentity(modelIdentity: string): this {
    this.modelIdentity = modelIdentity;
    return this;
  }

  withReasoningEffort(reasoningEffort: ReasoningEffort): this {
    this.reasoningEffort = reasoningEffort;
    return this;
  }

  withConversationStartDate(conversationStartDate: string): this {
    this.conversationStartDate = conversationStartDate;
    return this;
  }

  withKnowledgeCutoff(knowledgeCutoff: string): this {
    this.knowledgeCutoff = knowledgeCutoff;
    return this;
  }

  withChannelConfig(channelConfig: ChannelConfig): this {
    this.channelConfig = channelConfig;
    return this;
  }

  withRequiredChannels(channels: readonly string[]): this {
    this.channelConfig = ChannelConfig.requireChannels(channels);
    return this;
  }

  withTools(nsConfig: ToolNamespaceConfig): this {
    this.tools = withNamespace(this.tools, nsConfig);
    return this;
  }

  withBrowserTool(): this {
    return this.withTools(ToolNamespaceConfig.browser());
  }

  withPythonTool(): this {
    return this.withTools(ToolNamespaceConfig.python());
  }

  toDict(): JsonObject {
    const out: JsonObject = {};
    if (this.modelIdentity !== undefined) out['model_identity'] = this.modelIdentity;
    if (this.reasoningEffort !== undefined) out['reasoning_effort'] = this.reasoningEffort;
    if (this.conversationStartDate !== undefined) out['conversation_start_date'] = this.conversationStartDate;
    if (this.knowledgeCutoff !== undefined) out['knowledge_cutoff'] = this.knowledgeCutoff;
    if (this.channelConfig !== undefined) out['channel_config'] = this.channelConfig.toDict();
    if (this.tools !== undefined) out['tools'] = toolsToDict(this.tools);
    out['type'] = 'system_content';
    return out;
  }

  static fromDict(raw: unknown): SystemContent {
    if (!isObject(raw)) throw invalid('system content must be an object');
    refuseDuplicates(
      raw,
      ['type', 'model_identity', 'reasoning_effort', 'tools', 'conversation_start_date', 'knowledge_cutoff', 'channel_config'],
      'system_content',
    );
    const sys = new SystemContent();
    sys.modelIdentity = optionalString(raw, 'model_identity', 'system_content');
    sys.reasoningEffort = parseEffort(raw['reasoning_effort']);
    sys.conversationStartDate = optionalString(raw, 'conversation_start_date', 'system_content');
    sys.knowledgeCutoff = optionalString(raw, 'knowledge_cutoff', 'system_content');
    const channelConfig = raw['channel_config'];
    sys.channelConfig = channelConfig === undefined || channelConfig === null ? undefined : ChannelConfig.fromDict(channelConfig);
    sys.tools = toolsFromDict(raw['tools'], 'system_content');
    return sys;
  }
}

export class DeveloperContent {
  readonly type = 'developer_content' as const;
  instructions: string | undefined = undefined;
  tools: ToolNamespaces | undefined = undefined;

  static new(): DeveloperContent {
    return new DeveloperContent();
  }

  withInstructions(instructions: string): this {
    this.instructions = instructions;
    return this;
  }

  withTools(nsConfig: ToolNamespaceConfig): this {
    this.tools = withNamespace(this.tools, nsConfig);
    return this;
  }

  /** Adds the `functions` namespace with these tools (what the model calls as `functions.<name>`). */
  withFunctionTools(tools: readonly ToolDescription[]): this {
    return this.withTools(new ToolNamespaceConfig('functions', undefined, tools));
  }

  toDict(): JsonObject {
    const out: JsonObject = {};
    if (this.instructions !== undefined) out['instructions'] = this.instructions;
    if (this.tools !== undefined) out['tools'] = toolsToDict(this.tools);
    out['type'] = 'developer_content';
    return out;
  }

  static fromDict(raw: unknown): DeveloperContent {
    if (!isObject(raw)) throw invalid('developer content must be an object');
    refuseDuplicates(raw, ['type', 'instructions', 'tools'], 'developer_content');
    const dev = new DeveloperContent();
    dev.instructions = optionalString(raw, 'instructions', 'developer_content');
    dev.tools = toolsFromDict(raw['tools'], 'developer_content');
    return dev;
  }
}

export type Content = TextContent | SystemContent | DeveloperContent;

export function toContent(content: string | Content): Content {
  return typeof content === 'string' ? new TextContent(content) : content;
}

export function contentFromDict(raw: unknown): Content {
  // A bare string inside the content list is refused, as by the reference (a whole content given
  // as one string is fine: Message.fromDict).
  if (!isObject(raw)) throw invalid('a content item must be an object with a "type" (text, system_content or developer_content)');
  switch (raw['type']) {
    case 'text':
      refuseDuplicates(raw, ['type', 'text'], 'text content');
      return new TextContent(requiredString(raw, 'text', 'text content'));
    case 'system_content':
      return SystemContent.fromDict(raw);
    case 'developer_content':
      return DeveloperContent.fromDict(raw);
    default:
      throw invalid(`Unknown content variant: ${JSON.stringify(raw['type'])}`);
  }
}
