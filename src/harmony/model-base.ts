/**
 * What every class of the Harmony model (model.ts, content.ts, tools.ts) shares: the role and
 * reasoning-effort enums, and reading openai-harmony JSON as the reference's serde does (typed
 * fields, duplicate fields refused, numbers and key order kept where tool parameters need them).
 */
import { HarmonyErrorCode, UsageError } from './errors.js';
import { DUPLICATE_KEYS, parseJsonChecked, parseJsonLossless } from './json.js';

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

export function invalid(message: string): UsageError {
  return new UsageError(HarmonyErrorCode.InvalidJson, message);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function optionalString(raw: Record<string, unknown>, key: string, where: string): string | undefined {
  const value = raw[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(`${where}.${key} must be a string`);
  return value;
}

export function requiredString(raw: Record<string, unknown>, key: string, where: string): string {
  const value = raw[key];
  if (value === undefined) throw invalid(`missing field \`${key}\` in ${where}`);
  if (typeof value !== 'string') throw invalid(`${where}.${key} must be a string`);
  return value;
}

/** serde's derived structs refuse a field given twice (known only for JSON parsed by fromJson). */
export function refuseDuplicates(raw: Record<string, unknown>, fields: readonly string[], where: string): void {
  const duplicates = (raw as { [DUPLICATE_KEYS]?: Set<string> })[DUPLICATE_KEYS];
  if (duplicates === undefined) return;
  for (const field of fields) if (duplicates.has(field)) throw invalid(`duplicate field \`${field}\` in ${where}`);
}

export function parseEffort(value: unknown): ReasoningEffort | undefined {
  if (value === undefined || value === null) return undefined;
  // Exactly as spelled: serde's variant names, no case folding ("HIGH", "low" are refused).
  if (typeof value === 'string' && (Object.values(ReasoningEffort) as string[]).includes(value)) return value as ReasoningEffort;
  throw invalid(`reasoning_effort must be "Low", "Medium" or "High", got ${JSON.stringify(value)}`);
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
export function parseJson(json: string): unknown {
  if (json.includes('"parameters"')) return parseJsonLossless(json);
  const value = parseJsonChecked(json);
  STRUCT_FIELD_KEY.lastIndex = 0;
  let keysInText = 0;
  while (STRUCT_FIELD_KEY.exec(json) !== null) keysInText += 1;
  return keysInText === countStructFields(value) ? value : parseJsonLossless(json);
}
