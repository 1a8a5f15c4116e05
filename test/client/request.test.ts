/**
 * sealForRouter builds its session with hpke's newSession: the ids come from the sealed header,
 * the session survives its own file format, and a session that could never decode (no router)
 * is refused before anything could be sent.
 */
import { describe, expect, it } from 'vitest';
import { generateRouterKey, keyConfigOf, openRequest, parseSession, publicKeyFingerprint, serializeSession } from '../../src/hpke/index.js';
import { Conversation, Message, Role } from '../../src/harmony/index.js';
import { buildPayload, sealForRouter } from '../../src/client/request.js';
import type { SelectedKey } from '../../src/client/keys.js';

async function selectedKey(): Promise<{ key: SelectedKey; routerKey: Awaited<ReturnType<typeof generateRouterKey>> }> {
  const routerKey = await generateRouterKey({ keyId: 7 });
  const config = keyConfigOf(routerKey);
  const suite = config.suites[0]!;
  return { routerKey, key: { config, kdfId: suite.kdfId, aeadId: suite.aeadId, fingerprint: publicKeyFingerprint(config.publicKey) } };
}

const payload = () =>
  buildPayload(Conversation.fromMessages([Message.fromRoleAndContent(Role.User, 'hi')]), { model: 'm', maxTokens: 8, reasoningEffort: 'low' });

describe('sealForRouter', () => {
  it('the session carries the sealed header and the secret the router derives, and round-trips its file format', async () => {
    const { key, routerKey } = await selectedKey();
    const request = payload();
    const sealed = await sealForRouter('http://127.0.0.1:9', key, request);
    const opened = await openRequest(sealed.body, (id) => (id === routerKey.keyId ? routerKey : undefined));
    expect(sealed.session).toMatchObject({
      router: 'http://127.0.0.1:9',
      kid: opened.header.keyId,
      kem: opened.header.kemId,
      kdf: opened.header.kdfId,
      aead: opened.header.aeadId,
      rid: request.rid,
      iat: request.iat,
    });
    expect(Buffer.from(sealed.session.secret).equals(Buffer.from(opened.secret))).toBe(true);
    expect(Buffer.from(sealed.session.enc).equals(Buffer.from(opened.enc))).toBe(true);
    expect(parseSession(serializeSession(sealed.session))).toEqual(sealed.session);
  });

  it("refuses to build a session that names no router (newSession's checks)", async () => {
    const { key } = await selectedKey();
    await expect(sealForRouter('', key, payload())).rejects.toMatchObject({ code: 'SESSION_FIELD_INVALID' });
  });
});
