/** Tool descriptions and tool namespaces (functions, browser, python), as openai-harmony models them. */
import { invalid, isObject, optionalString, refuseDuplicates, requiredString } from './model-base.js';
import type { JsonObject } from './python-json.js';

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

export function toolsToDict(tools: ToolNamespaces): JsonObject {
  const out: JsonObject = {};
  for (const [name, ns] of tools) out[name] = ns.toDict();
  return out;
}

export function toolsFromDict(raw: unknown, where: string): ToolNamespaces | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) throw invalid(`${where}.tools must be an object of namespaces`);
  const map: ToolNamespaces = new Map();
  for (const [name, ns] of Object.entries(raw)) map.set(name, ToolNamespaceConfig.fromDict(ns));
  return map;
}

export function withNamespace(tools: ToolNamespaces | undefined, ns: ToolNamespaceConfig): ToolNamespaces {
  const map = tools ?? new Map<string, ToolNamespaceConfig>();
  map.set(ns.name, ns);
  return map;
}
