/** The reference router, in-process on loopback, for `ask` when no router is configured anywhere. */
export interface EmbeddedRouter {
  readonly url: string;
  close(): Promise<void>;
}

export async function startEmbeddedRouter(): Promise<EmbeddedRouter> {
  const [{ generateRouterKey }, { startRouter }, { createEchoEngine }] = await Promise.all([
    import('../hpke/index.js'),
    import('../router/server.js'),
    import('../router/engines/echo.js'),
  ]);
  const router = await startRouter({
    host: '127.0.0.1',
    port: 0,
    keys: [await generateRouterKey()],
    engine: createEchoEngine(),
    // One local request from this very process: render it inline, no worker threads to start.
    renderWorkers: 0,
  });
  return { url: router.url, close: () => router.close() };
}
