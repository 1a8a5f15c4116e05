/**
 * One stream never holds the event loop for long: an engine whose events are all ready at once
 * (an upstream that sent its whole body in one read) used to be relayed in microtasks only, so
 * nothing else ran until the stream ended (not /healthz, not a SIGTERM's close deadline). In-process
 * router, real HPKE and SSE; the assertion is on order (an immediate scheduled at the start runs
 * before the engine is drained), not on time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { generateRouterKey } from '../../src/hpke/index.js';
import { startRouter, type Engine, type RunningRouter } from '../../src/router/index.js';
import { decode, post, seal } from './helpers.js';

let router: RunningRouter | undefined;
afterEach(async () => {
  await router?.close();
  router = undefined;
});

const EVENTS = 20_000;

describe('a stream relaying a buffered engine', () => {
  it('lets the event loop turn while it relays', async () => {
    let immediateAt: number | undefined;
    let relayed = 0;
    const engine: Engine = {
      name: 'buffered',
      async *generate() {
        setImmediate(() => (immediateAt = relayed));
        for (relayed = 0; relayed < EVENTS; relayed += 1) yield { type: 'tokens', ids: [1000 + (relayed % 100)] };
        yield { type: 'done', finish: 'length', promptTokens: 0, completionTokens: EVENTS };
      },
    };
    router = await startRouter({ keys: [await generateRouterKey()], engine, renderWorkers: 0, maxTokensLimit: EVENTS });
    const sealed = await seal(router.url, 'What is 2+2?', { maxTokens: EVENTS });
    const answer = await decode(await post(sealed), sealed.session);
    expect(answer.ids.length).toBe(EVENTS);
    expect(immediateAt).toBeDefined();
    expect(immediateAt!).toBeLessThan(EVENTS);
  });
});
