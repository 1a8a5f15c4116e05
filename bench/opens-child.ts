/**
 * Sealed-request opens, run by bench/router.ts in a child pinned to one CPU (taskset, where the
 * machine has it) so that WebCrypto's thread pool shares the core with the event loop. Alternates
 * the library's openRequest (hpke-js; 16 opens in flight, as a router has them) with raw X25519 +
 * HKDF-SHA256 in node:crypto, and prints {"a":[µs per open...],"b":[µs per op...],"ratio"}.
 *
 *   node opens-child.js COUNT ROUNDS WARMUP
 */
import { createPrivateKey, createPublicKey, diffieHellman, hkdfSync } from 'node:crypto';
import { Conversation, Message, Role } from '../src/harmony/index.js';
import { encodeRequestPlaintext, generateRouterKey, keyConfigOf, newRequestId, openRequest, sealRequest, toBase64Url } from '../src/hpke/index.js';
import { alternate } from './lib.js';

const IN_FLIGHT = 16;

async function main(): Promise<void> {
  const [count, rounds, warmup] = process.argv.slice(2).map(Number) as [number, number, number];
  const key = await generateRouterKey({ keyId: 1 });
  const config = keyConfigOf(key);
  const conversation = Conversation.fromMessages([Message.fromRoleAndContent(Role.User, 'What is 2+2?')]).toDict() as { messages: unknown[] };
  const bodies: Uint8Array[] = [];
  for (let i = 0; i < count; i += 1) {
    const plaintext = encodeRequestPlaintext({ v: 1, rid: newRequestId(), iat: Math.floor(Date.now() / 1000), model: 'gpt-oss-20b', conversation, params: {} });
    bodies.push((await sealRequest(config, { kdfId: 1, aeadId: 1 }, plaintext)).body);
  }
  const privateKey = createPrivateKey({
    key: { kty: 'OKP', crv: 'X25519', d: toBase64Url(key.privateKey), x: toBase64Url(key.publicKey) },
    format: 'jwk',
  });
  const info = Buffer.from('harmony-hpke/1 request');
  const library = async () => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < bodies.length; i += IN_FLIGHT) {
      const opened = await Promise.all(bodies.slice(i, i + IN_FLIGHT).map((body) => openRequest(body, () => key)));
      if (opened.some((o) => o.secret.byteLength !== 16)) throw new Error('open failed');
    }
    return Number(process.hrtime.bigint() - started) / 1e3 / count;
  };
  const raw = () => {
    const started = process.hrtime.bigint();
    for (const body of bodies) {
      const enc = body.subarray(7, 39);
      const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: toBase64Url(enc) }, format: 'jwk' });
      const shared = diffieHellman({ privateKey, publicKey });
      if (hkdfSync('sha256', shared, enc, info, 32).byteLength !== 32) throw new Error('hkdf failed');
    }
    return Number(process.hrtime.bigint() - started) / 1e3 / count;
  };
  process.stdout.write(`${JSON.stringify(await alternate(rounds, warmup, library, raw))}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`opens-child: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
