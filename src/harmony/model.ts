/**
 * The Harmony chat model, mirroring openai_harmony's Python API (python/openai_harmony/__init__.py)
 * in TypeScript naming: builders mutate and return `this`, as the Python (pydantic) classes do.
 *
 * JSON: toDict()/toJson() produce exactly what the Python bindings' to_dict()/to_json() produce
 * (role flattened into the message, `"name": null` kept, content always a list, unset optional
 * fields omitted). fromDict()/fromJson() accept that and the Rust serde shape (content as a plain
 * string, no `name`). A field missing from system/developer content is unset, which is how the
 * reference renderer (Rust serde) reads the JSON the Python bindings hand it.
 */
import { HarmonyErrorCode, UsageError } from './errors.js';
import { DUPLICATE_KEYS, parseJsonChecked, parseJsonLossless } from './json.js';
import { pythonJsonDumps, type JsonObject, type JsonValue } from './python-json.js';

export type { JsonObject, JsonValue };

export const Role = {
  User: 'user',
  Assistant: 'assistant',
  System: 'system',
  Developer: 'developer',
  Tool: 'tool',
} as const;
export type Role = (typeof Role)[keyof typeof Role];

const ROLES: ReadonlySet<string> = new Set(Object.values(Role));

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && ROLES.has(value);
}

/** Validates a role name (throws UsageError HARMONY_INVALID_JSON for anything else). */
export function parseRole(value: unknown): Role {
  if (isRole(value)) return value;
  throw invalid(`Unknown role: ${JSON.stringify(value)}`);
}

/** Reasoning effort, spelled as in the reference's JSON ("Low", "Medium", "High"). */
export const ReasoningEffort = { Low: 'Low', Medium: 'Medium', High: 'High' } as const;
export type ReasoningEffort = (typeof ReasoningEffort)[keyof typeof ReasoningEffort];

function invalid(message: string): UsageError {
  return new UsageError(HarmonyErrorCode.InvalidJson, message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(raw: Record<string, unknown>, key: string, where: string): string | undefined {
  const value = raw[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(`${where}.${key} must be a string`);
  return value;
}

function requiredString(raw: Record<string, unknown>, key: string, where: string): string {
  const value = raw[key];
  if (value === undefined) throw invalid(`missing field \`${key}\` in ${where}`);
  if (typeof value !== 'string') throw invalid(`${where}.${key} must be a string`);
  return value;
}

/** serde's derived structs refuse a field given twice (known only for JSON parsed by fromJson). */
function refuseDuplicates(raw: Record<string, unknown>, fields: readonly string[], where: string): void {
  const duplicates = (raw as { [DUPLICATE_KEYS]?: Set<string> })[DUPLICATE_KEYS];
  if (duplicates === undefined) return;
  for (const field of fields) if (duplicates.has(field)) throw invalid(`duplicate field \`${field}\` in ${where}`);
}

export class Author {
  role: Role;
  name: string | undefined;

  constructor(role: Role, name?: string) {
    this.role = role;
    this.name = name;
  }

  static new(role: Role, name: string): Author {
    return new Author(role, name);
  }
}

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

export class ToolDescription {
  name: string;
  description: string;
  /** A JSON schema (usually `{"type": "object", ...}`); rendered as a TypeScript-like signature. */
  parameters: JsonObject | undefined;

  constructor(name: string, description: string, parameters?: JsonObject) {
    this.name = name;
    this.description = description;
    this.parameters = parameters;
  }

  static new(name: string, description: string, parameters?: JsonObject | null): ToolDescription {
    return new ToolDescription(name, description, parameters ?? undefined);
  }

  toDict(): JsonObject {
    const out: JsonObject = { name: this.name, description: this.description };
    if (this.parameters !== undefined) out['parameters'] = this.parameters;
    return out;
  }

  static fromDict(raw: unknown): ToolDescription {
    if (!isObject(raw)) throw invalid('a tool must be an object');
    refuseDuplicates(raw, ['name', 'description', 'parameters'], 'tool');
    // Any JSON value (serde_json::Value); null is none.
    const parameters = raw['parameters'];
    return new ToolDescription(
      requiredString(raw, 'name', 'tool'),
      requiredString(raw, 'description', 'tool'),
      (parameters ?? undefined) as JsonObject | undefined,
    );
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
const BROWSER_DESCRIPTION =
  'Tool for browsing.\nThe `cursor` appears in brackets before each browsing display: `[{cursor}]`.\nCite information from the tool using the following format:\n`【{cursor}†L{line_start}(-L{line_end})?】`, for example: `【6†L9-L11】` or `【8†L3】`.\nDo not quote more than 10 words directly from the tool output.\nsources=web (default: web)';
const BROWSER_OPEN_DESCRIPTION =
  'Opens the link `id` from the page indicated by `cursor` starting at line number `loc`, showing `num_lines` lines.\nValid link ids are displayed with the formatting: `【{id}†.*】`.\nIf `cursor` is not provided, the most recent page is implied.\nIf `id` is a string, it is treated as a fully qualified URL associated with `source`.\nIf `loc` is not provided, the viewport will be positioned at the beginning of the document or centered on the most relevant passage, if available.\nUse this function without `id` to scroll to a new location of an opened page.';
const PYTHON_DESCRIPTION =
  "Use this tool to execute Python code in your chain of thought. The code will not be shown to the user. This tool should be used for internal reasoning, but not for code that is intended to be visible to the user (e.g. when creating plots, tables, or files).\n\nWhen you send a message containing Python code to python, it will be executed in a stateful Jupyter notebook environment. python will respond with the output of the execution or time out after 120.0 seconds. The drive at '/mnt/data' can be used to save and persist user files. Internet access for this session is UNKNOWN. Depends on the cluster.";

export class ToolNamespaceConfig {
  name: string;
  description: string | undefined;
  tools: ToolDescription[];

  constructor(name: string, description: string | undefined, tools: readonly ToolDescription[]) {
    this.name = name;
    this.description = description;
    this.tools = [...tools];
  }

  static new(name: string, description: string | null | undefined, tools: readonly ToolDescription[]): ToolNamespaceConfig {
    return new ToolNamespaceConfig(name, description ?? undefined, tools);
  }

  /** The reference's built-in browser tool namespace. */
  static browser(): ToolNamespaceConfig {
    return new ToolNamespaceConfig('browser', BROWSER_DESCRIPTION, [
      new ToolDescription('search', 'Searches for information related to `query` and displays `topn` results.', {
        type: 'object',
        properties: { query: { type: 'string' }, topn: { type: 'number', default: 10 }, source: { type: 'string' } },
        required: ['query'],
      }),
      new ToolDescription('open', BROWSER_OPEN_DESCRIPTION, {
        type: 'object',
        properties: {
          id: { type: ['number', 'string'], default: -1 },
          cursor: { type: 'number', default: -1 },
          loc: { type: 'number', default: -1 },
          num_lines: { type: 'number', default: -1 },
          view_source: { type: 'boolean', default: false },
          source: { type: 'string' },
        },
      }),
      new ToolDescription('find', 'Finds exact matches of `pattern` in the current page, or the page given by `cursor`.', {
        type: 'object',
        properties: { pattern: { type: 'string' }, cursor: { type: 'number', default: -1 } },
        required: ['pattern'],
      }),
    ]);
  }

  /** The reference's built-in python tool namespace (no functions, a description only). */
  static python(): ToolNamespaceConfig {
    return new ToolNamespaceConfig('python', PYTHON_DESCRIPTION, []);
  }

  toDict(): JsonObject {
    const out: JsonObject = { name: this.name };
    if (this.description !== undefined) out['description'] = this.description;
    out['tools'] = this.tools.map((tool) => tool.toDict());
    return out;
  }

  static fromDict(raw: unknown): ToolNamespaceConfig {
    if (!isObject(raw)) throw invalid('a tool namespace must be an object');
    refuseDuplicates(raw, ['name', 'description', 'tools'], 'namespace');
    const tools = raw['tools'];
    if (tools === undefined) throw invalid('missing field `tools` in namespace');
    if (!Array.isArray(tools)) throw invalid('tool namespace .tools must be a list');
    return new ToolNamespaceConfig(
      requiredString(raw, 'name', 'namespace'),
      optionalString(raw, 'description', 'namespace'),
      tools.map((tool) => ToolDescription.fromDict(tool)),
    );
  }
}

/** Namespaces by name; the renderer orders them by name, JSON keeps insertion order. */
export type ToolNamespaces = Map<string, ToolNamespaceConfig>;

function toolsToDict(tools: ToolNamespaces): JsonObject {
  const out: JsonObject = {};
  for (const [name, ns] of tools) out[name] = ns.toDict();
  return out;
}

function toolsFromDict(raw: unknown, where: string): ToolNamespaces | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) throw invalid(`${where}.tools must be an object of namespaces`);
  const map: ToolNamespaces = new Map();
  for (const [name, ns] of Object.entries(raw)) map.set(name, ToolNamespaceConfig.fromDict(ns));
  return map;
}

function withNamespace(tools: ToolNamespaces | undefined, ns: ToolNamespaceConfig): ToolNamespaces {
  const map = tools ?? new Map<string, ToolNamespaceConfig>();
  map.set(ns.name, ns);
  return map;
}

function parseEffort(value: unknown): ReasoningEffort | undefined {
  if (value === undefined || value === null) return undefined;
  // Exactly as spelled: serde's variant names, no case folding ("HIGH", "low" are refused).
  if (typeof value === 'string' && (Object.values(ReasoningEffort) as string[]).includes(value)) return value as ReasoningEffort;
  throw invalid(`reasoning_effort must be "Low", "Medium" or "High", got ${JSON.stringify(value)}`);
}

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

function toContent(content: string | Content): Content {
  return typeof content === 'string' ? new TextContent(content) : content;
}

function contentFromDict(raw: unknown): Content {
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

export class Message {
  author: Author;
  content: Content[];
  channel: string | undefined = undefined;
  recipient: string | undefined = undefined;
  contentType: string | undefined = undefined;

  constructor(author: Author, content: readonly Content[] = []) {
    this.author = author;
    this.content = [...content];
  }

  static fromAuthorAndContent(author: Author, content: string | Content): Message {
    return new Message(author, [toContent(content)]);
  }

  static fromRoleAndContent(role: Role, content: string | Content): Message {
    return Message.fromAuthorAndContent(new Author(role), content);
  }

  static fromRoleAndContents(role: Role, contents: readonly (string | Content)[]): Message {
    return new Message(new Author(role), contents.map(toContent));
  }

  addingContent(content: string | Content): this {
    this.content.push(toContent(content));
    return this;
  }

  withChannel(channel: string): this {
    this.channel = channel;
    return this;
  }

  withRecipient(recipient: string): this {
    this.recipient = recipient;
    return this;
  }

  withContentType(contentType: string): this {
    this.contentType = contentType;
    return this;
  }

  /** The Python bindings' `Message.to_dict()`. */
  toDict(): JsonObject {
    const out: JsonObject = {
      role: this.author.role,
      name: this.author.name ?? null,
      content: this.content.map((part) => part.toDict()),
    };
    if (this.channel !== undefined) out['channel'] = this.channel;
    if (this.recipient !== undefined) out['recipient'] = this.recipient;
    if (this.contentType !== undefined) out['content_type'] = this.contentType;
    return out;
  }

  /** The Python bindings' `Message.to_json()`, byte for byte. */
  toJson(): string {
    return pythonJsonDumps(this.toDict());
  }

  /** Accepts the Python `to_dict()` shape and the Rust serde shape (content may be a string). */
  static fromDict(raw: unknown): Message {
    if (raw instanceof Message) return raw;
    if (!isObject(raw)) throw invalid('a message must be an object');
    refuseDuplicates(raw, ['role', 'name', 'recipient', 'content', 'channel', 'content_type'], 'message');
    // The author is flattened into the message (role and name beside content), as the reference
    // reads it: a message without a role is refused.
    if (raw['role'] === undefined) throw invalid('missing field `role` in message');
    const role = parseRole(raw['role']);
    const name = optionalString(raw, 'name', 'message');
    const rawContent = raw['content'];
    if (rawContent === undefined) throw invalid('missing field `content` in message');
    let content: Content[];
    if (typeof rawContent === 'string') content = [new TextContent(rawContent)];
    else if (Array.isArray(rawContent)) content = rawContent.map(contentFromDict);
    else throw invalid('message.content must be a string or a list of content items');
    const message = new Message(new Author(role, name), content);
    message.channel = optionalString(raw, 'channel', 'message');
    message.recipient = optionalString(raw, 'recipient', 'message');
    message.contentType = optionalString(raw, 'content_type', 'message');
    return message;
  }

  static fromJson(json: string): Message {
    return Message.fromDict(parseJson(json));
  }
}

// Field names of the reference's structs (serde refuses one given twice in the same object).
const STRUCT_FIELDS = [
  'messages', 'role', 'name', 'content', 'channel', 'recipient', 'content_type', 'type', 'text', 'model_identity', 'reasoning_effort',
  'conversation_start_date', 'knowledge_cutoff', 'channel_config', 'valid_channels', 'channel_required', 'tools', 'instructions',
  'description', 'parameters',
];
const STRUCT_FIELD_SET: ReadonlySet<string> = new Set(STRUCT_FIELDS);
const STRUCT_FIELD_KEY = new RegExp(`"(?:${STRUCT_FIELDS.join('|')})"\\s*:`, 'g');

function countStructFields(value: unknown): number {
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item !== 'object' || item === null) continue;
    if (Array.isArray(item)) {
      for (const child of item) stack.push(child);
      continue;
    }
    for (const key of Object.keys(item)) {
      if (STRUCT_FIELD_SET.has(key)) count += 1;
      stack.push((item as Record<string, unknown>)[key]);
    }
  }
  return count;
}

/**
 * JSON as the reference reads it (json.ts): depth limited; with tool parameters, numbers as
 * written and member order kept; a struct field given twice refused. The lossless parse costs
 * about 2.5x JSON.parse, so a conversation without tool parameters takes it only when a struct
 * field name appears as a key more often in the text than in JSON.parse's result (a repeat).
 */
function parseJson(json: string): unknown {
  if (json.includes('"parameters"')) return parseJsonLossless(json);
  const value = parseJsonChecked(json);
  STRUCT_FIELD_KEY.lastIndex = 0;
  let keysInText = 0;
  while (STRUCT_FIELD_KEY.exec(json) !== null) keysInText += 1;
  return keysInText === countStructFields(value) ? value : parseJsonLossless(json);
}

export class Conversation {
  messages: Message[];

  constructor(messages: readonly Message[] = []) {
    this.messages = [...messages];
  }

  /** Messages may also be given as dicts (as pydantic accepts them); anything else is refused. */
  static fromMessages(messages: Iterable<Message | JsonObject>): Conversation {
    const list: Message[] = [];
    for (const item of messages) {
      if (item instanceof Message) list.push(item);
      else if (isObject(item) && ('role' in item || 'author' in item)) list.push(Message.fromDict(item));
      else {
        throw new UsageError(HarmonyErrorCode.InvalidMessage, 'Input should be a valid dictionary or instance of Message');
      }
    }
    return new Conversation(list);
  }

  [Symbol.iterator](): Iterator<Message> {
    return this.messages[Symbol.iterator]();
  }

  /** The Python bindings' `Conversation.to_dict()`. */
  toDict(): JsonObject & { messages: JsonObject[] } {
    return { messages: this.messages.map((message) => message.toDict()) };
  }

  /** The Python bindings' `Conversation.to_json()`, byte for byte. */
  toJson(): string {
    return pythonJsonDumps(this.toDict());
  }

  static fromDict(raw: unknown): Conversation {
    if (!isObject(raw) || !Array.isArray(raw['messages'])) throw invalid('a conversation must be an object with a "messages" list');
    refuseDuplicates(raw, ['messages'], 'conversation');
    return new Conversation(raw['messages'].map((message) => Message.fromDict(message)));
  }

  static fromJson(json: string): Conversation {
    return Conversation.fromDict(parseJson(json));
  }
}

/** Options of renderConversation* (the Python `RenderConversationConfig`). Plain objects work too. */
export interface RenderConversationConfigLike {
  /** Drop analysis messages before the first final answer once the last assistant message is final (default true). */
  readonly autoDropAnalysis?: boolean | undefined;
}

export class RenderConversationConfig implements RenderConversationConfigLike {
  readonly autoDropAnalysis: boolean;

  constructor(options: RenderConversationConfigLike = {}) {
    this.autoDropAnalysis = options.autoDropAnalysis ?? true;
  }
}

/** Options of render(message) (the Python `RenderOptions`). Plain objects work too. */
export interface RenderOptionsLike {
  /** Whether the conversation declares function tools (adds the commentary-channel line to the system message). */
  readonly conversationHasFunctionTools?: boolean | undefined;
}

export class RenderOptions implements RenderOptionsLike {
  readonly conversationHasFunctionTools: boolean;

  constructor(options: RenderOptionsLike = {}) {
    this.conversationHasFunctionTools = options.conversationHasFunctionTools ?? false;
  }
}
