/**
 * The render pool starts its workers lazily: one with the pool, more only when renders overlap.
 * Runs the built worker (dist/, as serve does: under the TypeScript sources the pool renders
 * inline), in-process.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const built = new URL('../../dist/src/router/render-pool.js', import.meta.url);

interface Pool {
  readonly workers: number;
  readonly usesWorkers: boolean;
  render(payload: unknown, nowMs: number): Promise<{ tokens: number[] }>;
  close(): Promise<void>;
}

function payload(prompt: string): unknown {
  return { v: 1, rid: 'AAAAAAAAAAAAAAAAAAAAAA', iat: 0, model: 'gpt-oss-20b', params: {}, conversation: { messages: [{ role: 'user', content: prompt }] } };
}

describe.skipIf(!existsSync(built))('render pool (built worker)', () => {
  it('starts one worker, renders with it, and adds a second only when two renders overlap', async () => {
    const { RenderPool } = (await import(built.href)) as { RenderPool: new (options: unknown) => Pool };
    const pool = new RenderPool({ size: 2, timeoutMs: 60_000, limits: { maxPromptTokens: 100_000, maxDepth: 64 }, maxQueue: 16 });
    try {
      expect(pool.usesWorkers).toBe(true);
      expect(pool.workers).toBe(1);
      const alone = await pool.render(payload('What is 2+2?'), 0);
      expect(alone.tokens.length).toBeGreaterThan(10);
      expect(pool.workers).toBe(1);
      const both = await Promise.all([pool.render(payload('one'), 0), pool.render(payload('two'), 0)]);
      expect(both.every((prompt) => prompt.tokens.length > 10)).toBe(true);
      expect(pool.workers).toBe(2);
      // Never more than its size.
      await Promise.all(Array.from({ length: 6 }, (_, index) => pool.render(payload(`job ${index}`), 0)));
      expect(pool.workers).toBe(2);
    } finally {
      await pool.close();
    }
  }, 60_000);
});
