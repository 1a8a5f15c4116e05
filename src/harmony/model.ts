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
import { invalid, isObject, optionalString, parseJson, parseRole, refuseDuplicates, type Role } from './model-base.js';
import { TextContent, contentFromDict, toContent, type Content } from './content.js';
import { pythonJsonDumps, type JsonObject } from './python-json.js';

export { ReasoningEffort, Role, isRole, parseRole } from './model-base.js';
export { ChannelConfig, DeveloperContent, SystemContent, TextContent, type Content } from './content.js';
export { ToolDescription, ToolNamespaceConfig, type ToolNamespaces } from './tools.js';
export type { JsonObject, JsonValue } from './python-json.js';

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
