/**
 * A slow upload cannot hold an upload slot forever (and never holds a stream slot): the whole body must arrive within the body
 * timeout, else 408 and the connection closes. In-process startRouter (the timeout is an
 * embedding option; serve uses the 30 s default), driven over a raw loopback socket.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { generateRouterKey } from '../../src/hpke/index.js';
import { createEchoEngine, startRouter, type RunningRouter } from '../../src/router/index.js';
import { waitFor } from './helpers.js';

let router: RunningRouter | undefined;
afterEach(async () => {
  await router?.close();
  router = undefined;
});

describe('body timeout', () => {
  it('answers 408 request-timeout to an upload that stalls, closes the connection and frees the upload slot', async () => {
    router = await startRouter({ keys: [await generateRouterKey()], engine: createEchoEngine(), bodyTimeoutMs: 300 });
    const socket = connect(router.port, '127.0.0.1');
    let received = '';
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('data', (part: Buffer) => (received += part.toString('utf8')));
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('POST /v1/harmony/stream HTTP/1.1\r\nHost: r\r\nContent-Type: application/harmony-hpke-req\r\nContent-Length: 2048\r\n\r\n');
    socket.write(Buffer.alloc(64));
    await waitFor(() => router?.stats().uploads === 1, 'the upload to be counted');
    expect(router.stats().activeStreams).toBe(0);

    await closed;
    const [head = '', body = ''] = received.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 408 /);
    expect(head.toLowerCase()).toContain('content-type: application/problem+json');
    expect(JSON.parse(body)).toMatchObject({ type: 'urn:harmony-hpke:error:request-timeout', status: 408 });
    expect(router.stats().uploads).toBe(0);
    expect(router.stats().activeStreams).toBe(0);
  });
});
