/**
 * Shared pieces of the hardening suite (issue 6): the fixed fast-check seed, an in-process run of
 * the CLI through run() (the code path of the binary minus process start-up, for exhaustive
 * cases), a real exchange with an in-process router, secret spellings to search for, and polling.
 */
import { Readable } from 'node:stream';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { run } from '../../src/app/run.js';
import type { CliContext } from '../../src/cli/context.js';
import { generateRouterKey, keyConfigOf, type RouterKey, type Session } from '../../src/hpke/index.js';
import { send } from '../../src/client/http.js';
import { buildConversation, buildPayload, sealForRouter } from '../../src/client/request.js';
import { chooseKey } from '../../src/client/keys.js';
import { startRouter, type RunningRouter } from '../../src/router/server.js';
import { createEchoEngine } from '../../src/router/engines/echo.js';

/** One seed for the whole suite (override with FC_SEED=...); printed in test names and on failure. */
export const SEED = Number(process.env.FC_SEED ?? 20_260_606);

/** Applies the seed to every property of the calling file; fast-check reports seed and path on failure. */
export function useSeed(): number {
  fc.configureGlobal({ seed: SEED, endOnFailure: true });
  return SEED;
}

export interface InProcessResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the command threw something that is neither a typed error nor commander's. */
  readonly uncaught?: unknown;
}

class Collector {
  text = '';
  readonly isTTY = false;
  write(chunk: string | Uint8Array): boolean {
    this.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }
}

/**
 * Runs `harmony-hpke <args>` in this process through run() (src/app/run.ts), the binary's code path
 * minus process start-up. stdin is the given parts (a pipe), or like /dev/null without them; the
 * environment is only `env`.
 */
export async function runInProcess(
  args: readonly string[],
  options: { stdin?: readonly (string | Uint8Array)[]; env?: Record<string, string> } = {},
): Promise<InProcessResult> {
  const stdout = new Collector();
  const stderr = new Collector();
  const stdin = Readable.from((options.stdin ?? []).map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))));
  const ctx: CliContext = {
    stdin: Object.assign(stdin, { isTTY: false }),
    stdinKind: options.stdin === undefined ? 'none' : 'pipe',
    stdout,
    stderr,
    env: { ...(options.env ?? {}) },
    signal: new AbortController().signal,
    exitCode: 0,
  };
  const code = await run(args, ctx);
  // run() maps anything that is neither a typed error nor commander's to this line (exit 1).
  const uncaught = stderr.text.split('\n').find((line) => line.startsWith('harmony-hpke: error: unexpected failure:'));
  return { code, stdout: stdout.text, stderr: stderr.text, ...(uncaught !== undefined ? { uncaught } : {}) };
}

/** The house error line, exactly one, with a code; returns the code. */
export function errorCode(stderr: string): string | undefined {
  const lines = stderr.split('\n').filter((line) => line.startsWith('harmony-hpke: error:'));
  if (lines.length !== 1) return undefined;
  return /\(([A-Z0-9_]+)\)$/.exec(lines[0]!)?.[1];
}

export const ERROR_LINE = /^harmony-hpke: error: .+ \([A-Z0-9_]+\)$/;

/** Exit codes a hostile input may produce: anything documented except 1 (internal: a bug). */
export const DOCUMENTED_FAILURES = new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

/** A complete exchange with an in-process router: the real bytes of every artefact. */
export interface RealExchange {
  readonly key: RouterKey;
  readonly session: Session;
  /** The sealed request body. */
  readonly body: Uint8Array;
  /** The SSE response bytes, as received. */
  readonly sse: Buffer;
  readonly prompt: string;
}

export async function withRouter<T>(fn: (router: RunningRouter, key: RouterKey) => Promise<T>): Promise<T> {
  const key = await generateRouterKey({ keyId: 7 });
  const router = await startRouter({ host: '127.0.0.1', port: 0, keys: [key], engine: createEchoEngine() });
  try {
    return await fn(router, key);
  } finally {
    await router.close();
  }
}

/** Seals `prompt` to the router, POSTs it and reads the whole response. */
export async function exchangeWith(router: RunningRouter, key: RouterKey, prompt: string, maxTokens = 1024): Promise<RealExchange> {
  const conversation = await buildConversation({ prompt });
  const payload = buildPayload(conversation, { model: 'gpt-oss-20b', maxTokens, reasoningEffort: 'low' });
  const selected = chooseKey([keyConfigOf(key)], undefined);
  const sealed = await sealForRouter(router.url, selected, payload);
  const response = await send({ method: 'POST', url: sealed.url, headers: sealed.headers, body: sealed.body, timeouts: { connectMs: 60_000, totalMs: 90_000 } });
  if (response.status !== 200) throw new Error(`router answered ${response.status}`);
  const parts: Buffer[] = [];
  for await (const part of response.body) parts.push(Buffer.from(part));
  return { key, session: sealed.session, body: sealed.body, sse: Buffer.concat(parts), prompt };
}

/** Every spelling of secret bytes that could end up in text: hex (both cases), base64, base64url. */
export function secretSpellings(bytes: Uint8Array): string[] {
  const buffer = Buffer.from(bytes);
  const b64 = buffer.toString('base64');
  return [
    buffer.toString('hex'),
    buffer.toString('hex').toUpperCase(),
    b64,
    b64.replace(/=+$/, ''),
    buffer.toString('base64url'),
  ].filter((spelling, index, all) => spelling.length >= 16 && all.indexOf(spelling) === index);
}

export { waitFor } from '../helpers/wait.js';

/** Resident set size and its peak (kB) of a Linux process, from /proc/<pid>/status. */
export function memoryOf(pid: number): { rssKb: number; peakKb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKb: field('VmRSS'), peakKb: field('VmHWM') };
}

/** Flips bit `bit` of byte `index` in a copy. */
export function flipBit(bytes: Uint8Array, index: number, bit: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[index]! ^= 1 << bit;
  return copy;
}

/**
 * A vLLM completions SSE body (the shape of fixtures/upstreams/vllm) carrying exactly these token
 * ids, `perEvent` ids per event, then the finish reason, the usage chunk and `[DONE]`.
 */
export function vllmBody(ids: readonly number[], finish: 'stop' | 'length' = 'stop', perEvent = 1): string[] {
  const events: string[] = [];
  const chunk = (choice: Record<string, unknown>) =>
    `data: ${JSON.stringify({ id: 'cmpl-hardening', object: 'text_completion', model: 'openai/gpt-oss-20b', choices: [{ index: 0, text: '', logprobs: null, ...choice }], usage: null })}\n\n`;
  for (let at = 0; at < ids.length; at += perEvent) {
    events.push(chunk({ token_ids: ids.slice(at, at + perEvent), finish_reason: null, stop_reason: null }));
  }
  events.push(chunk({ token_ids: [], finish_reason: finish, stop_reason: finish === 'stop' ? (ids.at(-1) ?? null) : null }));
  events.push(`data: ${JSON.stringify({ id: 'cmpl-hardening', object: 'text_completion', choices: [], usage: { prompt_tokens: 10, completion_tokens: ids.length } })}\n\n`);
  events.push('data: [DONE]\n\n');
  return events;
}
