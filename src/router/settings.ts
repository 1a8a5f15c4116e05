/**
 * The router's Harmony settings (those of the router this tool replaces), resolved
 * flag > HARMONY_HPKE_* environment > seed environment (HARMONY_*) > router config file > default:
 *
 * | setting            | flag                      | environment                                                | config key          | default |
 * | reasoning effort   | --reasoning-effort        | HARMONY_HPKE_REASONING_EFFORT, HARMONY_REASONING_EFFORT    | reasoning_effort    | (the request's, else medium) |
 * | include analysis   | --include-analysis BOOL   | HARMONY_HPKE_INCLUDE_ANALYSIS, HARMONY_INCLUDE_ANALYSIS    | include_analysis    | true    |
 * | render Harmony     | --harmony on|off          | HARMONY_HPKE_HARMONY_ENABLED, HARMONY_ENABLED              | harmony             | on      |
 * | upstream API       | --upstream-api completions|chat | HARMONY_HPKE_UPSTREAM_API                            | upstream_api        | completions (chat with Harmony off) |
 *
 * The config file (`serve --router-config FILE`, JSON) may also hold the fleet settings
 * `api_keys`, `replay_store`, `metrics_port`, `metrics_host`, which flags override.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../core/errors.js';
import { fileReadError } from '../node/file-errors.js';

export type ReasoningEffort = 'low' | 'medium' | 'high';
export type UpstreamApi = 'completions' | 'chat';

export interface HarmonySettings {
  /** Used for requests that set none; undefined leaves the renderer's default (medium). */
  readonly reasoningEffort: ReasoningEffort | undefined;
  /** false: the analysis channel never leaves the router. */
  readonly includeAnalysis: boolean;
  /** false: the router does not render Harmony; the conversation goes to a chat-completions upstream. */
  readonly harmony: boolean;
  readonly upstreamApi: UpstreamApi;
}

export interface RouterConfigFile {
  readonly reasoning_effort?: ReasoningEffort;
  readonly include_analysis?: boolean;
  readonly harmony?: boolean;
  readonly upstream_api?: UpstreamApi;
  readonly api_keys?: string;
  readonly replay_store?: string;
  readonly metrics_port?: number;
  readonly metrics_host?: string;
}

export interface HarmonyFlags {
  readonly reasoningEffort?: string | undefined;
  readonly includeAnalysis?: string | undefined;
  readonly harmony?: string | undefined;
  readonly upstreamApi?: string | undefined;
}

const CONFIG_KEYS = new Set([
  'reasoning_effort',
  'include_analysis',
  'harmony',
  'upstream_api',
  'api_keys',
  'replay_store',
  'metrics_port',
  'metrics_host',
]);

export function parseBoolean(value: string, what: string): boolean {
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new UsageError('USAGE_SETTING', `${what} must be true or false (also on/off, yes/no, 1/0), not '${value.slice(0, 40)}'`);
}

function effort(value: string, what: string): ReasoningEffort {
  const v = value.trim().toLowerCase();
  if (v === 'low' || v === 'medium' || v === 'high') return v;
  throw new UsageError('USAGE_SETTING', `${what} must be low, medium or high, not '${value.slice(0, 40)}'`);
}

function upstreamApi(value: string, what: string): UpstreamApi {
  const v = value.trim().toLowerCase();
  if (v === 'completions' || v === 'chat') return v;
  throw new UsageError('USAGE_SETTING', `${what} must be completions or chat, not '${value.slice(0, 40)}'`);
}

export async function readRouterConfigFile(path: string): Promise<RouterConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw fileReadError(error, 'router config file', path, 'ROUTER_CONFIG');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError('ROUTER_CONFIG_INVALID', `router config file ${path} is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError('ROUTER_CONFIG_INVALID', `router config file ${path} must hold a JSON object`);
  }
  const raw = parsed as Record<string, unknown>;
  for (const [key, value] of Object.entries(raw)) {
    if (!CONFIG_KEYS.has(key)) throw new UsageError('ROUTER_CONFIG_INVALID', `router config file ${path}: unknown setting '${key}'`);
    const bad = () => new UsageError('ROUTER_CONFIG_INVALID', `router config file ${path}: invalid '${key}'`);
    switch (key) {
      case 'include_analysis':
      case 'harmony':
        if (typeof value !== 'boolean') throw bad();
        break;
      case 'reasoning_effort':
        if (value !== 'low' && value !== 'medium' && value !== 'high') throw bad();
        break;
      case 'upstream_api':
        if (value !== 'completions' && value !== 'chat') throw bad();
        break;
      case 'metrics_port':
        if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > 65535) throw bad();
        break;
      default:
        if (typeof value !== 'string' || value === '') throw bad();
    }
  }
  return raw as RouterConfigFile;
}

type Env = Readonly<Record<string, string | undefined>>;

function fromEnv(env: Env, names: readonly string[]): { value: string; name: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== '') return { value, name };
  }
  return undefined;
}

export function resolveHarmonySettings(flags: HarmonyFlags, env: Env, file: RouterConfigFile = {}): HarmonySettings {
  const effortEnv = fromEnv(env, ['HARMONY_HPKE_REASONING_EFFORT', 'HARMONY_REASONING_EFFORT']);
  const analysisEnv = fromEnv(env, ['HARMONY_HPKE_INCLUDE_ANALYSIS', 'HARMONY_INCLUDE_ANALYSIS']);
  const harmonyEnv = fromEnv(env, ['HARMONY_HPKE_HARMONY_ENABLED', 'HARMONY_ENABLED']);
  const apiEnv = fromEnv(env, ['HARMONY_HPKE_UPSTREAM_API']);
  const harmony =
    flags.harmony !== undefined
      ? parseBoolean(flags.harmony, '--harmony')
      : harmonyEnv
        ? parseBoolean(harmonyEnv.value, harmonyEnv.name)
        : (file.harmony ?? true);
  return {
    reasoningEffort:
      flags.reasoningEffort !== undefined
        ? effort(flags.reasoningEffort, '--reasoning-effort')
        : effortEnv
          ? effort(effortEnv.value, effortEnv.name)
          : file.reasoning_effort,
    includeAnalysis:
      flags.includeAnalysis !== undefined
        ? parseBoolean(flags.includeAnalysis, '--include-analysis')
        : analysisEnv
          ? parseBoolean(analysisEnv.value, analysisEnv.name)
          : (file.include_analysis ?? true),
    harmony,
    // Harmony off means a chat upstream unless something says otherwise (and then serve refuses).
    upstreamApi:
      flags.upstreamApi !== undefined
        ? upstreamApi(flags.upstreamApi, '--upstream-api')
        : apiEnv
          ? upstreamApi(apiEnv.value, apiEnv.name)
          : (file.upstream_api ?? (harmony ? 'completions' : 'chat')),
  };
}
