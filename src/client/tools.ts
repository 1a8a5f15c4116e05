/**
 * Declaring tools for a request: function tools from `--tools FILE` (openai-harmony's
 * DeveloperContent tool JSON or the OpenAI `tools` array, told apart by shape), a profile's `tools`
 * key and a `--conversation` file; built-in namespaces (`--builtin browser,python`) in the system
 * message. The conversation carries them exactly as openai-harmony does (a developer message with
 * the `functions` namespace), so the router renders them as the reference renders them.
 */
import { readFile } from 'node:fs/promises';
import {
  Conversation,
  DeveloperContent,
  Message,
  ReasoningEffort,
  Role,
  SystemContent,
  ToolDescription,
  ToolNamespaceConfig,
  type JsonObject,
} from '../harmony/model.js';
import { UsageError } from '../core/errors.js';
import { fileReadError } from '../node/file-errors.js';

export const BUILTIN_TOOLS = ['browser', 'python'] as const;
export type BuiltinTool = (typeof BUILTIN_TOOLS)[number];

/** Tool names the model can address as `functions.NAME` (what openai-harmony and OpenAI accept). */
const TOOL_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
const MAX_TOOLS_FILE_BYTES = 1024 * 1024;

export interface DeclaredTool {
  readonly tool: ToolDescription;
  /** Where it was declared (a file path, `profile NAME`, or the conversation file). */
  readonly source: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function bad(source: string, message: string): UsageError {
  return new UsageError('TOOLS_INVALID', `tools file ${source}: ${message}`);
}

function toolLabel(raw: unknown, index: number): string {
  const name = isObject(raw) ? (isObject(raw['function']) ? raw['function']['name'] : raw['name']) : undefined;
  return typeof name === 'string' && name.length <= 64 ? `'${name.replace(/[^\x20-\x7e]/g, '?')}'` : `#${index + 1}`;
}

/** One function tool, from `{name, description, parameters}` (both shapes share it). */
function toolFrom(raw: Record<string, unknown>, source: string, label: string): ToolDescription {
  const name = raw['name'];
  if (typeof name !== 'string' || !TOOL_NAME.test(name)) {
    throw bad(source, `tool ${label}: "name" must be letters, digits, '_', '.' or '-' (at most 64)`);
  }
  const description = raw['description'] ?? '';
  if (typeof description !== 'string') throw bad(source, `tool '${name}': "description" must be a string`);
  const parameters = raw['parameters'];
  if (parameters !== undefined && parameters !== null) {
    if (!isObject(parameters)) throw bad(source, `tool '${name}': "parameters" must be a JSON schema object`);
    const type = parameters['type'];
    if (type !== undefined && type !== 'object') throw bad(source, `tool '${name}': "parameters" must be an object schema (type "object"), not ${JSON.stringify(type)}`);
    const properties = parameters['properties'];
    if (properties !== undefined && !isObject(properties)) throw bad(source, `tool '${name}': "parameters.properties" must be an object`);
    const required = parameters['required'];
    if (required !== undefined && !(Array.isArray(required) && required.every((r) => typeof r === 'string'))) {
      throw bad(source, `tool '${name}': "parameters.required" must be a list of property names`);
    }
  }
  return new ToolDescription(name, description, isObject(parameters) ? (parameters as JsonObject) : undefined);
}

/**
 * The function tools in a parsed tools document. Shapes (by what the JSON looks like):
 * - OpenAI: `[{"type":"function","function":{name, description, parameters}}, ...]`, or an object
 *   with such a `tools` array (a chat-completions request body);
 * - openai-harmony: DeveloperContent JSON (`{"type":"developer_content","tools":{"functions":{...}}}`),
 *   one tool namespace (`{"name":"functions","tools":[...]}`), or a list of ToolDescription
 *   dicts (`[{name, description, parameters}, ...]`).
 */
export function parseToolsDocument(value: unknown, source: string): ToolDescription[] {
  let list: unknown[];
  if (Array.isArray(value)) list = value;
  else if (isObject(value) && Array.isArray(value['tools']) && value['type'] !== 'developer_content') {
    // A namespace config must be the functions namespace; a request body's tools are OpenAI's.
    if (typeof value['name'] === 'string' && value['name'] !== 'functions') {
      throw bad(source, `namespace '${String(value['name']).slice(0, 40)}' is not 'functions' (built-in namespaces come from --builtin)`);
    }
    list = value['tools'];
  } else if (isObject(value) && (value['type'] === 'developer_content' || isObject(value['tools']))) {
    const tools = value['tools'];
    if (!isObject(tools)) throw bad(source, 'developer_content has no "tools" object');
    const functions = tools['functions'];
    const others = Object.keys(tools).filter((name) => name !== 'functions');
    if (others.length > 0) throw bad(source, `namespace '${others[0]!.slice(0, 40)}' is not 'functions' (built-in namespaces come from --builtin)`);
    if (!isObject(functions) || !Array.isArray(functions['tools'])) throw bad(source, 'the functions namespace has no "tools" list');
    list = functions['tools'];
  } else {
    throw bad(source, 'not a tools document (expected an OpenAI "tools" array or openai-harmony DeveloperContent tool JSON)');
  }
  const tools = list.map((raw, index) => {
    const label = toolLabel(raw, index);
    if (!isObject(raw)) throw bad(source, `tool ${label} is not an object`);
    if (raw['type'] !== undefined || raw['function'] !== undefined) {
      if (raw['type'] !== 'function') throw bad(source, `tool ${label}: only "type": "function" tools are supported`);
      if (!isObject(raw['function'])) throw bad(source, `tool ${label}: "function" must be an object`);
      return toolFrom(raw['function'], source, label);
    }
    return toolFrom(raw, source, label);
  });
  const seen = new Set<string>();
  for (const tool of tools) {
    if (seen.has(tool.name)) throw bad(source, `tool '${tool.name}' is declared twice`);
    seen.add(tool.name);
  }
  return tools;
}

export async function loadToolsFile(path: string): Promise<ToolDescription[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw fileReadError(error, 'tools file', path, 'TOOLS');
  }
  if (text.length > MAX_TOOLS_FILE_BYTES) throw bad(path, 'larger than 1 MiB');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw bad(path, `not JSON (${(error as Error).message})`);
  }
  return parseToolsDocument(value, path);
}

/** `--builtin browser,python` (repeatable, comma-separated). */
export function parseBuiltins(values: readonly string[] | undefined): BuiltinTool[] {
  const out: BuiltinTool[] = [];
  for (const value of values ?? []) {
    for (const part of value.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
      if (!(BUILTIN_TOOLS as readonly string[]).includes(part)) {
        throw new UsageError('USAGE_BAD_BUILTIN', `unknown built-in tool '${part.slice(0, 40)}' (choose from ${BUILTIN_TOOLS.join(', ')})`);
      }
      if (!out.includes(part as BuiltinTool)) out.push(part as BuiltinTool);
    }
  }
  return out;
}

export interface ToolInputs {
  /** Tools files: the profile's first, then each --tools flag. */
  readonly files?: readonly string[] | undefined;
  readonly builtins?: readonly BuiltinTool[] | undefined;
  /** Reasoning effort for a system message created to carry the built-in tools. */
  readonly reasoningEffort?: 'low' | 'medium' | 'high' | undefined;
}

const EFFORTS = { low: ReasoningEffort.Low, medium: ReasoningEffort.Medium, high: ReasoningEffort.High } as const;

/** The function tools a conversation already declares (a --conversation file's developer message). */
export function conversationFunctionTools(conversation: Conversation): ToolDescription[] {
  const out: ToolDescription[] = [];
  for (const message of conversation.messages) {
    if (message.author.role !== Role.Developer) continue;
    for (const part of message.content) {
      if (part instanceof DeveloperContent) out.push(...(part.tools?.get('functions')?.tools ?? []));
    }
  }
  return out;
}

/**
 * Adds the declared tools to the conversation (in place; returns it). Function tools go into the
 * developer message's `functions` namespace (one is created after the system message if there is
 * none); a tool the conversation already declares is replaced by a file's tool of the same name
 * (flags win), but two files declaring one name is a usage error. Built-in tools go into the system
 * message (one is created, with the reference defaults and the effort, if there is none).
 */
export async function applyTools(conversation: Conversation, inputs: ToolInputs): Promise<Conversation> {
  const declared: DeclaredTool[] = [];
  for (const file of inputs.files ?? []) {
    for (const tool of await loadToolsFile(file)) {
      const earlier = declared.find((d) => d.tool.name === tool.name);
      if (earlier) {
        throw new UsageError('TOOLS_INVALID', `tools file ${file}: tool '${tool.name}' is already declared in ${earlier.source}`);
      }
      declared.push({ tool, source: file });
    }
  }
  const messages = conversation.messages;
  if (declared.length > 0) {
    let developer = messages.find((message) => message.author.role === Role.Developer);
    let content = developer?.content.find((part): part is DeveloperContent => part instanceof DeveloperContent);
    if (!developer) {
      content = DeveloperContent.new();
      developer = Message.fromRoleAndContent(Role.Developer, content);
      messages.splice(messages[0]?.author.role === Role.System ? 1 : 0, 0, developer);
    } else if (!content) {
      // A developer message with plain text: its text becomes the instructions.
      const text = developer.content.map((part) => ('text' in part ? part.text : '')).join('');
      content = DeveloperContent.new();
      if (text !== '') content.withInstructions(text);
      developer.content = [content];
    }
    const existing = content!.tools?.get('functions')?.tools ?? [];
    const names = new Set(declared.map((d) => d.tool.name));
    const tools = [...existing.filter((tool) => !names.has(tool.name)), ...declared.map((d) => d.tool)];
    content!.withTools(new ToolNamespaceConfig('functions', undefined, tools));
  }
  const builtins = inputs.builtins ?? [];
  if (builtins.length > 0) {
    let system = messages[0]?.author.role === Role.System ? messages[0] : undefined;
    let content = system?.content.find((part): part is SystemContent => part instanceof SystemContent);
    if (!system || !content) {
      content = SystemContent.new().withReasoningEffort(EFFORTS[inputs.reasoningEffort ?? 'medium']);
      if (system) system.content = [content];
      else {
        system = Message.fromRoleAndContent(Role.System, content);
        messages.unshift(system);
      }
    }
    for (const builtin of builtins) {
      if (builtin === 'browser') content.withBrowserTool();
      else content.withPythonTool();
    }
  }
  return conversation;
}

/** What the commands pass: the profile's tools files, then --tools and --builtin. */
export async function conversationWithTools(
  conversation: Conversation,
  settings: { readonly toolsFiles: readonly string[]; readonly reasoningEffort?: 'low' | 'medium' | 'high' },
  flags: { readonly tools?: readonly string[] | undefined; readonly builtin?: readonly string[] | undefined },
): Promise<Conversation> {
  return applyTools(conversation, {
    files: [...settings.toolsFiles, ...(flags.tools ?? [])],
    builtins: parseBuiltins(flags.builtin),
    reasoningEffort: settings.reasoningEffort,
  });
}

/**
 * The conversation to sample from after a tool call, as openai/harmony's guide requires: the
 * analysis since the previous final answer (this turn's reasoning before the call) is kept; the
 * analysis of turns that already ended in a final answer is dropped. (The renderer's own
 * auto_drop_analysis does nothing here: the last assistant message is a call, not a final answer.)
 */
export function messagesAfterToolCall(messages: readonly Message[]): Message[] {
  let lastFinal = -1;
  messages.forEach((message, index) => {
    if (message.author.role === Role.Assistant && message.channel === 'final') lastFinal = index;
  });
  return messages.filter((message, index) => !(index < lastFinal && message.author.role === Role.Assistant && message.channel === 'analysis'));
}
