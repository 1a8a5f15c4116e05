import { describe, expect, it, vi } from 'vitest';

import type { EngineEvent } from '../../../src/router/engine.js';
import { createUpstreamEngine, UPSTREAM_KINDS, type UpstreamKind } from '../../../src/router/adapters/index.js';
import { startFakeUpstream, type FakeRoute } from '../../helpers/fake-upstream.js';
import { ANSWER_IDS, engineRequest, run, tokenizer } from './helpers.js';

const ROUTES: Record<UpstreamKind, { path: string; fixture: string }> = {
  vllm: { path: '/v1/completions', fixture: 'vllm/basic.sse' },
  sglang: { path: '/generate', fixture: 'sglang/incremental.sse' },
  llamacpp: { path: '/completion', fixture: 'llamacpp/basic.sse' },
  'openai-completions': { path: '/v1/completions', fixture: 'openai-completions/basic.sse' },
  ollama: { path: '/api/chat', fixture: 'ollama/answer.ndjson' },
};

async function setup(kind: UpstreamKind, route: Partial<FakeRoute>, timeoutMs?: number) {
  const upstream = await startFakeUpstream([{ ...ROUTES[kind], ...route }]);
  const engine = createUpstreamEngine({
    kind,
    url: upstream.url,
    tokenizer,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  });
  return { upstream, engine };
}

describe('adapter failures', () => {
  it('reports a refused connection as UPSTREAM_UNREACHABLE', async () => {
    const upstream = await startFakeUpstream([]);
    const url = upstream.url;
    await upstream.close();
    for (const kind of UPSTREAM_KINDS) {
      const engine = createUpstreamEngine({ kind, url, tokenizer });
      const result = await run(engine, engineRequest());
      expect(result.error?.code, kind).toBe('UPSTREAM_UNREACHABLE');
      expect(result.error?.message, kind).toContain('ECONNREFUSED');
      expect(result.events).toEqual([]);
    }
  });

  it('reports a non-2xx answer as UPSTREAM_HTTP_STATUS with the status, never the body', async () => {
    for (const kind of UPSTREAM_KINDS) {
      for (const status of [400, 401, 503]) {
        const { engine } = await setup(kind, {
          fixture: undefined,
          status,
          body: JSON.stringify({ error: { message: 'prompt was: What is 2+2? sk-live-secret' } }),
        });
        const result = await run(engine, engineRequest());
        expect(result.error?.code, kind).toBe('UPSTREAM_HTTP_STATUS');
        expect(result.error?.status, kind).toBe(status);
        expect(result.error?.message, kind).toBe(`the upstream answered HTTP ${status}`);
        expect(JSON.stringify(result.error), kind).not.toContain('2+2');
      }
    }
  });

  it('never puts the API key in an error', async () => {
    const upstream = await startFakeUpstream([{ path: '/v1/completions', status: 401, body: '{}' }]);
    const engine = createUpstreamEngine({ kind: 'vllm', url: upstream.url, apiKey: 'sk-very-secret', tokenizer });
    const result = await run(engine, engineRequest());
    expect(result.error?.code).toBe('UPSTREAM_HTTP_STATUS');
    expect(upstream.requests[0]?.headers['authorization']).toBe('Bearer sk-very-secret');
    expect(`${result.error?.message} ${String(result.error?.stack)}`).not.toContain('sk-very-secret');
  });

  it('times out with UPSTREAM_TIMEOUT when no response comes', async () => {
    const { upstream, engine } = await setup('vllm', { hang: true }, 150);
    const result = await run(engine, engineRequest());
    expect(result.error?.code).toBe('UPSTREAM_TIMEOUT');
    await vi.waitFor(() => expect(upstream.openConnections()).toBe(0));
  });

  it('times out with UPSTREAM_TIMEOUT when the stream goes idle, and closes the connection', async () => {
    for (const kind of UPSTREAM_KINDS) {
      const { upstream, engine } = await setup(kind, { stallAfter: 8 }, 150);
      const result = await run(engine, engineRequest());
      expect(result.error?.code, kind).toBe('UPSTREAM_TIMEOUT');
      expect(result.done, kind).toBeUndefined();
      await vi.waitFor(() => expect(upstream.openConnections(), kind).toBe(0));
    }
  });

  it('reports a connection dropped mid-stream as UPSTREAM_TRUNCATED', async () => {
    for (const kind of UPSTREAM_KINDS) {
      const { engine } = await setup(kind, { dieAfter: 10 });
      const result = await run(engine, engineRequest());
      expect(result.error?.code, kind).toBe('UPSTREAM_TRUNCATED');
      expect(result.done, kind).toBeUndefined();
    }
  });

  it('reports a body that is not the expected stream as UPSTREAM_BAD_STREAM', async () => {
    for (const kind of UPSTREAM_KINDS) {
      const body = kind === 'ollama' ? 'data: {"x":1}\n' : '{"choices":[{"text":"4"}]}\n\n';
      const { engine } = await setup(kind, { fixture: undefined, body });
      const result = await run(engine, engineRequest());
      expect(result.error?.code, kind).toBe('UPSTREAM_BAD_STREAM');
    }
  });

  it('aborts the upstream request when the request signal aborts: CANCELLED, connection closed', async () => {
    for (const kind of UPSTREAM_KINDS) {
      const { upstream, engine } = await setup(kind, { stallAfter: 8 });
      const controller = new AbortController();
      const iterator = engine.generate(engineRequest({ signal: controller.signal }))[Symbol.asyncIterator]();
      const first = await iterator.next();
      expect(first.done, kind).toBe(false);
      expect((first.value as EngineEvent).type, kind).toBe('tokens');
      expect(upstream.openConnections(), kind).toBe(1);
      controller.abort();
      await expect(iterator.next(), kind).rejects.toMatchObject({ code: 'CANCELLED' });
      await vi.waitFor(() => expect(upstream.openConnections(), kind).toBe(0));
    }
  });

  it('closes the upstream connection when aborted while the consumer holds a batch', async () => {
    const { upstream, engine } = await setup('vllm', { stallAfter: 8 });
    const controller = new AbortController();
    const iterator = engine.generate(engineRequest({ signal: controller.signal }))[Symbol.asyncIterator]();
    await iterator.next();
    // The generator is suspended at a yield and never resumed (as the router does on a client
    // disconnect): the abort alone must close the connection.
    controller.abort();
    await vi.waitFor(() => expect(upstream.openConnections()).toBe(0));
  });

  it('closes the upstream connection when the consumer stops iterating', async () => {
    const { upstream, engine } = await setup('sglang', { stallAfter: 8 });
    for await (const event of engine.generate(engineRequest())) {
      expect(event.type).toBe('tokens');
      break;
    }
    await vi.waitFor(() => expect(upstream.openConnections()).toBe(0));
  });

  it('sends nothing when the signal is already aborted', async () => {
    const { upstream, engine } = await setup('vllm', {});
    const controller = new AbortController();
    controller.abort();
    const result = await run(engine, engineRequest({ signal: controller.signal }));
    expect(result.error?.code).toBe('CANCELLED');
    expect(upstream.requests).toHaveLength(0);
    expect(upstream.totalConnections()).toBe(0);
  });

  it('finishes without waiting for more once the last message arrived (the router stops after done)', async () => {
    // vLLM: stalls after the usage chunk, before [DONE]; the adapter must not wait for it.
    const { upstream, engine } = await setup('vllm', { stallAfter: 30 }, 10_000);
    const result = await run(engine, engineRequest());
    expect(result.error).toBeUndefined();
    expect(result.ids).toEqual(ANSWER_IDS);
    await vi.waitFor(() => expect(upstream.openConnections()).toBe(0));
  });

  it('rejects bad options with UPSTREAM_CONFIG', () => {
    expect(() => createUpstreamEngine({ kind: 'tgi' as UpstreamKind, url: 'http://127.0.0.1:1', tokenizer })).toThrow(
      expect.objectContaining({ code: 'UPSTREAM_CONFIG' }),
    );
    expect(() => createUpstreamEngine({ kind: 'vllm', url: 'not a url', tokenizer })).toThrow(
      expect.objectContaining({ code: 'UPSTREAM_CONFIG' }),
    );
    expect(() => createUpstreamEngine({ kind: 'vllm', url: 'ftp://127.0.0.1/', tokenizer })).toThrow(
      expect.objectContaining({ code: 'UPSTREAM_CONFIG' }),
    );
    expect(() => createUpstreamEngine({ kind: 'vllm', url: 'http://127.0.0.1:1', timeoutMs: 0, tokenizer })).toThrow(
      expect.objectContaining({ code: 'UPSTREAM_CONFIG' }),
    );
    expect(createUpstreamEngine({ kind: 'ollama', url: 'http://127.0.0.1:1', tokenizer }).name).toBe('upstream:ollama');
  });
});
