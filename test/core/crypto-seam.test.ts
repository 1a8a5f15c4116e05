/**
 * The CryptoBackend seam: the libraries reach random bytes, hashes, the chunk AEAD and X25519 only
 * through the installed backend, and fail with a typed error when there is none.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cryptoBackend, setCryptoBackend, type CryptoBackend } from '../../src/core/crypto.js';
import { HarmonyHpkeError } from '../../src/core/errors.js';
import { generateRouterKey, keyConfigOf, newRequestId, newSession, encodeRequestPlaintext, sealRequest, publicKeyFingerprint } from '../../src/hpke/index.js';
import { nodeCryptoBackend } from '../../src/node/crypto-backend.js';
import { createEncryptedEventStream, StreamDecoder } from '../../src/sse/index.js';

afterEach(() => setCryptoBackend(nodeCryptoBackend));

/** node:crypto's backend, counting the calls the libraries make. */
function counting(): { backend: CryptoBackend; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const count = (name: string) => {
    calls[name] = (calls[name] ?? 0) + 1;
  };
  const base = nodeCryptoBackend;
  const backend: CryptoBackend = {
    name: 'counting',
    randomBytes: (n) => (count('randomBytes'), base.randomBytes(n)),
    sha256: (data) => (count('sha256'), base.sha256(data)),
    hmacSha256: (key, data) => (count('hmacSha256'), base.hmacSha256(key, data)),
    aeadKey(algorithm, key, tagLength) {
      count(`aeadKey:${algorithm}`);
      const inner = base.aeadKey(algorithm, key, tagLength);
      return {
        seal: (nonce, plaintext, aad) => (count('seal'), inner.seal(nonce, plaintext, aad)),
        open: (nonce, sealed, aad) => (count('open'), inner.open(nonce, sealed, aad)),
      };
    },
    x25519GenerateKey: () => (count('x25519GenerateKey'), base.x25519GenerateKey()),
    x25519PublicKey: (sk) => (count('x25519PublicKey'), base.x25519PublicKey(sk)),
  };
  return { backend, calls };
}

describe('the crypto backend seam', () => {
  it('without a backend, the libraries fail with CRYPTO_BACKEND_MISSING (internal)', () => {
    setCryptoBackend(undefined);
    let caught: unknown;
    try {
      newRequestId();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(HarmonyHpkeError);
    expect((caught as HarmonyHpkeError).code).toBe('CRYPTO_BACKEND_MISSING');
    expect((caught as HarmonyHpkeError).family).toBe('internal');
  });

  it('a whole response goes through the installed backend (keys, key schedule, every chunk)', async () => {
    const { backend, calls } = counting();
    setCryptoBackend(backend);
    expect(cryptoBackend().name).toBe('counting');
    const key = await generateRouterKey({ keyId: 3 });
    const config = keyConfigOf(key);
    expect(publicKeyFingerprint(config.publicKey)).toMatch(/^sha256:[0-9a-f]{64}$/);
    const rid = newRequestId();
    const sealed = await sealRequest(config, { kdfId: 1, aeadId: 3 }, encodeRequestPlaintext({ v: 1, rid, iat: 1, model: 'm', conversation: { messages: [] }, params: {} }));
    const session = newSession({ router: 'http://r', config, header: sealed.header, enc: sealed.enc, secret: sealed.secret, rid, iat: 1 });
    const writer = createEncryptedEventStream({ secret: sealed.secret, enc: sealed.enc, kid: 3, kem: 32, kdf: 1, aead: 3 });
    const text =
      writer.hpkeEvent() +
      writer.chunk({ t: 'start', rid, model: 'm', created: 1 }) +
      writer.chunk({ t: 'tokens', ids: [1], text: 'a' }) +
      writer.final({ t: 'end', finish: 'stop', usage: { prompt_tokens: 1, completion_tokens: 1 } });
    const decoder = new StreamDecoder(session);
    expect(decoder.push(text).filter((event) => event.type === 'chunk')).toHaveLength(3);
    decoder.end();
    expect(calls).toMatchObject({ x25519GenerateKey: 1, seal: 3, open: 3, 'aeadKey:chacha20-poly1305': 2 });
    expect(calls.randomBytes).toBeGreaterThanOrEqual(2); // request id, response nonce
    expect(calls.sha256).toBeGreaterThanOrEqual(2); // fingerprint, key config hash
    expect(calls.hmacSha256).toBeGreaterThanOrEqual(6); // extract + 2 expands, on both sides
  });
});
