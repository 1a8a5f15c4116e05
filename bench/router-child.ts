/**
 * The router under test, in its own process (so the bench's client load does not share its
 * event loop): the library's startRouter with the echo engine, a fresh key, and the bench-only
 * unencrypted baseline path. Prints one JSON line {"url","keyConfig","baselinePath"} when ready;
 * exits when stdin closes or on SIGTERM.
 */
import { installNodeCryptoBackend } from '../src/node/crypto-backend.js';
import { encodeKeyConfigList, generateRouterKey, keyConfigOf, toBase64Url } from '../src/hpke/index.js';
import { nodeHarmonyEncoding } from '../src/node/harmony.js';
import { createEchoEngine } from '../src/router/engines/echo.js';
import { startRouter } from '../src/router/server.js';

installNodeCryptoBackend();

const BASELINE_PATH = '/bench/plaintext-baseline';

async function main(): Promise<void> {
  const key = await generateRouterKey({ keyId: 1 });
  nodeHarmonyEncoding().preload();
  const router = await startRouter({
    host: '127.0.0.1',
    port: 0,
    keys: [key],
    engine: createEchoEngine(),
    maxStreams: 10_000,
    plaintextBaselinePath: BASELINE_PATH,
  });
  process.stdout.write(
    `${JSON.stringify({ url: router.url, keyConfig: toBase64Url(encodeKeyConfigList([keyConfigOf(key)])), baselinePath: BASELINE_PATH })}\n`,
  );
  const stop = () => {
    void router.close().then(() => process.exit(0));
  };
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
  process.on('SIGTERM', stop);
}

void main();
