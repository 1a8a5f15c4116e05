/**
 * A render worker (worker_threads): conversation to prompt tokens off the router's event loop.
 * One job at a time; the pool (render-pool.ts) terminates the worker when a job overruns its
 * deadline. Its encoding (render.ts, src/node/harmony.ts) reads the tokenizer's ranks from the
 * build-time copy when there is one, as the CLI does.
 */
import { parentPort } from 'node:worker_threads';
import type { RequestPayload } from '../hpke/index.js';
import { harmonyEncoding, RenderError, renderBounded, type RenderLimits } from './render.js';

export interface RenderJob {
  readonly id: number;
  readonly payload: RequestPayload;
  readonly nowMs: number;
  readonly limits: RenderLimits;
  /** The request plaintext, when its conversation is read losslessly (render.ts losslessSource). */
  readonly source?: string;
}

export type RenderReply =
  | { readonly id: number; readonly ok: true; readonly tokens: Uint32Array; readonly conversation: { messages: unknown[] }; readonly stopTokens: number[] }
  | { readonly id: number; readonly ok: false; readonly code: RenderError['code'] | 'internal'; readonly message: string };

const port = parentPort;
if (port !== null) {
  // Warm up (the rank table, the BPE core: a second or more on a busy machine) before taking jobs,
  // so the first job's deadline is not spent loading.
  harmonyEncoding();
  renderBounded(
    { v: 1, rid: 'warm-up', iat: 0, model: 'warm-up', params: {}, conversation: { messages: [{ role: 'user', content: 'warm up' }] } } as unknown as RequestPayload,
    new Date(0),
    { maxPromptTokens: 1_000, maxDepth: 64 },
  );
  port.postMessage({ ready: true });
  port.on('message', (job: RenderJob) => {
    let reply: RenderReply;
    try {
      const prompt = renderBounded(job.payload, new Date(job.nowMs), job.limits, job.source);
      reply = {
        id: job.id,
        ok: true,
        tokens: Uint32Array.from(prompt.tokens),
        conversation: prompt.conversation as { messages: unknown[] },
        stopTokens: prompt.stopTokens,
      };
    } catch (error) {
      reply =
        error instanceof RenderError
          ? { id: job.id, ok: false, code: error.code, message: error.message }
          : { id: job.id, ok: false, code: 'internal', message: 'the render worker failed' };
    }
    if (reply.ok) port.postMessage(reply, [reply.tokens.buffer as ArrayBuffer]);
    else port.postMessage(reply);
  });
}
