/**
 * `harmony-hpke serve --upstream URL --upstream-kind K` as a real process in front of the fake
 * upstream (test/helpers/fake-upstream.ts): one encrypted answer per upstream kind, client
 * disconnect and shutdown cancelling the upstream request (its connection closes), the upstream
 * timeout and an upstream failure as authenticated error chunks.
 */
import { describe, expect, it } from 'vitest';
import { StreamDecoder, type DecodedEvent } from '../../src/sse/index.js';
import { makeSandbox } from '../helpers/cli.js';
import { startFakeUpstream, type FakeRoute } from '../helpers/fake-upstream.js';
import { startRouterProcess, type RouterProcess } from '../helpers/router-process.js';
import { decode, finalAnswer, health, post, seal, waitFor } from './helpers.js';

const sandbox = makeSandbox();

/** <|start|>assistant: every rendered prompt sent upstream ends with it. */
const START_ASSISTANT = [200006, 173781];

async function withRouter<T>(args: readonly string[], body: (router: RouterProcess) => Promise<T>): Promise<T> {
  const router = await startRouterProcess(sandbox.dir, ['--log-format', 'json', ...args], sandbox.env);
  try {
    return await body(router);
  } finally {
    await router.stop();
  }
}

interface KindCase {
  readonly kind: string;
  readonly route: FakeRoute;
  /** Where the kind carries max tokens and, for token-id upstreams, the prompt ids. */
  readonly maxTokens: (json: Record<string, any>) => unknown;
  readonly promptIds?: (json: Record<string, any>) => unknown;
}

const KINDS: readonly KindCase[] = [
  {
    kind: 'vllm',
    route: { path: '/v1/completions', fixture: 'vllm/basic.sse' },
    maxTokens: (json) => json['max_tokens'],
    promptIds: (json) => json['prompt'],
  },
  {
    kind: 'sglang',
    route: { path: '/generate', fixture: 'sglang/cumulative.sse' },
    maxTokens: (json) => json['sampling_params']?.['max_new_tokens'],
    promptIds: (json) => json['input_ids'],
  },
  {
    kind: 'llamacpp',
    route: { path: '/completion', fixture: 'llamacpp/basic.sse' },
    maxTokens: (json) => json['n_predict'],
    promptIds: (json) => json['prompt'],
  },
  {
    kind: 'openai-completions',
    route: { path: '/v1/completions', fixture: 'openai-completions/basic.sse' },
    maxTokens: (json) => json['max_tokens'],
  },
  {
    kind: 'ollama',
    route: { path: '/api/chat', fixture: 'ollama/answer.ndjson' },
    maxTokens: (json) => json['options']?.['num_predict'],
  },
];

describe('one encrypted answer through the router per upstream kind', () => {
  for (const { kind, route, maxTokens, promptIds } of KINDS) {
    it(`${kind}: the answer arrives encrypted and verified, the upstream got max tokens (and ids)`, async () => {
      const upstream = await startFakeUpstream([route]);
      await withRouter(['--upstream', upstream.url, '--upstream-kind', kind], async (router) => {
        expect((await health(router.url))['engine']).toBe(`upstream:${kind}`);
        const sealed = await seal(router.url, 'What is 2+2?', { maxTokens: 300 });
        const answer = await decode(await post(sealed), sealed.session);
        expect(answer.final).toMatchObject({ t: 'end', finish: 'stop' });
        expect(finalAnswer(answer.ids)).toBe('2 + 2 = 4.');
        expect(answer.ids.at(-1)).toBe(200002); // <|return|>, sent or synthesized
        expect(upstream.requests).toHaveLength(1);
        const json = upstream.requests[0]?.json as Record<string, any>;
        expect(maxTokens(json)).toBe(300);
        if (promptIds) {
          const prompt = promptIds(json) as number[];
          expect(Array.isArray(prompt) && prompt.every((id) => Number.isInteger(id))).toBe(true);
          expect(prompt.slice(-2)).toEqual(START_ASSISTANT);
        }
      });
    });
  }
});

/** Reads the stream until its first tokens chunk. */
async function firstTokens(body: AsyncIterable<Uint8Array>, decoder: StreamDecoder): Promise<AsyncIterator<Uint8Array>> {
  const iterator = body[Symbol.asyncIterator]();
  for (;;) {
    const next = await iterator.next();
    if (next.done) throw new Error('the stream ended before any tokens');
    if (decoder.push(next.value).some((event) => event.type === 'chunk' && event.message.t === 'tokens')) return iterator;
  }
}

describe('cancellation reaches the upstream', () => {
  it('a client that disconnects mid-stream closes the upstream connection and frees its slot', async () => {
    const upstream = await startFakeUpstream([{ path: '/v1/completions', fixture: 'vllm/basic.sse', stallAfter: 4 }]);
    await withRouter(['--upstream', upstream.url, '--upstream-kind', 'vllm'], async (router) => {
      const sealed = await seal(router.url, 'What is 2+2?');
      const response = await post(sealed);
      await firstTokens(response.body, new StreamDecoder(sealed.session));
      expect(upstream.openConnections()).toBe(1);
      expect((await health(router.url))['active_streams']).toBe(1);

      response.close();
      await waitFor(() => upstream.openConnections() === 0, 'the upstream connection to close');
      await waitFor(async () => (await health(router.url))['active_streams'] === 0, 'the stream slot to free');
      const line = await waitFor(
        () => router.stderr().split('\n').find((candidate) => candidate.includes(sealed.payload.rid)),
        'the log line',
      );
      expect(JSON.parse(line)).toMatchObject({ status: 200, error: 'CLIENT_GONE' });
    });
  });

  it('SIGTERM with an upstream stream open: an authenticated cancelled end, the upstream closed, exit 0', async () => {
    const upstream = await startFakeUpstream([{ path: '/v1/completions', fixture: 'vllm/basic.sse', stallAfter: 4 }]);
    const router = await startRouterProcess(sandbox.dir, ['--upstream', upstream.url, '--upstream-kind', 'vllm'], sandbox.env);
    try {
      const sealed = await seal(router.url, 'What is 2+2?');
      const response = await post(sealed);
      const decoder = new StreamDecoder(sealed.session);
      const rest = await firstTokens(response.body, decoder);
      const exit = router.stop('SIGTERM');
      const events: DecodedEvent[] = [];
      for (let next = await rest.next(); !next.done; next = await rest.next()) events.push(...decoder.push(next.value));
      events.push(...decoder.end());
      const final = events.find((event) => event.type === 'chunk' && event.final);
      expect(final).toMatchObject({ message: { t: 'end', finish: 'cancelled' } });
      expect(await exit).toBe(0);
      await waitFor(() => upstream.openConnections() === 0, 'the upstream connection to close');
    } finally {
      await router.stop();
    }
  });
});

describe('upstream failures travel inside the encrypted stream', () => {
  it('--upstream-timeout: a stalled upstream ends the stream with an authenticated upstream_timeout error', async () => {
    const upstream = await startFakeUpstream([{ path: '/v1/completions', fixture: 'vllm/basic.sse', stallAfter: 2 }]);
    await withRouter(['--upstream', upstream.url, '--upstream-kind', 'vllm', '--upstream-timeout', '2s'], async (router) => {
      const sealed = await seal(router.url, 'What is 2+2?');
      const answer = await decode(await post(sealed), sealed.session);
      expect(answer.final).toMatchObject({ t: 'error', code: 'upstream_timeout' });
      await waitFor(() => upstream.openConnections() === 0, 'the upstream connection to close');
    });
  });

  it('an upstream HTTP error becomes an authenticated error chunk that never carries the upstream body', async () => {
    const upstream = await startFakeUpstream([
      { path: '/generate', status: 500, body: '{"error":"CUDA out of memory while serving What is 2+2?"}' },
    ]);
    await withRouter(['--upstream', upstream.url, '--upstream-kind', 'sglang'], async (router) => {
      const sealed = await seal(router.url, 'What is 2+2?');
      const answer = await decode(await post(sealed), sealed.session);
      expect(answer.final).toMatchObject({ t: 'error', code: 'upstream_http_status' });
      expect(JSON.stringify(answer.final)).not.toMatch(/CUDA|What is/);
      expect(router.stderr()).not.toMatch(/CUDA|What is/);
    });
  });
});
