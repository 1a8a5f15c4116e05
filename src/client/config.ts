/**
 * Settings resolution: flags > env (HARMONY_HPKE_*) > config file profile > defaults.
 * The config file is `$XDG_CONFIG_HOME/harmony-hpke/config.json`:
 *   {"default_profile": "prod", "profiles": {"prod": {"router": "...", "key_pin": "sha256:...",
 *    "keys": "file", "model": "gpt-oss-120b", "max_tokens": 1024, "reasoning_effort": "medium",
 *    "api_token": "hhpke_..."}}}   (a file with an api_token must be mode 0600)
 */
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve, resolve as resolvePath } from 'node:path';
import { KeyError, UsageError } from '../core/errors.js';
import type { Env } from '../node/env.js';
import { parseUrl } from './http.js';
import { configFile } from '../node/paths.js';

export interface Profile {
  readonly router?: string;
  readonly key_pin?: string;
  readonly keys?: string;
  readonly model?: string;
  readonly max_tokens?: number;
  readonly reasoning_effort?: 'low' | 'medium' | 'high';
  /** Tools files (a path or a list; relative paths are relative to the config file). */
  readonly tools?: readonly string[];
  /** A secret: a config file holding one must not be readable by group or others. */
  readonly api_token?: string;
}

export interface ConfigFile {
  readonly default_profile?: string;
  readonly profiles?: Readonly<Record<string, Profile>>;
}

export const DEFAULT_MODEL = 'gpt-oss-20b';
export const DEFAULT_MAX_TOKENS = 1024;

const PROFILE_KEYS = new Set(['router', 'key_pin', 'keys', 'model', 'max_tokens', 'reasoning_effort', 'tools', 'api_token']);

function profileTools(field: unknown, file: string): string[] | undefined {
  const list = typeof field === 'string' ? [field] : field;
  if (!Array.isArray(list) || list.length === 0 || !list.every((item) => typeof item === 'string' && item !== '')) return undefined;
  return list.map((item: string) => resolve(dirname(file), item));
}

function validateProfile(name: string, value: unknown, file: string): Profile {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError('CONFIG_INVALID', `config file ${file}: profile '${name}' is not an object`);
  }
  const profile: Record<string, unknown> = { ...value };
  for (const [key, field] of Object.entries(value)) {
    if (!PROFILE_KEYS.has(key)) {
      throw new UsageError('CONFIG_INVALID', `config file ${file}: profile '${name}' has unknown setting '${key}'`);
    }
    if (key === 'tools') {
      const tools = profileTools(field, file);
      if (!tools) throw new UsageError('CONFIG_INVALID', `config file ${file}: profile '${name}' has an invalid 'tools' (a tools file path or a list of them)`);
      profile['tools'] = tools;
      continue;
    }
    const ok =
      key === 'max_tokens'
        ? Number.isSafeInteger(field) && (field as number) > 0
        : key === 'reasoning_effort'
          ? field === 'low' || field === 'medium' || field === 'high'
          : typeof field === 'string' && field !== '';
    if (!ok) throw new UsageError('CONFIG_INVALID', `config file ${file}: profile '${name}' has an invalid '${key}'`);
  }
  return profile as Profile;
}

export async function loadConfigFile(env: Env, explicitPath?: string): Promise<ConfigFile> {
  const path = explicitPath ?? env['HARMONY_HPKE_CONFIG'] ?? configFile(env);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && explicitPath === undefined) return {};
    throw new UsageError('CONFIG_UNREADABLE', `cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError('CONFIG_INVALID', `config file ${path} is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError('CONFIG_INVALID', `config file ${path} must hold a JSON object`);
  }
  const raw = parsed as Record<string, unknown>;
  const profiles: Record<string, Profile> = {};
  if (raw['profiles'] !== undefined) {
    if (typeof raw['profiles'] !== 'object' || raw['profiles'] === null) {
      throw new UsageError('CONFIG_INVALID', `config file ${path}: "profiles" must be an object`);
    }
    for (const [name, value] of Object.entries(raw['profiles'])) profiles[name] = validateProfile(name, value, path);
  }
  const defaultProfile = raw['default_profile'];
  if (defaultProfile !== undefined && (typeof defaultProfile !== 'string' || !(defaultProfile in profiles))) {
    throw new UsageError('CONFIG_INVALID', `config file ${path}: default_profile names no profile`);
  }
  if (Object.values(profiles).some((profile) => profile.api_token !== undefined)) {
    // Like a key file: a secret in a file others can read is refused, not used.
    const mode = (await stat(path)).mode;
    if ((mode & 0o077) !== 0) {
      throw new KeyError(
        'CONFIG_PERMISSIONS',
        `config file ${path} holds an api_token and is readable by group or others (mode ${(mode & 0o777).toString(8)}); run chmod 600 on it`,
      );
    }
  }
  return { profiles, ...(defaultProfile !== undefined ? { default_profile: defaultProfile as string } : {}) };
}

export interface GlobalFlags {
  readonly profile?: string;
  readonly config?: string;
}

export interface RouterFlags {
  readonly router?: string;
  readonly keys?: string;
  readonly keyPin?: string;
  readonly model?: string;
  readonly maxTokens?: number;
  readonly reasoningEffort?: 'low' | 'medium' | 'high';
  readonly apiToken?: string;
}

export interface RouterSettings {
  /** Undefined when no router is configured anywhere (ask then uses the embedded router). */
  readonly router: string | undefined;
  readonly keysFile: string | undefined;
  readonly keyPin: string | undefined;
  readonly model: string;
  readonly maxTokens: number;
  readonly reasoningEffort: 'low' | 'medium' | 'high';
  /** True when a flag, env or profile chose the reasoning effort (not the default). */
  readonly reasoningEffortExplicit: boolean;
  readonly profile: string | undefined;
  /** Where the key pin came from, for error messages ('--key-pin', an env name, the config file). */
  readonly keyPinSource: string | undefined;
  /** The profile's tools files (absolute paths). */
  readonly toolsFiles: readonly string[];
  /** --api-token > HARMONY_HPKE_API_TOKEN > profile api_token; travels inside the sealed request. */
  readonly apiToken: string | undefined;
  /** Where each setting came from ('--router', 'HARMONY_HPKE_ROUTER', 'config file F, profile P', 'default'). */
  readonly sources: Readonly<Record<'router' | 'keys' | 'key_pin' | 'model' | 'max_tokens' | 'reasoning_effort' | 'profile', string | undefined>>;
}

export async function resolveRouterSettings(flags: RouterFlags & GlobalFlags, env: Env): Promise<RouterSettings> {
  const config = await loadConfigFile(env, flags.config);
  const profileName = flags.profile ?? env['HARMONY_HPKE_PROFILE'] ?? config.default_profile;
  let profile: Profile = {};
  if (profileName !== undefined) {
    const found = config.profiles?.[profileName];
    if (!found) throw new UsageError('CONFIG_NO_PROFILE', `no profile named '${profileName}' in the config file`);
    profile = found;
  }
  const envEffort = env['HARMONY_HPKE_REASONING_EFFORT'];
  if (envEffort !== undefined && envEffort !== 'low' && envEffort !== 'medium' && envEffort !== 'high') {
    throw new UsageError('ENV_INVALID', 'HARMONY_HPKE_REASONING_EFFORT must be low, medium or high');
  }
  const envMax = env['HARMONY_HPKE_MAX_TOKENS'];
  if (envMax !== undefined && !/^[1-9]\d*$/.test(envMax)) {
    throw new UsageError('ENV_INVALID', 'HARMONY_HPKE_MAX_TOKENS must be a positive integer');
  }
  const router = pick(flags.router, env['HARMONY_HPKE_ROUTER'], profile.router);
  if (router !== undefined) parseUrl(router);
  // A profile's key material belongs to the profile's router: a --router elsewhere does not get
  // the default profile's pin or key file.
  const profileRouterApplies = router === undefined || (profile.router !== undefined && sameRouter(router, profile.router));
  const profileKeyPin = profileRouterApplies ? profile.key_pin : undefined;
  const keyPin = pick(flags.keyPin, env['HARMONY_HPKE_KEY_PIN'], profileKeyPin);
  const configPath = flags.config ?? env['HARMONY_HPKE_CONFIG'] ?? configFile(env);
  const keyPinSource =
    keyPin === undefined
      ? undefined
      : pick(flags.keyPin) !== undefined
        ? '--key-pin'
        : pick(env['HARMONY_HPKE_KEY_PIN']) !== undefined
          ? 'HARMONY_HPKE_KEY_PIN'
          : `config file ${configPath}, profile '${profileName}'`;
  const inProfile = `config file ${configPath}, profile '${profileName}'`;
  const from = (flag: unknown, flagName: string, envValue: unknown, envName: string, profileValue: unknown, fallback?: string): string | undefined =>
    flag !== undefined && flag !== ''
      ? flagName
      : envValue !== undefined && envValue !== ''
        ? envName
        : profileValue !== undefined && profileValue !== ''
          ? inProfile
          : fallback;
  const profileKeys = profileRouterApplies && profile.keys !== undefined ? configRelative(profile.keys, configPath, env) : undefined;
  return {
    sources: {
      router: from(flags.router, '--router', env['HARMONY_HPKE_ROUTER'], 'HARMONY_HPKE_ROUTER', profile.router),
      keys: from(flags.keys, '--keys', env['HARMONY_HPKE_KEYS'], 'HARMONY_HPKE_KEYS', profileKeys),
      key_pin: keyPinSource,
      model: from(flags.model, '--model', env['HARMONY_HPKE_MODEL'], 'HARMONY_HPKE_MODEL', profile.model, 'default'),
      max_tokens: from(flags.maxTokens, '--max-tokens', envMax, 'HARMONY_HPKE_MAX_TOKENS', profile.max_tokens, 'default'),
      reasoning_effort: from(flags.reasoningEffort, '--reasoning-effort', envEffort, 'HARMONY_HPKE_REASONING_EFFORT', profile.reasoning_effort, 'default'),
      profile: flags.profile !== undefined ? '--profile' : env['HARMONY_HPKE_PROFILE'] !== undefined ? 'HARMONY_HPKE_PROFILE' : profileName !== undefined ? `config file ${configPath} (default_profile)` : undefined,
    },
    router,
    keysFile: pick(flags.keys, env['HARMONY_HPKE_KEYS'], profileKeys),
    keyPin,
    keyPinSource,
    model: pick(flags.model, env['HARMONY_HPKE_MODEL'], profile.model) ?? DEFAULT_MODEL,
    maxTokens: flags.maxTokens ?? (envMax ? Number(envMax) : undefined) ?? profile.max_tokens ?? DEFAULT_MAX_TOKENS,
    reasoningEffort: flags.reasoningEffort ?? envEffort ?? profile.reasoning_effort ?? 'medium',
    reasoningEffortExplicit: (flags.reasoningEffort ?? envEffort ?? profile.reasoning_effort) !== undefined,
    profile: profileName,
    toolsFiles: profile.tools ?? [],
    apiToken: pick(flags.apiToken, env['HARMONY_HPKE_API_TOKEN'], profile.api_token),
  };
}

/** A path in the config file: `~/` is the home directory, a relative path is relative to the file. */
function configRelative(path: string, configPath: string, env: Env): string {
  const home = env['HOME'] ?? homedir();
  if (path === '~' || path.startsWith('~/')) return join(home, path.slice(1));
  return isAbsolute(path) ? path : resolvePath(dirname(resolvePath(configPath)), path);
}

function sameRouter(a: string, b: string): boolean {
  try {
    const strip = (url: URL) => `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
    return strip(new URL(a)) === strip(new URL(b));
  } catch {
    return a === b;
  }
}

function pick(...values: Array<string | undefined>): string | undefined {
  return values.find((value) => value !== undefined && value !== '');
}
