/**
 * Rendering and tokenizing off the event loop: a small pool of worker_threads (render-worker.ts),
 * one job per worker at a time, a bounded queue, and a deadline per job after which the worker is
 * terminated (and replaced) and the request fails with `render_timeout`. So one conversation that
 * is slow to tokenize can hold one worker for at most the deadline, and never the event loop.
 * Large conversations (LARGE_JOB_BYTES and more) may occupy all workers but one: small ones, every
 * interactive request, always find a worker that no large conversation can take.
 *
 * Workers start lazily: one is started (and warmed) with the pool, the others only when a job finds
 * every started worker busy, up to `size`. Each costs some 0.7 s of CPU to warm (the rank table and
 * its encoder) and about 75 MB: a router that never sees two renders at once pays for one.
 *
 * When the worker module is not beside this one as JavaScript (running from the TypeScript
 * sources, e.g. under vitest) or `size` is 0, renders run inline on the event loop, with the same
 * limits but no deadline.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { RequestPayload } from '../hpke/index.js';
import { RenderError, renderBounded, type RenderedPrompt, type RenderLimits } from './render.js';
import type { RenderJob, RenderReply } from './render-worker.js';

export interface RenderPoolOptions {
  readonly size: number;
  readonly timeoutMs: number;
  readonly limits: RenderLimits;
  /** Jobs waiting for a worker before new ones fail with `overloaded`. */
  readonly maxQueue: number;
}

/** A conversation of this many bytes of request plaintext or more is a large job. */
export const LARGE_JOB_BYTES = 32 * 1024;

interface Pending {
  readonly job: RenderJob;
  readonly large: boolean;
  readonly resolve: (prompt: RenderedPrompt) => void;
  readonly reject: (error: Error) => void;
  readonly signal: AbortSignal | undefined;
}

interface Slot {
  readonly worker: Worker;
  ready: boolean;
  current: (Pending & { timer: NodeJS.Timeout }) | undefined;
}

/** The worker module beside this one, or undefined (TypeScript sources). */
export function renderWorkerPath(): string | undefined {
  const path = fileURLToPath(new URL('./render-worker.js', import.meta.url));
  return existsSync(path) ? path : undefined;
}

export class RenderPool {
  private readonly slots = new Set<Slot>();
  private readonly queue: Pending[] = [];
  private workerPath: string | undefined;
  /** Workers that died before they were ready, in a row: after three the pool renders inline. */
  private startFailures = 0;
  private nextId = 1;
  private closed = false;
  /** Jobs cut by the deadline, for tests and logs. */
  timeouts = 0;

  constructor(private readonly options: RenderPoolOptions) {
    this.workerPath = options.size > 0 ? renderWorkerPath() : undefined;
    if (this.workerPath !== undefined) this.spawn();
  }

  /** Workers started so far (warming or ready), at most `size`. */
  get workers(): number {
    return this.slots.size;
  }

  get usesWorkers(): boolean {
    return this.workerPath !== undefined;
  }

  /** Renders `payload` (its conversation from `source` when given); `sizeBytes` (the request plaintext's size) decides whether it is a large job. */
  render(payload: RequestPayload, nowMs: number, signal?: AbortSignal, sizeBytes = 0, source?: string): Promise<RenderedPrompt> {
    if (this.workerPath === undefined || this.closed) {
      return new Promise((resolve) => resolve(renderBounded(payload, new Date(nowMs), this.options.limits, source)));
    }
    if (this.queue.length >= this.options.maxQueue) {
      return Promise.reject(new RenderError('overloaded', 'too many conversations are waiting to be rendered'));
    }
    return new Promise<RenderedPrompt>((resolve, reject) => {
      const pending: Pending = {
        job: { id: this.nextId++, payload, nowMs, limits: this.options.limits, ...(source !== undefined ? { source } : {}) },
        large: sizeBytes >= LARGE_JOB_BYTES,
        resolve,
        reject,
        signal,
      };
      this.queue.push(pending);
      signal?.addEventListener(
        'abort',
        () => {
          // Queued: leaves the queue. Running: the request stops waiting at once; the worker
          // finishes (or meets its deadline) and its answer is dropped.
          const index = this.queue.indexOf(pending);
          if (index >= 0) this.queue.splice(index, 1);
          reject(new RenderError('overloaded', 'the request was cancelled while it was being rendered'));
        },
        { once: true },
      );
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.queue.splice(0)) pending.reject(new RenderError('overloaded', 'the router is shutting down'));
    await Promise.all([...this.slots].map((slot) => slot.worker.terminate()));
    this.slots.clear();
  }

  private spawn(): Slot {
    const worker = new Worker(this.workerPath!);
    const slot: Slot = { worker, ready: false, current: undefined };
    this.slots.add(slot);
    worker.unref();
    worker.on('message', (message: RenderReply | { ready: true }) => {
      if ('ready' in message) {
        slot.ready = true;
        this.startFailures = 0;
        this.dispatch();
        return;
      }
      const current = slot.current;
      if (current === undefined || current.job.id !== message.id) return;
      clearTimeout(current.timer);
      slot.current = undefined;
      if (message.ok) {
        current.resolve({ tokens: Array.from(message.tokens), conversation: message.conversation, stopTokens: message.stopTokens });
      } else {
        current.reject(new RenderError(message.code === 'internal' ? 'bad_conversation' : message.code, message.message));
      }
      this.dispatch();
    });
    const lost = () => {
      if (!this.slots.delete(slot)) return;
      if (!slot.ready && !this.closed && ++this.startFailures >= 3) {
        // Workers cannot start here: render inline rather than never.
        this.workerPath = undefined;
        for (const pending of this.queue.splice(0)) {
          try {
            pending.resolve(renderBounded(pending.job.payload, new Date(pending.job.nowMs), this.options.limits));
          } catch (error) {
            pending.reject(error as Error);
          }
        }
        return;
      }
      if (slot.current !== undefined) {
        clearTimeout(slot.current.timer);
        slot.current.reject(new RenderError('bad_conversation', 'the render worker stopped'));
        slot.current = undefined;
      }
      if (!this.closed) {
        this.spawn();
        this.dispatch();
      }
    };
    worker.on('error', lost);
    worker.on('exit', lost);
    return slot;
  }

  private dispatch(): void {
    if (this.closed) return;
    for (;;) {
      const idle = [...this.slots].find((slot) => slot.ready && slot.current === undefined);
      if (idle === undefined) {
        // Every started worker is busy or warming: start one more, if the pool may grow.
        const warming = [...this.slots].some((slot) => !slot.ready);
        if (!warming && this.queue.length > 0 && this.slots.size < this.options.size && this.workerPath !== undefined) this.spawn();
        return;
      }
      // Large jobs may hold all workers but one (with a single worker: that one).
      const busyLarge = [...this.slots].filter((slot) => slot.current?.large === true).length;
      const largeAllowed = busyLarge < Math.max(1, this.options.size - 1);
      // Cancelled jobs leave the queue on their own (the abort listener in render()).
      const at = this.queue.findIndex((pending) => !pending.signal?.aborted && (!pending.large || largeAllowed));
      if (at < 0) return;
      const pending = this.queue.splice(at, 1)[0]!;
      const slot = idle;
      const timer = setTimeout(() => {
        // Over its deadline: the worker is stopped mid-job (terminate interrupts running JS).
        this.timeouts += 1;
        slot.current = undefined;
        this.slots.delete(slot);
        void slot.worker.terminate();
        this.spawn();
        pending.reject(new RenderError('render_timeout', `rendering took longer than ${this.options.timeoutMs} ms`));
        this.dispatch();
      }, this.options.timeoutMs);
      slot.current = { ...pending, timer };
      slot.worker.postMessage(pending.job);
    }
  }
}
