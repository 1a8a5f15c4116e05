/** `harmony-hpke serve`: the reference router, until SIGINT/SIGTERM (then a graceful stop, exit 0). */
import { generateRouterKey, type RouterKey } from '../hpke/index.js';
import { NetworkError, UsageError } from '../errors.js';
import type { CliContext } from '../cli/context.js';
import { ExitCode } from '../cli/exit-codes.js';
import { terminalFor } from '../cli/output.js';
import { oneLineText, safeJson } from '../cli/safe-text.js';
import { readFile, rm } from 'node:fs/promises';
import { writeUserFile } from '../client/fs-atomic.js';
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
    record.completion_tokens !== undefined ? `tokens=${record.prompt_tokens ?? 0}+${record.completion_tokens}` : undefined,
    `${record.duration_ms}ms`,
  ];
  // Fields may carry an upstream's words (error, problem): one line, no control characters.
  return `${fields.filter((field) => field !== undefined).map((field) => oneLineText(field as string)).join(' ')}\n`;
}

export async function run(ctx: CliContext, options: ServeOptions): Promise<number> {
  const terminal = terminalFor(ctx, options);
  // A ready file left by an earlier run must never announce this one before it is listening.
  if (options.readyFile) await removeReadyFile(options.readyFile);
  const keyFiles = options.key ?? [];
  const keys: RouterKey[] = [];
  for (const file of keyFiles) keys.push(await readRouterKeyFile(file));
  const ephemeral = keys.length === 0;
  if (ephemeral) keys.push(await generateRouterKey());

  const engine = await createEngine(options);
  const router = await listen(options, () => startRouter({
    host: options.host,
    port: options.port,
    keys,
    engine,
    retiredGraceMs: options.gracePeriod,
    maxRequestBytes: options.maxRequestBytes,
    maxStreams: options.maxStreams,
    heartbeatMs: options.heartbeat,
    upstreamTimeoutMs: options.upstreamTimeout,
    testFaults: options.testFaults ?? false,
    log: (record) => {
      if (!options.quiet) ctx.stderr.write(formatLog(record, options.logFormat));
    },
  }));

  const ready = { url: router.url, fingerprint: router.fingerprint, engine: engine.name, ephemeral_key: ephemeral };
  const readyText = `${JSON.stringify({ url: router.url, fingerprint: router.fingerprint })}\n`;
  if (options.readyFile) {
    try {
      await writeUserFile(options.readyFile, readyText, 'ready file');
    } catch (error) {
      // No half-start: a router nobody is told about stops before the error is reported.
      await router.close();
      throw error;
    }
  }
  if (options.json) {
    terminal.jsonLine(ready);
  } else {
    terminal.writeOut(
      `harmony-hpke router listening on ${router.url} (key ${router.fingerprint}${ephemeral ? ', ephemeral' : ''}, engine ${oneLineText(engine.name)})\n`,
    );
  }

  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  terminal.info('shutting down: finishing open streams');
  await router.close();
  if (options.readyFile) await removeReadyFile(options.readyFile, readyText);
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
    throw new UsageError('READY_FILE_UNWRITABLE', `cannot replace the ready file ${path}: ${code ?? 'error'}`, { cause: error });
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
