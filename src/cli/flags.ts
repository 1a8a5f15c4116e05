/**
 * The flags several commands share, each group as one small definition: the commander options
 * (names, help texts, parsers) and the option type a command's handler receives for them. A
 * command module adds the groups it takes and declares its own flags beside them (src/commands/
 * *.command.ts); the program (src/app/program.ts) only composes the commands.
 *
 * This module loads only commander: `--version` and `--help` build every command's flags.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Timeouts } from '../client/http.js';

export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) <= 0 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('Not a positive integer.');
  }
  return Number(value);
}

export function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('Not a non-negative integer.');
  }
  return Number(value);
}

export function port(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('Not a port (0-65535).');
  return Number(value);
}

export function temperature(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 2) {
    throw new InvalidArgumentError('Not a number between 0 and 2.');
  }
  return n;
}

/** Durations as milliseconds: `500ms`, `30s`, `2m`, `24h`, or a bare number of seconds. */
export function duration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError('Not a duration (e.g. 500ms, 30s, 2m, 24h, 7d).');
  const n = Number(match[1]);
  const unit = match[2] ?? 's';
  const ms = unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : unit === 'h' ? n * 3_600_000 : n * 86_400_000;
  if (!Number.isFinite(ms) || ms <= 0) throw new InvalidArgumentError('Not a positive duration.');
  return Math.round(ms);
}

/** A repeatable option's values, in order. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export const REASONING_EFFORTS = ['low', 'medium', 'high'] as const;
export type ReasoningEffortFlag = (typeof REASONING_EFFORTS)[number];

/** `--reasoning-effort <level>` with its choices; the help text is the command's. */
export function reasoningEffortOption(description: string): Option {
  return new Option('--reasoning-effort <level>', description).choices(REASONING_EFFORTS);
}

export const SHOWN_CHANNELS = ['analysis', 'commentary', 'final'] as const;
export type ShownChannel = (typeof SHOWN_CHANNELS)[number];

function isShownChannel(part: string): part is ShownChannel {
  return (SHOWN_CHANNELS as readonly string[]).includes(part);
}

export function showList(value: string): ShownChannel[] {
  const parts = value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  const channels: ShownChannel[] = [];
  for (const part of parts) {
    if (!isShownChannel(part)) {
      throw new InvalidArgumentError(`Unknown channel '${part}' (choose from ${SHOWN_CHANNELS.join(', ')}).`);
    }
    channels.push(part);
  }
  return channels;
}

/** The program's own flags (every command sees them through optsWithGlobals). */
export interface GlobalOptions {
  readonly debug?: boolean;
  readonly verbose?: boolean;
  readonly quiet?: boolean;
  readonly profile?: string;
  readonly config?: string;
}

export function globalFlags(program: Command): Command {
  return program
    .option('--debug', 'show stack traces and debug traces (sizes and ids, never secrets)')
    .option('-v, --verbose', 'show timings (time to first byte, first final token, tokens/s)')
    .option('-q, --quiet', 'print only the answer (no progress or notices)')
    .option('--profile <name>', 'router profile from the config file (env HARMONY_HPKE_PROFILE)')
    .option('--config <file>', 'config file (default $XDG_CONFIG_HOME/harmony-hpke/config.json)');
}

export interface RouterFlagOptions {
  readonly router?: string;
  readonly keys?: string;
  readonly keyPin?: string;
  readonly apiToken?: string;
}

/** The help texts of the router flags; smoke and keys say less than ask (see routerFlags). */
export interface RouterFlagHelp {
  readonly router: string;
  readonly keys: string;
  readonly keyPin: string;
  readonly apiToken: string;
}

export const ROUTER_FLAG_HELP: RouterFlagHelp = {
  router: 'router base URL (env HARMONY_HPKE_ROUTER)',
  keys: "the router's key config (application/ohttp-keys file); works offline",
  keyPin: "pin the router's public key: sha256:<hex> (env HARMONY_HPKE_KEY_PIN)",
  apiToken: 'API token, sent inside the sealed request (prefer env HARMONY_HPKE_API_TOKEN: argv is visible to other users)',
};

/** `--router`, `--keys`, `--key-pin`, `--api-token` (the ones named in `help`, with those texts). */
export function routerFlags(command: Command, help: Partial<RouterFlagHelp> = {}): Command {
  const text = { ...ROUTER_FLAG_HELP, ...help };
  return command
    .option('--router <url>', text.router)
    .option('--keys <file>', text.keys)
    .option('--key-pin <pin>', text.keyPin)
    .option('--api-token <token>', text.apiToken);
}

export interface ConversationOptions {
  readonly system?: string;
  readonly developer?: string;
  readonly reasoningEffort?: ReasoningEffortFlag;
  readonly maxTokens?: number;
  readonly temperature?: number;
  readonly model?: string;
  readonly conversation?: string;
}

export function conversationFlags(command: Command): Command {
  return command
    .option('--system <text>', 'model identity for the system message')
    .option('--developer <text>', 'developer instructions')
    .addOption(reasoningEffortOption('reasoning effort (default: medium)'))
    .option('--max-tokens <n>', 'maximum completion tokens (default: 1024)', positiveInt)
    .option('--temperature <t>', 'sampling temperature (0-2; default: the router\'s)', temperature)
    .option('--model <name>', 'model name sent to the router (default: gpt-oss-20b)')
    .option('--conversation <file>', 'continue a saved conversation (openai-harmony JSON)');
}

export interface ToolOptions {
  readonly tools?: string[];
  readonly builtin?: string[];
}

export function toolFlags(command: Command): Command {
  return command
    .option('--tools <file>', 'function tools: an OpenAI "tools" array or openai-harmony DeveloperContent JSON (repeatable)', collect)
    .option('--builtin <tools>', 'built-in tool namespaces in the system message: browser,python', collect);
}

export interface ToolExecOptions {
  readonly toolExec?: string;
  readonly maxToolCalls?: number;
  readonly toolTimeout?: number;
}

export function toolExecFlags(command: Command): Command {
  return command
    .option('--tool-exec <cmd>', 'run CMD (via /bin/sh -c) for each tool call: the call as JSON on stdin, its stdout is the answer')
    .option('--max-tool-calls <n>', 'with --tool-exec: most tool calls to answer (default 8)', nonNegativeInt)
    .option('--tool-timeout <duration>', 'with --tool-exec: time limit per command (default 60s)', duration);
}

export interface TimeoutOptions {
  readonly connectTimeout?: number;
  readonly timeout?: number;
  readonly idleTimeout?: number;
}

export function timeoutFlags(command: Command): Command {
  return command
    .option('--connect-timeout <duration>', 'time to connect and get response headers (default: 10s)', duration)
    .option('--timeout <duration>', 'time for the whole request (default: 10m; smoke: 2m)', duration)
    .option('--idle-timeout <duration>', 'longest gap between verified events; heartbeats do not count (default: 60s)', duration);
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** No exchange runs forever by default: a router that streams without end is cut after this. */
export const DEFAULT_TOTAL_TIMEOUT_MS = 600_000;

/** The client timeouts from the flags, else the defaults: connect 10 s, idle 60 s, the whole exchange `totalMs` (10 min). */
export function timeoutsFrom(options: TimeoutOptions, totalMs: number = DEFAULT_TOTAL_TIMEOUT_MS): Timeouts {
  return {
    connectMs: options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MS,
    totalMs: options.timeout ?? totalMs,
    idleMs: options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT_MS,
  };
}

export interface DisplayOptions {
  readonly show?: ShownChannel[];
  readonly hideAnalysis?: boolean;
  readonly raw?: boolean;
  readonly json?: boolean;
  readonly strict?: boolean;
}

export function displayFlags(command: Command): Command {
  return command
    .option('--show <channels>', 'channels to print: analysis,commentary,final', showList)
    .option('--hide-analysis', 'do not print the analysis channel')
    .addOption(new Option('--raw', "print each decrypted chunk as the old script did: Chunk 1: '<|channel|>'").conflicts('json'))
    .addOption(new Option('--json', 'NDJSON events on stdout (chunk, message, done, error)').conflicts('raw'))
    .option('--strict', 'treat malformed Harmony as an error (exit 9), and an answer cut at --max-tokens too (exit 11)');
}
