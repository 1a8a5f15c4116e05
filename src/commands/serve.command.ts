/** `serve`: its flags; the handler (serve.ts, and with it the router) loads on use. */
import { Option, type Command } from 'commander';
import type { CliContext } from '../cli/context.js';
import { collect, duration, nonNegativeInt, port, positiveInt, REASONING_EFFORTS } from '../cli/flags.js';
import type { ServeOptions } from './serve.js';

export function serveCommand(program: Command, ctx: CliContext): Command {
  return program
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
    // Test-only fault injection (docs/router.md): accepted, never shown in --help or completions.
    .addOption(new Option('--test-faults', 'honour the X-Harmony-Hpke-Test-Fault request header (tests only)').hideHelp())
    .addOption(new Option('--fault <mode>', 'inject a fault in every stream (tests only): malformed-header, stall, disconnect:N, error:N').hideHelp())
    .option('--api-keys <file>', 'API token file (hashes, mode 0600; env HARMONY_HPKE_API_KEYS): clients must send a listed token')
    .option('--replay-store <url>', 'shared replay store redis://HOST:PORT[/DB] (env HARMONY_HPKE_REPLAY_STORE; default in memory)')
    .option('--replay-store-timeout <duration>', 'bound on each replay store call (default 200ms)', duration)
    .option('--metrics-port <port>', 'serve Prometheus metrics at GET /metrics on this port (0: a free one)', nonNegativeInt)
    .option('--metrics-host <host>', 'address of the metrics listener (default 127.0.0.1)')
    .option('--router-config <file>', 'router config file (JSON): Harmony and fleet settings')
    .addOption(
      new Option('--reasoning-effort <level>', 'reasoning effort for requests that set none (env HARMONY_REASONING_EFFORT)').choices(
        REASONING_EFFORTS,
      ),
    )
    .option('--include-analysis <bool>', 'false: withhold the analysis channel from the stream (env HARMONY_INCLUDE_ANALYSIS)')
    .option('--harmony <on|off>', 'off: do not render Harmony; forward to a chat-completions upstream (env HARMONY_ENABLED)')
    .addOption(new Option('--upstream-api <api>', 'upstream API: completions (token ids) or chat').choices(['completions', 'chat']))
    .action(async (_options: unknown, self: Command) => {
      const { run } = await import('./serve.js');
      ctx.exitCode = await run(ctx, self.optsWithGlobals<ServeOptions>());
    });
}
