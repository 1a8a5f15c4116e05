/**
 * Tool calls for the built-in echo engine, so the whole tool loop runs without a model.
 *
 * The rule (documented in docs/router.md):
 * - the conversation's last message is a `tool` message: the engine answers on `final` with that
 *   output ("functions.NAME returned: ...");
 * - otherwise, when the conversation declares function tools and the last user message names one
 *   of them as a word (`get_weather`, not `get_weathers`), the engine calls the first one named:
 *   an analysis message, then `<|start|>assistant to=functions.NAME<|channel|>commentary
 *   <|constrain|>json<|message|>{...}<|call|>`. The arguments hold the schema's required
 *   properties: `key=value` (or `key="two words"`) in the prompt gives a value, else the
 *   property's default, its first enum value, or a placeholder of its type ("example", 0, false,
 *   [], {}).
 */

const MAX_TOOL_TEXT = 2000;
const TOOL_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

type Dict = Record<string, unknown>;

function isDict(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface EchoTool {
  readonly name: string;
  readonly parameters: Dict | undefined;
}

export type EchoToolTurn =
  | { readonly kind: 'call'; readonly analysis: string; readonly recipient: string; readonly arguments: string }
  | { readonly kind: 'answer'; readonly analysis: string; readonly final: string };

function textOf(message: Dict): string {
  const content = message['content'];
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (isDict(part) && typeof part['text'] === 'string' ? part['text'] : '')).join('');
}

/** The function tools the conversation's developer messages declare (in order). */
export function declaredFunctionTools(messages: readonly unknown[]): EchoTool[] {
  const out: EchoTool[] = [];
  for (const message of messages) {
    if (!isDict(message) || message['role'] !== 'developer' || !Array.isArray(message['content'])) continue;
    for (const part of message['content']) {
      if (!isDict(part) || !isDict(part['tools'])) continue;
      const functions = part['tools']['functions'];
      if (!isDict(functions) || !Array.isArray(functions['tools'])) continue;
      for (const tool of functions['tools']) {
        if (!isDict(tool) || typeof tool['name'] !== 'string' || !TOOL_NAME.test(tool['name'])) continue;
        out.push({ name: tool['name'], parameters: isDict(tool['parameters']) ? tool['parameters'] : undefined });
      }
    }
  }
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function namesTool(prompt: string, name: string): boolean {
  return new RegExp(`(?<![A-Za-z0-9_.-])(?:functions\\.)?${escapeRegExp(name)}(?![A-Za-z0-9_-])`).test(prompt);
}

/** `key=value` or `key="two words"` in the prompt. */
function promptValue(prompt: string, key: string): string | undefined {
  const match = new RegExp(`(?<![A-Za-z0-9_])${escapeRegExp(key)}=(?:"([^"]*)"|([^\\s,;]+))`).exec(prompt);
  if (!match) return undefined;
  return match[1] ?? match[2]?.replace(/[.?!]+$/, '');
}

function schemaType(schema: unknown): string | undefined {
  if (!isDict(schema)) return undefined;
  const type = schema['type'];
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) return type.find((t): t is string => typeof t === 'string' && t !== 'null');
  return undefined;
}

function placeholder(schema: unknown): unknown {
  if (isDict(schema)) {
    if (schema['default'] !== undefined) return schema['default'];
    if (Array.isArray(schema['enum']) && schema['enum'].length > 0) return schema['enum'][0];
  }
  switch (schemaType(schema)) {
    case 'number':
    case 'integer':
      return 0;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      return 'example';
  }
}

function coerce(text: string, schema: unknown): unknown {
  const type = schemaType(schema);
  if ((type === 'number' || type === 'integer') && text.trim() !== '' && Number.isFinite(Number(text))) return Number(text);
  if (type === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  return text;
}

/** The arguments object: each required property, from the prompt or a placeholder. */
export function echoArguments(tool: EchoTool, prompt: string): Dict {
  const parameters = tool.parameters ?? {};
  const properties = isDict(parameters['properties']) ? parameters['properties'] : {};
  const required = Array.isArray(parameters['required']) ? parameters['required'].filter((r): r is string => typeof r === 'string') : [];
  const args: Dict = {};
  for (const key of required) {
    const schema = properties[key];
    const given = promptValue(prompt, key);
    args[key] = given !== undefined ? coerce(given, schema) : placeholder(schema);
  }
  return args;
}

function clip(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_TOOL_TEXT ? `${oneLine.slice(0, MAX_TOOL_TEXT)}…` : oneLine;
}

/** What the echo engine does about tools for this conversation, or undefined (an ordinary echo). */
export function echoToolTurn(messages: readonly unknown[], lastUserText: string): EchoToolTurn | undefined {
  const last = messages[messages.length - 1];
  if (isDict(last) && last['role'] === 'tool') {
    const name = typeof last['name'] === 'string' ? clip(last['name']).slice(0, 80) : 'the tool';
    const output = clip(textOf(last));
    return {
      kind: 'answer',
      analysis: `The tool ${name} answered. No model is loaded on this router (built-in echo engine), so its output is repeated as the answer.`,
      final: `${name} returned: ${output}`,
    };
  }
  const tools = declaredFunctionTools(messages);
  const tool = tools.find((candidate) => namesTool(lastUserText, candidate.name));
  if (!tool) return undefined;
  return {
    kind: 'call',
    analysis: `The user asks for the tool ${tool.name}. Calling functions.${tool.name} with the required arguments.`,
    recipient: `functions.${tool.name}`,
    arguments: JSON.stringify(echoArguments(tool, lastUserText)),
  };
}
