/** `harmony-hpke serve`: the reference router, until SIGINT/SIGTERM (then a graceful stop, exit 0). */
import { generateRouterKey, type RouterKey } from '../hpke/index.js';
import { NetworkError, UsageError } from '../core/errors.js';
import type { CliContext } from '../cli/context.js';
import { ExitCode } from '../cli/exit-codes.js';
import { terminalFor } from '../cli/output.js';
import { oneLineText, safeJson } from '../cli/safe-text.js';
import { readFile, rm } from 'node:fs/promises';
import { writeUserFile } from '../node/fs-atomic.js';
import { readRouterKeyFile } from '../router/key-file.js';
import { createEchoEngine } from '../router/engines/echo.js';
import { parseFault, startRouter, type RequestLog } from '../router/server.js';
import type { Engine } from '../router/engine.js';
import type { ApiTokenTable } from '../router/auth/tokens.js';
import type { ReplayStore } from '../router/replay-cache.js';
import type { RouterMetrics } from '../router/metrics.js';
import { readRouterConfigFile, resolveHarmonySettings, type HarmonySettings, type RouterConfigFile } from '../router/settings.js';

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
  /** API token file (hashes); unset: open access. */
  readonly apiKeys?: string;
  /** `redis://HOST:PORT[/DB]`; unset: the in-memory replay store. */
  readonly replayStore?: string;
  readonly replayStoreTimeout?: number;
  readonly metricsPort?: number;
  readonly metricsHost?: string;
  readonly routerConfig?: string;
  readonly reasoningEffort?: string;
  readonly includeAnalysis?: string;
  readonly harmony?: string;
  readonly upstreamApi?: string;
}

async function createEngine(options: ServeOptions, harmony: HarmonySettings): Promise<Engine> {
  if (!harmony.harmony && harmony.upstreamApi !== 'chat') {
    throw new UsageError('USAGE_HARMONY', '--harmony off forwards to a chat-completions upstream: it cannot use --upstream-api completions');
  }
  if (harmony.harmony && harmony.upstreamApi === 'chat') {
    throw new UsageError('USAGE_HARMONY', '--upstream-api chat means the upstream renders Harmony: it needs --harmony off');
  }
  if (options.upstream === undefined) {
    if (options.upstreamKind !== undefined) {
      throw new UsageError('USAGE_UPSTREAM', '--upstream-kind needs --upstream URL');
    }
    if (!harmony.harmony) {
      throw new UsageError('USAGE_HARMONY', '--harmony off needs an upstream: --upstream URL --upstream-kind KIND --upstream-api chat');
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
    api: harmony.upstreamApi,
    tokenizer: harmonyEncoding(),
  });
}

function formatLog(record: RequestLog, format: 'text' | 'json'): string {
  if (format === 'json') return `${safeJson(record)}\n`;
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
    record.token !== undefined ? `token=${record.token}` : undefined,
    record.completion_tokens !== undefined ? `tokens=${record.prompt_tokens ?? 0}+${record.completion_tokens}` : undefined,
    `${record.duration_ms}ms`,
  ];
  // Fields may carry an upstream's words (error, problem): one line, no control characters.
  return `${fields.filter((field) => field !== undefined).map((field) => oneLineText(field as string)).join(' ')}\n`;
}

async function readKeys(files: readonly string[]): Promise<RouterKey[]> {
  const keys: RouterKey[] = [];
  for (const file of files) keys.push(await readRouterKeyFile(file));
  return keys;
}

export async function run(ctx: CliContext, options: ServeOptions): Promise<number> {
  const terminal = terminalFor(ctx, options);
  // A ready file left by an earlier run must never announce this one before it is listening.
  if (options.readyFile) await removeReadyFile(options.readyFile);
  const config: RouterConfigFile = options.routerConfig !== undefined ? await readRouterConfigFile(options.routerConfig) : {};
  const harmony = resolveHarmonySettings(options, ctx.env, config);
  const apiKeysFile = options.apiKeys ?? ctx.env['HARMONY_HPKE_API_KEYS'] ?? config.api_keys;
  const replayUrl = options.replayStore ?? ctx.env['HARMONY_HPKE_REPLAY_STORE'] ?? config.replay_store;
  const metricsPort = options.metricsPort ?? config.metrics_port;
  const metricsHost = options.metricsHost ?? config.metrics_host ?? '127.0.0.1';

  const keyFiles = options.key ?? [];
  const keys = await readKeys(keyFiles);
  const ephemeral = keys.length === 0;
  if (ephemeral) keys.push(await generateRouterKey());

  let apiTokens: ApiTokenTable | undefined;
  const readTokens = async (file: string) => (await import('../router/auth/token-file.js')).readApiTokenFile(file);
  if (apiKeysFile !== undefined) apiTokens = await readTokens(apiKeysFile);

  const engine = await createEngine(options, harmony);
  let metrics: RouterMetrics | undefined;
  if (metricsPort !== undefined) metrics = new (await import('../router/metrics.js')).RouterMetrics();

  let replayStore: (ReplayStore & { close(): Promise<void> }) | undefined;
  if (replayUrl !== undefined) {
    const { RedisReplayStore } = await import('../router/replay-redis.js');
    const store = new RedisReplayStore({
      url: replayUrl,
      ...(options.replayStoreTimeout !== undefined ? { timeoutMs: options.replayStoreTimeout } : {}),
    });
    await store.connect();
    if (!(await store.ping())) {
      terminal.warn(`the replay store ${store.description} does not answer yet: requests get 503 until it does`);
    }
    replayStore = store;
  }

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
  const router = await listen(options, () => startRouter({
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
    apiTokens: () => apiTokens,
    ...(metrics !== undefined ? { metrics } : {}),
    ...(replayStore !== undefined ? { replayStore } : {}),
    harmony: { reasoningEffort: harmony.reasoningEffort, includeAnalysis: harmony.includeAnalysis },
  }));
  const metricsListener =
    metrics !== undefined && metricsPort !== undefined
      ? await (await import('../router/metrics.js')).startMetricsListener(metrics, metricsHost, metricsPort)
      : undefined;

  // SIGHUP: re-read the key files and the API token file; open streams are not touched. A file
  // that fails to read or parse leaves the running set as it was (and says why on stderr).
  const onHangup = () => {
    void (async () => {
      try {
        const [nextKeys, nextTokens] = await Promise.all([
          keyFiles.length > 0 ? readKeys(keyFiles) : Promise.resolve(undefined),
          apiKeysFile !== undefined ? readTokens(apiKeysFile) : Promise.resolve(undefined),
        ]);
        if (nextKeys) router.reloadKeys(nextKeys);
        if (nextTokens) apiTokens = nextTokens;
        metrics?.reloaded('ok');
        if (logging) terminal.info(
          `reloaded on SIGHUP: key ${router.fingerprint}${nextKeys ? ` (${nextKeys.length} key${nextKeys.length === 1 ? '' : 's'})` : ''}` +
            `${nextTokens ? `, ${nextTokens.size} API token${nextTokens.size === 1 ? '' : 's'}` : ''}`,
        );
      } catch (error) {
        metrics?.reloaded('failed');
        const code = (error as { code?: string }).code ?? 'ERROR';
        if (logging) terminal.warn(`SIGHUP reload failed, keeping the running keys and tokens: ${(error as Error).message} (${code})`);
      }
    })();
  };
  const offHangup = ctx.onHangup?.(onHangup);

  const auth = apiTokens !== undefined ? `API tokens required (${apiTokens.size})` : 'open access: no API tokens';
  const ready = {
    url: router.url,
    fingerprint: router.fingerprint,
    engine: engine.name,
    ephemeral_key: ephemeral,
    auth: apiTokens !== undefined ? 'api-tokens' : 'open',
    replay_store: replayStore !== undefined ? 'redis' : 'memory',
    ...(metricsListener !== undefined ? { metrics_url: metricsListener.url } : {}),
    ...(harmony.includeAnalysis ? {} : { analysis: 'withheld' }),
  };
  const readyText = `${JSON.stringify({ url: router.url, fingerprint: router.fingerprint, ...(metricsListener ? { metrics_url: metricsListener.url } : {}) })}\n`;
  if (options.readyFile) {
    try {
      await writeUserFile(options.readyFile, readyText, 'ready file');
    } catch (error) {
      // No half-start: a router nobody is told about stops before the error is reported.
      offHangup?.();
      await router.close();
      await metricsListener?.close();
      await replayStore?.close();
      throw new UsageError('READY_FILE_UNWRITABLE', (error as Error).message, { cause: error });
    }
  }
  if (options.json) {
    terminal.jsonLine(ready);
  } else {
    terminal.writeOut(
      `harmony-hpke router listening on ${router.url} (key ${router.fingerprint}${ephemeral ? ', ephemeral' : ''}, engine ${oneLineText(engine.name)}, ${auth}` +
        `${replayStore ? ', replay store redis' : ''}${metricsListener ? `, metrics ${metricsListener.url}` : ''}${harmony.includeAnalysis ? '' : ', analysis withheld'})\n`,
    );
  }

  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  offHangup?.();
  if (logging) terminal.info('shutting down: finishing open streams');
  // A backstop for the whole stop (close() is bounded at --close-timeout + 4 s, the steps after it
  // are small): should anything here still be waiting past that, the process ends anyway.
  ctx.exitSoon?.(ExitCode.Ok, (options.closeTimeout ?? 10_000) + 6_000);
  await router.close();
  if (options.readyFile) await removeReadyFile(options.readyFile, readyText);
  await metricsListener?.close();
  await replayStore?.close();
  // close() is bounded (--close-timeout plus a few seconds); should anything still hold the event
  // loop after it (an engine that ignores its abort signal), the stop must not wait for it.
  ctx.exitSoon?.(ExitCode.Ok, 1_000);
  return ExitCode.Ok;
}

/** Removes the ready file (only if it still holds `ours`, when given); a missing file is fine. */
async function removeReadyFile(path: string, ours?: string): Promise<void> {
  try {
    if (ours !== undefined && (await readFile(path, 'utf8')) !== ours) return;
    await rm(path, { force: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (ours !== undefined) return;
    throw new UsageError('READY_FILE_UNWRITABLE', `cannot write ready file ${path}: ${code === 'ENOTDIR' ? 'a parent is not a directory' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (code ?? 'error')}`, { cause: error });
  }
}

/** Binding failures are the user's (a taken port, a privileged one, an address not on this host): one documented error. */
async function listen<T>(options: ServeOptions, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const where = `${options.host}:${options.port}`;
    if (code === 'EADDRINUSE') throw new NetworkError('ADDRESS_IN_USE', `cannot listen on ${where}: the port is already in use`, { cause: error });
    if (code === 'EACCES' || code === 'EPERM') throw new NetworkError('LISTEN_DENIED', `cannot listen on ${where}: permission denied (ports below 1024 need privileges)`, { cause: error });
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') {
      throw new NetworkError('LISTEN_ADDRESS', `cannot listen on ${where}: no such address on this host`, { cause: error });
    }
    throw error;
  }
}
