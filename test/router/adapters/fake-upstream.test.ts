import { describe, expect, it, vi } from 'vitest';

import { readUpstreamFixture, startFakeUpstream } from '../../helpers/fake-upstream.js';

let urlOfPreviousTest: string | undefined;

describe('startFakeUpstream', () => {
  it('replays a fixture, records the request, and answers 404 for unknown routes', async () => {
    const upstream = await startFakeUpstream([{ path: '/v1/completions', fixture: 'vllm/basic.sse', chunking: 9 }]);
    urlOfPreviousTest = upstream.url;
    expect(upstream.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(`${upstream.url}/v1/completions?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
      body: JSON.stringify({ prompt: [1, 2, 3] }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(await response.text()).toBe(readUpstreamFixture('vllm/basic.sse'));
    expect(upstream.requests).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/v1/completions?x=1',
        body: '{"prompt":[1,2,3]}',
        json: { prompt: [1, 2, 3] },
      }),
    ]);
    expect(upstream.requests[0]?.headers['authorization']).toBe('Bearer k');
    const missing = await fetch(`${upstream.url}/nope`, { method: 'POST', body: 'x' });
    expect(missing.status).toBe(404);
    expect(upstream.requests[1]?.json).toBeUndefined();
    await missing.body?.cancel();
  });

  it('closed the previous test’s server when that test finished', async () => {
    expect(urlOfPreviousTest).toBeDefined();
    await expect(fetch(`${urlOfPreviousTest}/v1/completions`, { method: 'POST', body: '{}' })).rejects.toThrow();
  });

  it('stalls after N writes with the connection open, until close()', async () => {
    const upstream = await startFakeUpstream([{ path: '/generate', fixture: 'sglang/incremental.sse', stallAfter: 2 }]);
    const response = await fetch(`${upstream.url}/generate`, { method: 'POST', body: '{}' });
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    expect(upstream.openConnections()).toBe(1);
    const pending = reader.read().then(
      async function drain(result): Promise<boolean> {
        return result.done ? true : drain(await reader.read());
      },
      () => false,
    );
    await upstream.close();
    await upstream.close();
    expect(upstream.openSockets()).toBe(0);
    expect(await pending).toBe(false);
  });

  it('dies after N writes: the client sees the body break', async () => {
    const upstream = await startFakeUpstream([{ path: '/api/chat', fixture: 'ollama/answer.ndjson', dieAfter: 3 }]);
    const response = await fetch(`${upstream.url}/api/chat`, { method: 'POST', body: '{}' });
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    await expect(response.text()).rejects.toThrow();
    await vi.waitFor(() => expect(upstream.openConnections()).toBe(0));
  });

  it('serves inline bodies, statuses, methods, headers and custom handlers', async () => {
    const upstream = await startFakeUpstream([
      { path: '/a', status: 503, body: '{"error":"busy"}', headers: { 'retry-after': '1' } },
      { method: 'GET', path: '/health', body: ['o', 'k'] },
      {
        path: '/echo',
        handler: (_req, res, request) => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(request.body.toUpperCase());
        },
      },
    ]);
    const a = await fetch(`${upstream.url}/a`, { method: 'POST', body: '{}' });
    expect([a.status, a.headers.get('retry-after'), await a.text()]).toEqual([503, '1', '{"error":"busy"}']);
    expect(await (await fetch(`${upstream.url}/health`)).text()).toBe('ok');
    expect(await (await fetch(`${upstream.url}/echo`, { method: 'POST', body: 'hi' })).text()).toBe('HI');
    expect(upstream.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /a', 'GET /health', 'POST /echo']);
    expect(upstream.totalConnections()).toBeGreaterThanOrEqual(1);
  });
});
