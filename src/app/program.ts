/**
 * The commander program: every command and option, with actions that load their command module
 * lazily, so `--version` and `--help` pay for nothing they do not use.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Timeouts } from '../client/http.js';
import type { CliContext } from '../cli/context.js';


function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) <= 0 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('Not a positive integer.');
  }
  return Number(value);
}

function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('Not a non-negative integer.');
  }
  return Number(value);
}

function port(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('Not a port (0-65535).');
  return Number(value);
}

function temperature(value: string): number {
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

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

const SHOW_CHOICES = ['analysis', 'commentary', 'final'] as const;
export type ShownChannel = (typeof SHOW_CHOICES)[number];

function showList(value: string): ShownChannel[] {
  const parts = value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  for (const part of parts) {
    if (!(SHOW_CHOICES as readonly string[]).includes(part)) {
      throw new InvalidArgumentError(`Unknown channel '${part}' (choose from ${SHOW_CHOICES.join(', ')}).`);
    }
  }
  return parts as ShownChannel[];
}

/** What commander hands a command for each group of options below (optsWithGlobals). */
export interface GlobalOptions {
  readonly debug?: boolean;
  readonly verbose?: boolean;
  readonly quiet?: boolean;
  readonly profile?: string;
  readonly config?: string;
}

export interface RouterFlagOptions {
  readonly router?: string;
  readonly keys?: string;
  readonly keyPin?: string;
  readonly apiToken?: string;
}

export interface ConversationOptions {
  readonly system?: string;
  readonly developer?: string;
  readonly reasoningEffort?: 'low' | 'medium' | 'high';
  readonly maxTokens?: number;
  readonly temperature?: number;
  readonly model?: string;
  readonly conversation?: string;
}

export interface ToolOptions {
  readonly tools?: string[];
  readonly builtin?: string[];
}

export interface TimeoutOptions {
  readonly connectTimeout?: number;
  readonly timeout?: number;
  readonly idleTimeout?: number;
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

function addRouterOptions(command: Command): Command {
  return command
    .option('--router <url>', 'router base URL (env HARMONY_HPKE_ROUTER)')
    .option('--keys <file>', "the router's key config (application/ohttp-keys file); works offline")
    .option('--key-pin <pin>', "pin the router's public key: sha256:<hex> (env HARMONY_HPKE_KEY_PIN)")
    .option('--api-token <token>', 'API token, sent inside the sealed request (prefer env HARMONY_HPKE_API_TOKEN: argv is visible to other users)');
}

function addConversationOptions(command: Command): Command {
  return command
    .option('--system <text>', 'model identity for the system message')
    .option('--developer <text>', 'developer instructions')
    .addOption(
      new Option('--reasoning-effort <level>', 'reasoning effort (default: medium)').choices(['low', 'medium', 'high']),
    )
    .option('--max-tokens <n>', 'maximum completion tokens (default: 1024)', positiveInt)
    .option('--temperature <t>', 'sampling temperature (0-2; default: the router\'s)', temperature)
    .option('--model <name>', 'model name sent to the router (default: gpt-oss-20b)')
    .option('--conversation <file>', 'continue a saved conversation (openai-harmony JSON)');
}

function addToolOptions(command: Command): Command {
  return command
    .option('--tools <file>', 'function tools: an OpenAI "tools" array or openai-harmony DeveloperContent JSON (repeatable)', collect)
    .option('--builtin <tools>', 'built-in tool namespaces in the system message: browser,python', collect);
}

function addToolExecOptions(command: Command): Command {
  return command
    .option('--tool-exec <cmd>', 'run CMD (via /bin/sh -c) for each tool call: the call as JSON on stdin, its stdout is the answer')
    .option('--max-tool-calls <n>', 'with --tool-exec: most tool calls to answer (default 8)', nonNegativeInt)
    .option('--tool-timeout <duration>', 'with --tool-exec: time limit per command (default 60s)', duration);
}

function addTimeoutOptions(command: Command): Command {
  return command
    .option('--connect-timeout <duration>', 'time to connect and get response headers (default: 10s)', duration)
    .option('--timeout <duration>', 'time for the whole request (default: 10m; smoke: 2m)', duration)
    .option('--idle-timeout <duration>', 'longest gap between verified events; heartbeats do not count (default: 60s)', duration);
}

function addDisplayOptions(command: Command): Command {
  return command
    .option('--show <channels>', 'channels to print: analysis,commentary,final', showList)
    .option('--hide-analysis', 'do not print the analysis channel')
    .addOption(new Option('--raw', "print each decrypted chunk as the old script did: Chunk 1: '<|channel|>'").conflicts('json'))
    .addOption(new Option('--json', 'NDJSON events on stdout (chunk, message, done, error)').conflicts('raw'))
    .option('--strict', 'treat malformed Harmony as an error (exit 9), and an answer cut at --max-tokens too (exit 11)');
}

// `never[]` accepts every command's own parameter types; the action passes commander's values.
type CommandModule = { run: (ctx: CliContext, ...args: never[]) => Promise<number> };
type CommandRunner = (ctx: CliContext, ...args: unknown[]) => Promise<number>;

export function buildProgram(ctx: CliContext, version: string): Command {
  const program = new Command('harmony-hpke');
  program
    .description('Encrypted Harmony requests for gpt-oss routers (HPKE + SSE)')
    .version(version, '-V, --version', 'print the version')
    .option('--debug', 'show stack traces and debug traces (sizes and ids, never secrets)')
    .option('-v, --verbose', 'show timings (time to first byte, first final token, tokens/s)')
    .option('-q, --quiet', 'print only the answer (no progress or notices)')
    .option('--profile <name>', 'router profile from the config file (env HARMONY_HPKE_PROFILE)')
    .option('--config <file>', 'config file (default $XDG_CONFIG_HOME/harmony-hpke/config.json)')
    .showSuggestionAfterError(true)
    .helpCommand(false)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.stdout.write(text),
      writeErr: (text) => ctx.stderr.write(text),
      // Errors are printed by main() in the house one-line format.
      outputError: () => {},
    });

  const action =
    (load: () => Promise<CommandModule>) =>
    async (...args: unknown[]): Promise<void> => {
      const command = args[args.length - 1] as Command;
      const module = await load();
      const positional = args.slice(0, -2);
      const options = command.optsWithGlobals();
      ctx.exitCode = await (module.run as CommandRunner)(ctx, ...positional, options);
    };

  addToolExecOptions(addToolOptions(addDisplayOptions(
    addTimeoutOptions(
      addConversationOptions(
        addRouterOptions(
          program
            .command('ask')
            .description('seal a prompt, send it, decrypt and stream the answer (all in one)')
            .argument('[prompt]', "the prompt; '-' or a pipe reads stdin"),
        ),
      ),
    ),
  )))
    .option('--save <file>', 'save the conversation with the answer (openai-harmony JSON)')
    .option('--session <file>', 'where to write the session file')
    .option('--local', 'use the embedded local router even if a router is configured')
    .addHelpText(
      'after',
      '\nExamples:\n  harmony-hpke ask "What is 2+2?"\n  echo "Explain HPKE" | harmony-hpke ask --router https://router.example --hide-analysis\n',
    )
    .action(action(() => import('../commands/ask.js')));

  addToolOptions(addConversationOptions(
    addRouterOptions(
      program
        .command('create-request')
        .description('seal a request and print it (JSON envelope, raw body or a curl command)')
        .argument('[prompt]', "the prompt; '-' or a pipe reads stdin"),
    ),
  ))
    .option('--session <file>', 'where to write the session file (default: the state dir, by request id)')
    .option('--body-out <file>', 'also write the raw sealed body to this file')
    .option('--curl', 'print a ready curl command line instead of the JSON envelope')
    .addHelpText(
      'after',
      '\nExample:\n  harmony-hpke create-request "What is 2+2?" --router http://127.0.0.1:8080 | harmony-hpke send | harmony-hpke decode\n',
    )
    .action(action(() => import('../commands/create-request.js')));

  addDisplayOptions(
    addTimeoutOptions(
      program
        .command('send')
        .description('POST a sealed request envelope and stream the raw SSE response to stdout')
        .argument('[envelope]', "envelope file from create-request ('-' or a pipe reads stdin)"),
    ),
  )
    .option('--decode', 'decode the response in the same process instead of printing raw SSE')
    .option('--session <file>', 'session file for --decode (default: the one named in the envelope)')
    .option('--buffer', 'with --decode: release nothing until the final chunk verifies')
    .option('--retries <n>', 'retries for connection failures, 429 and 503 (default: 2)', nonNegativeInt)
    .action(action(() => import('../commands/send.js')));

  addDisplayOptions(
    program
      .command('decode')
      .description('decrypt and verify a saved or piped SSE response, printing it like ask')
      .argument('[stream]', "SSE file ('-' or a pipe reads stdin)"),
  )
    .option('--session <file>', 'session file (default: the stored session that opens the stream)')
    .option('--buffer', 'release nothing until the final chunk verifies')
    .action(action(() => import('../commands/decode.js')));

  program
    .command('inspect')
    .description('tell what a file is and show it (key config, sealed request, session, SSE stream, conversation, completion)')
    .argument('[file]', "the file ('-' or a pipe reads stdin)")
    .option('--session <file>', 'session file, to decrypt an SSE stream')
    .option('--json', 'machine-readable output')
    .action(action(() => import('../commands/inspect.js')));

  addTimeoutOptions(
    program
      .command('smoke')
      .description('end-to-end check of a deployed router for CI (exit code on failure)')
      .option('--router <url>', 'router base URL')
      .option('--keys <file>', "the router's key config file")
      .option('--key-pin <pin>', "pin the router's public key: sha256:<hex>")
      .option('--api-token <token>', 'API token, sent inside the sealed request (prefer env HARMONY_HPKE_API_TOKEN)')
      .option('--prompt <text>', 'canary prompt (repeatable)', collect)
      .option('--expect <regex>', 'regular expression the final answer must match')
      .option('--tools <file>', 'function tools for the canary prompts (repeatable; see ask --tools)', collect)
      .option('--expect-tool-call <name>', 'pass only when the answer is a call to this tool (functions.NAME) with JSON arguments')
      .option('--expect-args <regex>', "with --expect-tool-call: regular expression the call's arguments (compact JSON) must match")
      .option('--max-tokens <n>', 'maximum completion tokens', positiveInt)
      .option('--junit <file>', 'write a JUnit XML report')
      .option('--json', 'one NDJSON result per prompt'),
  ).action(action(() => import('../commands/smoke.js')));

  const keys = program.command('keys').description('router keys and pinned router fingerprints').helpCommand(false);
  keys
    .command('generate')
    .description('generate a router key (private key file, mode 0600)')
    .requiredOption('--out <file>', 'where to write the key file')
    .option('--key-id <n>', 'key id (0-255)', nonNegativeInt)
    .option('--force', 'overwrite an existing file')
    .option('--json', 'machine-readable output')
    .action(action(() => import('../commands/keys-generate.js')));
  keys
    .command('show')
    .description('show a key file or key config: ids, suites, fingerprint (never the private key)')
    .argument('<file>', 'router key file or application/ohttp-keys file')
    .option('--json', 'machine-readable output')
    .option('--config-out <file>', 'write the public key config (application/ohttp-keys) to a file')
    .action(action(() => import('../commands/keys-show.js')));
  addTimeoutOptions(
    keys
      .command('fetch')
      .description("fetch a router's key config (application/ohttp-keys)")
      .option('--router <url>', 'router base URL')
      .option('--key-pin <pin>', 'refuse a key that does not match this pin')
      .option('--out <file>', 'write the key config to a file (default: describe it on stdout)')
      .option('--json', 'machine-readable output'),
  ).action(action(() => import('../commands/keys-fetch.js')));
  addTimeoutOptions(
    keys
      .command('pin')
      .description("pin a router's key fingerprint (trust on first use, or a given fingerprint)")
      .option('--router <url>', 'router base URL')
      .option('--fingerprint <pin>', 'pin this fingerprint instead of fetching it')
      .option('--remove', 'remove the pin for this router')
      .option('--list', 'list pinned routers')
      .option('--json', 'machine-readable output'),
  ).action(action(() => import('../commands/keys-pin.js')));

  keys
    .command('help')
    .description('show help for keys or one of its subcommands')
    .argument('[command]', 'generate, show, fetch or pin')
    .action(async (name: string | undefined) => {
      const { run } = await import('../commands/help.js');
      ctx.exitCode = await run(ctx, name === undefined ? 'keys' : `keys ${name}`, program);
    });
  const apiToken = keys.command('api-token').description("the router's client API tokens");
  apiToken
    .command('create')
    .description('make a new API token: print it once, append its hash to the token file (mode 0600)')
    .requiredOption('--name <name>', 'name for logs and metrics (letters, digits, . _ -)')
    .option('--file <file>', 'API token file (env HARMONY_HPKE_API_KEYS; default api-tokens.jsonl)')
    .option('--max-streams <n>', 'limit: concurrent streams per router process', positiveInt)
    .option('--requests-per-minute <n>', 'limit: requests per minute per router process', positiveInt)
    .option('--max-tokens <n>', 'limit: largest max_tokens per request', positiveInt)
    .option('--json', 'print {"name","token","file"}')
    .action(action(() => import('../commands/keys-api-token.js')));

  const config = program.command('config').description('show the resolved settings and where each came from').helpCommand(false);
  addRouterOptions(
    config
      .command('show')
      .description('each setting (router, keys, key_pin, model, ...) with its source: flag, environment, config file, default')
      .option('--model <name>', 'as for ask')
      .option('--max-tokens <n>', 'as for ask', positiveInt)
      .addOption(new Option('--reasoning-effort <level>', 'as for ask').choices(['low', 'medium', 'high']))
      .option('--json', 'one JSON object: {setting: {value, source}}'),
  ).action(action(() => import('../commands/config-show.js')));

  const sessions = program.command('sessions').description('stored session files: list them, prune old ones').helpCommand(false);
  sessions
    .command('list')
    .description('list stored sessions (request id, age, router; never a secret)')
    .option('--json', 'one NDJSON record per session')
    .action(async (options: Record<string, unknown>, command: Command) => {
      const { run } = await import('../commands/sessions.js');
      ctx.exitCode = await run(ctx, 'list', { ...command.optsWithGlobals(), ...options });
    });
  sessions
    .command('prune')
    .description('remove stored sessions older than --older-than, and unusable ones')
    .option('--older-than <duration>', 'age to remove (default: 7d)', duration)
    .option('--dry-run', 'say what would be removed, remove nothing')
    .option('--json', 'one NDJSON record per removed session')
    .action(async (options: Record<string, unknown>, command: Command) => {
      const { run } = await import('../commands/sessions.js');
      ctx.exitCode = await run(ctx, 'prune', { ...command.optsWithGlobals(), ...options });
    });

  program
    .command('serve')
    .description('run the reference router (built-in echo engine or an upstream inference server)')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'port, 0-65535 (0 picks a free one)', port, 8080)
    .option('--key <file>', 'router key file (repeatable: the first is current, others retired)', collect)
    .option('--grace-period <duration>', 'how long retired keys stay accepted', duration)
    .addOption(new Option('--engine <name>', 'built-in engine').choices(['echo']).default('echo'))
    .option('--engine-delay-ms <ms>', 'echo engine: delay between tokens', nonNegativeInt)
    .option('--upstream <url>', 'inference server to forward to')
    .addOption(
      new Option('--upstream-kind <kind>', 'kind of inference server').choices([
        'vllm',
        'sglang',
        'llamacpp',
        'openai-completions',
        'ollama',
      ]),
    )
    .option('--upstream-model <name>', 'model name to send upstream')
    .option('--upstream-timeout <duration>', 'upstream first-byte and idle timeout', duration)
    .option('--max-request-bytes <n>', 'largest request body accepted', positiveInt)
    .option('--max-streams <n>', 'concurrent streams before answering 503', positiveInt)
    .option('--max-connections <n>', 'open connections (default: 3/4 of the open-file limit, at most 16384)', positiveInt)
    .option('--max-uploads <n>', 'request bodies read at once; when full the slowest is cut (default 128)', positiveInt)
    .option('--min-upload-rate <bytes/s>', 'slowest upload accepted after its first second (default 65536)', positiveInt)
    .option('--body-timeout <duration>', 'longest time to receive a whole request body (default 30s)', duration)
    .option('--write-timeout <duration>', 'longest wait for a client to read before its stream is cut (default 30s)', duration)
    .option('--close-timeout <duration>', 'on SIGTERM, longest wait for open streams before sockets are cut (default 10s)', duration)
    .option('--replay-cache-size <n>', 'replay store capacity; full means 503, never forgetting (default 500000)', positiveInt)
    .option('--render-workers <n>', 'worker threads that render and tokenize prompts (0: on the event loop; default 2)', nonNegativeInt)
    .option('--render-timeout <duration>', 'longest render of one conversation before its stream fails (default 5s)', duration)
    .option('--max-prompt-tokens <n>', 'largest rendered prompt in tokens (default 131072)', positiveInt)
    .option('--heartbeat <duration>', 'idle heartbeat interval', duration)
    .option('--ready-file <file>', 'write {"url","fingerprint"} here once listening')
    .addOption(new Option('--log-format <format>', 'request log format').choices(['text', 'json']).default('text'))
    .option('--json', 'print the ready line as JSON')
    .option('--test-faults', 'honour the X-Harmony-Hpke-Test-Fault request header (tests only)')
    .option('--fault <mode>', 'inject a fault in every stream (tests only): malformed-header, stall, disconnect:N, error:N')
    .option('--api-keys <file>', 'API token file (hashes, mode 0600; env HARMONY_HPKE_API_KEYS): clients must send a listed token')
    .option('--replay-store <url>', 'shared replay store redis://HOST:PORT[/DB] (env HARMONY_HPKE_REPLAY_STORE; default in memory)')
    .option('--replay-store-timeout <duration>', 'bound on each replay store call (default 200ms)', duration)
    .option('--metrics-port <port>', 'serve Prometheus metrics at GET /metrics on this port (0: a free one)', nonNegativeInt)
    .option('--metrics-host <host>', 'address of the metrics listener (default 127.0.0.1)')
    .option('--router-config <file>', 'router config file (JSON): Harmony and fleet settings')
    .addOption(
      new Option('--reasoning-effort <level>', 'reasoning effort for requests that set none (env HARMONY_REASONING_EFFORT)').choices([
        'low',
        'medium',
        'high',
      ]),
    )
    .option('--include-analysis <bool>', 'false: withhold the analysis channel from the stream (env HARMONY_INCLUDE_ANALYSIS)')
    .option('--harmony <on|off>', 'off: do not render Harmony; forward to a chat-completions upstream (env HARMONY_ENABLED)')
    .addOption(new Option('--upstream-api <api>', 'upstream API: completions (token ids) or chat').choices(['completions', 'chat']))
    .action(action(() => import('../commands/serve.js')));

  program
    .command('completion')
    .description('print a shell completion script')
    .argument('<shell>', 'bash, zsh or fish')
    .action(async (shell: string) => {
      const { run } = await import('../commands/completion.js');
      ctx.exitCode = await run(ctx, shell, program);
    });

  program
    .command('help')
    .description('show help for a command, or a topic: exit-codes')
    .argument('[topic...]', "a command name ('keys pin' for a subcommand) or exit-codes")
    .action(async (topic: string[]) => {
      const { run } = await import('../commands/help.js');
      ctx.exitCode = await run(ctx, topic.length > 0 ? topic.join(' ') : undefined, program);
    });

  return program;
}
