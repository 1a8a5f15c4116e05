/** Where the CLI keeps its files: XDG base directories, overridable by env for tests and CI. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Env } from './env.js';

function base(env: Env, variable: string, fallback: string[]): string {
  const value = env[variable];
  if (value && value.startsWith('/')) return value;
  return join(env['HOME'] || homedir(), ...fallback);
}

export function configDir(env: Env): string {
  return env['HARMONY_HPKE_CONFIG_DIR'] || join(base(env, 'XDG_CONFIG_HOME', ['.config']), 'harmony-hpke');
}

export function stateDir(env: Env): string {
  return env['HARMONY_HPKE_STATE_DIR'] || join(base(env, 'XDG_STATE_HOME', ['.local', 'state']), 'harmony-hpke');
}

export function sessionsDir(env: Env): string {
  return join(stateDir(env), 'sessions');
}

export function pinsFile(env: Env): string {
  return join(configDir(env), 'pins.json');
}

export function configFile(env: Env): string {
  return join(configDir(env), 'config.json');
}
