/** `harmony-hpke serve`: the reference router, until SIGINT/SIGTERM (then a graceful stop, exit 0). */
import { generateRouterKey, type RouterKey } from '../hpke/index.js';
import { UsageError } from '../errors.js';
import type { CliContext } from '../cli/context.js';
import { ExitCode } from '../cli/exit-codes.js';
import { terminalFor } from '../cli/output.js';
import { writeFileAtomic } from '../client/fs-atomic.js';
import { readRouterKeyFile } from '../router/key-file.js';
import { createEchoEngine } from '../router/engines/echo.js';
import { parseFault, startRouter, type RequestLog } from '../router/server.js';
import type { Engine } from '../router/engine.js';

export interface ServeOptions {
  readonly host: string;
  readonly port: number;
  readonly key?: string[];
  readonly gracePeriod?: number;
  readonly engine: 'echo';
  readonly engineDelayMs?: number;
  readonly upstream?: string;
  readonly upstreamKind?: 'vllm' | 'sglang' | 'llamacpp' | 'openai-completions' | 'ollama';
  readonly upstreamModel?: string;
  readonly upstreamTimeout?: number;
  readonly maxRequestBytes?: number;
  readonly maxStreams?: number;
  readonly maxConnections?: number;
  readonly maxUploads?: number;
  readonly minUploadRate?: number;
  readonly bodyTimeout?: number;
  readonly writeTimeout?: number;
  readonly closeTimeout?: number;
  readonly replayCacheSize?: number;
  readonly renderWorkers?: number;
  readonly renderTimeout?: number;
  readonly maxPromptTokens?: number;
  readonly heartbeat?: number;
  readonly readyFile?: string;
  readonly logFormat: 'text' | 'json';
  readonly json?: boolean;
  readonly testFaults?: boolean;
  readonly fault?: string;
  readonly quiet?: boolean;
  readonly debug?: boolean;
}

async function createEngine(options: ServeOptions): Promise<Engine> {
  if (options.upstream === undefined) {
    if (options.upstreamKind !== undefined) {
      throw new UsageError('USAGE_UPSTREAM', '--upstream-kind needs --upstream URL');
    }
    const fault = options.fault === undefined ? undefined : parseFault(options.fault);
    if (options.fault !== undefined && fault === undefined) {
      throw new UsageError('USAGE_FAULT', `unknown fault '${options.fault}' (malformed-header, stall, disconnect:N, error:N)`);
    }
    return createEchoEngine({ delayMs: options.engineDelayMs ?? 0, fault });
  }
  if (options.upstreamKind === undefined) {
    throw new UsageError('USAGE_UPSTREAM', '--upstream needs --upstream-kind (vllm, sglang, llamacpp, openai-completions, ollama)');
  }
  const [{ createUpstreamEngine }, { harmonyEncoding }] = await Promise.all([
    import('../router/adapters/index.js'),
    import('../router/render.js'),
  ]);
  return createUpstreamEngine({
    kind: options.upstreamKind,
    url: options.upstream,
    ...(options.upstreamModel !== undefined ? { model: options.upstreamModel } : {}),
    ...(options.upstreamTimeout !== undefined ? { timeoutMs: options.upstreamTimeout } : {}),
    tokenizer: harmonyEncoding(),
  });
}

function formatLog(record: RequestLog, format: 'text' | 'json'): string {
  if (format === 'json') return `${JSON.stringify(record)}\n`;
  const fields = [
    record.time,
    record.method,
    record.path,
    String(record.status),
    record.rid !== undefined ? `rid=${record.rid}` : undefined,
    record.kid !== undefined ? `kid=${record.kid}` : undefined,
    record.finish !== undefined ? `finish=${record.finish}` : undefined,
    record.error !== undefined ? `error=${record.error}` : undefined,
    record.problem !== undefined ? `problem=${record.problem}` : undefined,
    record.completion_tokens !== undefined ? `tokens=${record.prompt_tokens ?? 0}+${record.completion_tokens}` : undefined,
    `${record.duration_ms}ms`,
  ];
  return `${fields.filter((field) => field !== undefined).join(' ')}\n`;
}

export async function run(ctx: CliContext, options: ServeOptions): Promise<number> {
  const terminal = terminalFor(ctx, options);
  const keyFiles = options.key ?? [];
  const keys: RouterKey[] = [];
  for (const file of keyFiles) keys.push(await readRouterKeyFile(file));
  const ephemeral = keys.length === 0;
  if (ephemeral) keys.push(await generateRouterKey());

  const engine = await createEngine(options);
  // Whoever reads our stderr (a log shipper, a pipe) may go away: the next write fails with EPIPE,
  // emitted as an 'error' event that would end the process and cut every open stream. The router
  // stops logging instead and keeps serving.
  let logging = true;
  const stopLogging = () => {
    logging = false;
  };
  const logLine = (line: string) => {
    if (!logging) return;
    try {
      ctx.stderr.write(line);
    } catch {
      stopLogging();
    }
  };
  const errorSource = ctx.stderr as unknown as { on?: (event: 'error', listener: () => void) => unknown };
  if (typeof errorSource.on === 'function') errorSource.on('error', stopLogging);
  const router = await startRouter({
    host: options.host,
    port: options.port,
    keys,
    engine,
    retiredGraceMs: options.gracePeriod,
    maxRequestBytes: options.maxRequestBytes,
    maxStreams: options.maxStreams,
    maxConnections: options.maxConnections,
    maxUploads: options.maxUploads,
    minUploadBytesPerSec: options.minUploadRate,
    bodyTimeoutMs: options.bodyTimeout,
    writeTimeoutMs: options.writeTimeout,
    closeTimeoutMs: options.closeTimeout,
    replayCacheSize: options.replayCacheSize,
    renderWorkers: options.renderWorkers,
    renderTimeoutMs: options.renderTimeout,
    maxPromptTokens: options.maxPromptTokens,
    heartbeatMs: options.heartbeat,
    upstreamTimeoutMs: options.upstreamTimeout,
    testFaults: options.testFaults ?? false,
    log: (record) => {
      if (!options.quiet) logLine(formatLog(record, options.logFormat));
    },
  });

  const ready = { url: router.url, fingerprint: router.fingerprint, engine: engine.name, ephemeral_key: ephemeral };
  if (options.readyFile) {
    await writeFileAtomic(options.readyFile, `${JSON.stringify({ url: router.url, fingerprint: router.fingerprint })}\n`);
  }
  if (options.json) {
    terminal.jsonLine(ready);
  } else {
    terminal.writeOut(
      `harmony-hpke router listening on ${router.url} (key ${router.fingerprint}${ephemeral ? ', ephemeral' : ''}, engine ${engine.name})\n`,
    );
  }

  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  if (logging) terminal.info('shutting down: finishing open streams');
  await router.close();
  // close() is bounded (--close-timeout plus a few seconds); should anything still hold the event
  // loop after it (an engine that ignores its abort signal), the stop must not wait for it.
  setTimeout(() => process.exit(ExitCode.Ok), 1_000).unref();
  return ExitCode.Ok;
}
