/**
 * Both DHKEM(X25519) implementations behind createCipherSuite give the vectors' bytes: the native
 * one (WebCrypto, used where the runtime has X25519) and the portable one (@hpke/dhkem-x25519,
 * the fallback), and each opens what the other seals.
 */
import { toArrayBuffer } from '../../src/core/bytes.js';
import type { webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createCipherSuite,
  requestInfo,
  RESPONSE_EXPORT_LABEL,
  x25519Implementation,
  x25519PublicKey,
  type X25519Implementation,
} from '../../src/hpke/index.js';
import { hex, toHex, utf8, vectors } from './vectors-data.js';

const implementations: X25519Implementation[] = ['native', 'portable'];
const label = toArrayBuffer(new TextEncoder().encode(RESPONSE_EXPORT_LABEL));

async function keyPair(kem: X25519Implementation, aeadId: number, privateKey: Uint8Array): Promise<webcrypto.CryptoKeyPair> {
  const suite = await createCipherSuite(aeadId, kem);
  return {
    privateKey: await suite.kem.importKey('raw', toArrayBuffer(privateKey), false),
    publicKey: await suite.kem.importKey('raw', toArrayBuffer(x25519PublicKey(privateKey)), true),
  };
}

describe('X25519 implementations', () => {
  it('Node.js 20 has WebCrypto X25519, so the native one is chosen', async () => {
    expect(await x25519Implementation()).toBe('native');
    const native = await createCipherSuite(1, 'native');
    const portable = await createCipherSuite(1, 'portable');
    expect(portable.kem.constructor).not.toBe(native.kem.constructor);
    expect(await createCipherSuite(1)).toBe(native);
  });

  describe.each(implementations)('%s', (kem) => {
    it.each(vectors.vectors)('seals $name with skE to enc_request and opens it with skR', async (v) => {
      const suite = await createCipherSuite(v.aead_id, kem);
      const header = { keyId: v.key_id, kemId: v.kem_id, kdfId: v.kdf_id, aeadId: v.aead_id };
      const info = toArrayBuffer(requestInfo(header));
      const sender = await suite.createSenderContext({
        recipientPublicKey: await suite.kem.deserializePublicKey(toArrayBuffer(hex(v.pkR))),
        info,
        ekm: await keyPair(kem, v.aead_id, hex(v.skE)),
      });
      const ciphertext = new Uint8Array(await sender.seal(toArrayBuffer(utf8(v.request_plaintext))));
      expect(toHex(new Uint8Array(sender.enc))).toBe(v.enc);
      expect(v.enc_request.endsWith(toHex(ciphertext))).toBe(true);
      expect(toHex(new Uint8Array(await sender.export(label, hex(v.secret).byteLength)))).toBe(v.secret);

      const recipient = await suite.createRecipientContext({
        recipientKey: await keyPair(kem, v.aead_id, hex(v.skR)),
        enc: toArrayBuffer(hex(v.enc)),
        info,
      });
      expect(Buffer.from(await recipient.open(toArrayBuffer(ciphertext))).toString('utf8')).toBe(v.request_plaintext);
    });
  });

  it('each opens what the other seals', async () => {
    const v = vectors.vectors[0]!;
    const header = { keyId: v.key_id, kemId: v.kem_id, kdfId: v.kdf_id, aeadId: v.aead_id };
    const info = toArrayBuffer(requestInfo(header));
    for (const [from, to] of [['native', 'portable'], ['portable', 'native']] as const) {
      const sealer = await createCipherSuite(v.aead_id, from);
      const sender = await sealer.createSenderContext({
        recipientPublicKey: await sealer.kem.deserializePublicKey(toArrayBuffer(hex(v.pkR))),
        info,
      });
      const ciphertext = await sender.seal(toArrayBuffer(utf8('across implementations')));
      const opener = await createCipherSuite(v.aead_id, to);
      const recipient = await opener.createRecipientContext({
        recipientKey: await keyPair(to, v.aead_id, hex(v.skR)),
        enc: sender.enc,
        info,
      });
      expect(Buffer.from(await recipient.open(ciphertext)).toString('utf8')).toBe('across implementations');
    }
  });
});
