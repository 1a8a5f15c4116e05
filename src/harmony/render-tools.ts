/**
 * Tool namespaces as the TypeScript-like block the model was trained on (`namespace functions {
 * type f = (_: {...}) => any; }`). A faithful port of `template_tools_section` and
 * `json_schema_to_typescript` in openai/harmony's src/encoding.rs: every quirk (where descriptions,
 * defaults and `?` go, how oneOf variants are indented) shows up in the prompt, so it is kept.
 */
import { JsonNumber, orderedKeys, serdeJsonText } from './json.js';
import type { JsonValue } from './python-json.js';
import type { ToolNamespaceConfig, ToolNamespaces } from './model.js';

type Schema = { [key: string]: JsonValue };

function isSchema(value: JsonValue | undefined): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !((value as unknown) instanceof JsonNumber);
}

/** `schema.get(key)` of serde_json: only objects have members. */
function get(schema: JsonValue | undefined, key: string): JsonValue | undefined {
  return isSchema(schema) && Object.prototype.hasOwnProperty.call(schema, key) ? schema[key] : undefined;
}

function getString(schema: JsonValue | undefined, key: string): string | undefined {
  const value = get(schema, key);
  return typeof value === 'string' ? value : undefined;
}

function getArray(schema: JsonValue | undefined, key: string): JsonValue[] | undefined {
  const value = get(schema, key);
  return Array.isArray(value) ? value : undefined;
}

function isEnum(schema: JsonValue | undefined): boolean {
  const values = getArray(schema, 'enum');
  return values !== undefined && values.length > 0;
}

function isNullable(schema: JsonValue | undefined): boolean {
  return get(schema, 'nullable') === true;
}

/** serde_json's Display: compact JSON, numbers and member order as in the source (json.ts). */
function jsonText(value: JsonValue): string {
  return serdeJsonText(value);
}

/** Rust's `str::lines()`: split on \n, drop one \r before it, no trailing empty line. */
export function rustLines(text: string): string[] {
  if (text.length === 0) return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((line, index) => (index < lines.length - 1 || text.endsWith('\n')) && line.endsWith('\r') ? line.slice(0, -1) : line);
}

/** `// default: ...` text of a oneOf variant (trailing comment form). */
function variantDefault(variant: JsonValue, defaultValue: JsonValue, rawEnumString: boolean): string {
  if (typeof defaultValue === 'string' && !isEnum(variant)) return `default: "${defaultValue}"`;
  if (typeof defaultValue === 'string' && rawEnumString) return `default: ${defaultValue}`;
  return `default: ${jsonText(defaultValue)}`;
}

function withNull(typeText: string, schema: JsonValue): string {
  return isNullable(schema) && !typeText.includes('null') ? `${typeText} | null` : typeText;
}

/** Converts a JSON schema to the reference's TypeScript-like type text. */
export function jsonSchemaToTypescript(schema: JsonValue, indent: string): string {
  const oneOf = getArray(schema, 'oneOf');
  if (oneOf) {
    let out = '';
    for (const variant of oneOf) {
      out += `\n${indent} | `;
      out += withNull(jsonSchemaToTypescript(variant, `${indent}   `), variant);
      const trailing: string[] = [];
      const description = getString(variant, 'description');
      if (description !== undefined) trailing.push(description);
      const defaultValue = get(variant, 'default');
      if (defaultValue !== undefined) trailing.push(variantDefault(variant, defaultValue, false));
      if (trailing.length > 0) out += ` // ${trailing.join(' ')}`;
    }
    return out;
  }

  const typeList = getArray(schema, 'type');
  if (typeList) {
    const names = typeList.filter((t): t is string => typeof t === 'string').map((t) => (t === 'integer' ? 'number' : t));
    if (names.length > 0) return names.join(' | ');
  }

  const type = getString(schema, 'type');
  if (type === undefined) return 'any';
  switch (type) {
    case 'object':
      return objectToTypescript(schema as Schema, indent);
    case 'string': {
      const values = (getArray(schema, 'enum') ?? []).filter((v): v is string => typeof v === 'string').map((v) => `"${v}"`);
      return values.length > 0 ? values.join(' | ') : 'string';
    }
    case 'number':
    case 'integer':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'array': {
      const items = get(schema, 'items');
      return items !== undefined ? `${jsonSchemaToTypescript(items, indent)}[]` : 'Array<any>';
    }
    default:
      return 'any';
  }
}

function objectToTypescript(schema: Schema, indent: string): string {
  let out = '';
  const description = getString(schema, 'description');
  if (description !== undefined) out += `${indent}// ${description}\n`;
  out += '{\n';
  const properties = get(schema, 'properties');
  if (isSchema(properties)) {
    const required = new Set((getArray(schema, 'required') ?? []).filter((r): r is string => typeof r === 'string'));
    for (const key of orderedKeys(properties)) {
      const value = properties[key]!;
      const optional = required.has(key) ? '' : '?';
      const title = getString(value, 'title');
      if (title !== undefined) out += `${indent}// ${title}\n${indent}//\n`;
      const hasOneOf = get(value, 'oneOf') !== undefined;
      const propertyDescription = getString(value, 'description');
      if (!hasOneOf && propertyDescription !== undefined) out += `${indent}// ${propertyDescription}\n`;
      const examples = getArray(value, 'examples');
      if (examples && examples.length > 0) {
        out += `${indent}// Examples:\n`;
        for (const example of examples) if (typeof example === 'string') out += `${indent}// - "${example}"\n`;
      }

      const variants = getArray(value, 'oneOf');
      if (variants) {
        out += oneOfProperty(key, optional, value, variants, propertyDescription, indent);
        continue;
      }

      out += `${indent}${key}${optional}: `;
      out += withNull(jsonSchemaToTypescript(value, `${indent}    `), value);
      out += ',';
      if (!hasOneOf) {
        const defaultValue = get(value, 'default');
        if (defaultValue !== undefined) {
          if (typeof defaultValue === 'string' && !isEnum(value)) out += ` // default: "${defaultValue}"`;
          else if (typeof defaultValue === 'string') out += ` // default: ${defaultValue}`;
          else out += ` // default: ${jsonText(defaultValue)}`;
        }
      }
      out += '\n';
    }
  }
  out += `${indent}}`;
  return out;
}

/** A property whose schema is a oneOf: comments above, then one ` | variant` line per variant. */
function oneOfProperty(
  key: string,
  optional: string,
  value: JsonValue,
  variants: JsonValue[],
  propertyDescription: string | undefined,
  indent: string,
): string {
  let out = '';
  // The property description is not repeated when the first variant says the same.
  const skipDescription = propertyDescription !== undefined && getString(variants[0], 'description') === propertyDescription;
  let describedAbove = false;
  if (!skipDescription && propertyDescription !== undefined) {
    out += `${indent}// ${propertyDescription}\n`;
    describedAbove = true;
  }
  const defaultValue = get(value, 'default');
  if (defaultValue !== undefined) {
    if (typeof defaultValue === 'string' && !isEnum(value)) out += `${indent}// default: "${defaultValue}"\n`;
    else if (typeof defaultValue === 'string') out += `${indent}// default: ${defaultValue}\n`;
    else out += `${indent}// default: ${jsonText(defaultValue)}\n`;
  }
  out += `${indent}${key}${optional}:\n`;
  variants.forEach((variant, index) => {
    out += `${indent} | `;
    out += withNull(jsonSchemaToTypescript(variant, `${indent}   `), variant);
    const trailing: string[] = [];
    const variantDescription = getString(variant, 'description');
    if (!(index === 0 && describedAbove) && variantDescription !== undefined && variantDescription !== propertyDescription) {
      trailing.push(variantDescription);
    }
    const variantDefaultValue = get(variant, 'default');
    if (variantDefaultValue !== undefined) trailing.push(variantDefault(variant, variantDefaultValue, true));
    if (trailing.length > 0) out += ` // ${trailing.join(' ')}`;
    out += '\n';
  });
  out += `${indent},\n`;
  return out;
}

/** Rust's String ordering (UTF-8 bytes, i.e. code points), which BTreeMap iteration follows. */
function compareCodePoints(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i += 1) {
    const diff = left[i]!.codePointAt(0)! - right[i]!.codePointAt(0)!;
    if (diff !== 0) return diff;
  }
  return left.length - right.length;
}

/** The `# Tools` section of a system or developer message. */
export function renderToolsSection(tools: ToolNamespaces): string {
  const sections = ['# Tools'];
  const namespaces: ToolNamespaceConfig[] = [...tools.entries()].sort(([a], [b]) => compareCodePoints(a, b)).map(([, ns]) => ns);
  for (const ns of namespaces) {
    const lines = [`## ${ns.name}\n`];
    const hasTools = ns.tools.length > 0;
    if (ns.description !== undefined) {
      for (const line of rustLines(ns.description)) lines.push(hasTools ? `// ${line}` : line);
    }
    if (hasTools) {
      lines.push(`namespace ${ns.name} {\n`);
      for (const tool of ns.tools) {
        for (const line of rustLines(tool.description)) lines.push(`// ${line}`);
        if (tool.parameters !== undefined) {
          lines.push(`type ${tool.name} = (_: ${jsonSchemaToTypescript(tool.parameters, '')}) => any;\n`);
        } else {
          lines.push(`type ${tool.name} = () => any;\n`);
        }
      }
      lines.push(`} // namespace ${ns.name}`);
    }
    sections.push(lines.join('\n'));
  }
  return sections.join('\n\n');
}
