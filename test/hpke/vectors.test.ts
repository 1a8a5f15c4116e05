import { toArrayBuffer } from '../../src/core/bytes.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AEAD_AES_128_GCM,
  createCipherSuite,
  deriveResponseKeys,
  encodeChunkPlaintext,
  encodeKeyConfigList,
  encodeRequestPlaintext,
  ephemeralKeyPairFromPrivateKey,
  hkdfExpand,
  keyConfigOf,
  openChunk,
  openRequest,
  parseChunkPlaintext,
  parseKeyConfigList,
  parseRequestPlaintext,
  requestInfo,
  responsePrk,
  routerKeyFromPrivateKey,
  sealChunk,
  sealRequest,
  selectKeyConfig,
  x25519PublicKey,
  type RouterKey,
} from '../../src/hpke/index.js';
import { KeyError } from '../../src/core/errors.js';
import { fixturesDir, hex, sharedDir, toHex, utf8, vectors } from './vectors-data.js';

describe('fixtures/protocol-vectors', () => {
  it('is a byte-for-byte copy of ../shared/protocol-vectors when that is present', () => {
    const ours = readdirSync(fixturesDir).sort();
    expect(ours).toEqual(['README.md', 'vectors.json']);
    if (!existsSync(sharedDir)) return; // a fresh clone without ../shared: the fixtures stand alone
    expect(readdirSync(sharedDir).sort()).toEqual(ours);
    for (const name of ours) {
      expect(readFileSync(resolve(fixturesDir, name)).equals(readFileSync(resolve(sharedDir, name))), name).toBe(true);
    }
  });

  it('covers the three AEADs', () => {
    expect(vectors.protocol).toBe('harmony-hpke/1');
    expect(vectors.vectors.map((v) => v.aead_id)).toEqual([1, 2, 3]);
  });
});

describe.each(vectors.vectors)('vector $name', (v) => {
  const routerKey = (): Promise<RouterKey> =>
    routerKeyFromPrivateKey(hex(v.skR), { keyId: v.key_id, suites: [{ kdfId: v.kdf_id, aeadId: v.aead_id }] });

  it('skR and skE are DeriveKeyPair(ikmR) and DeriveKeyPair(ikmE) (RFC 9180 section 7.1.3)', async () => {
    const suite = await createCipherSuite(v.aead_id);
    for (const [ikm, sk] of [
      [v.ikmR, v.skR],
      [v.ikmE, v.skE],
    ] as const) {
      const pair = await suite.kem.deriveKeyPair(toArrayBuffer(hex(ikm)));
      expect(toHex(new Uint8Array(await suite.kem.serializePrivateKey(pair.privateKey)))).toBe(sk);
    }
  });

  it('router key: pkR from skR, and the key config list', async () => {
    expect(toHex(x25519PublicKey(hex(v.skR)))).toBe(v.pkR);
    const key = await routerKey();
    expect(toHex(encodeKeyConfigList([keyConfigOf(key)]))).toBe(v.key_config_list);
    const [config, ...rest] = parseKeyConfigList(hex(v.key_config_list));
    expect(rest).toEqual([]);
    expect(config).toEqual({
      keyId: v.key_id,
      kemId: v.kem_id,
      publicKey: hex(v.pkR),
      suites: [{ kdfId: v.kdf_id, aeadId: v.aead_id }],
    });
  });

  it('request: info, and sealing with skE gives enc_request and the secret', async () => {
    const header = { keyId: v.key_id, kemId: v.kem_id, kdfId: v.kdf_id, aeadId: v.aead_id };
    expect(toHex(requestInfo(header))).toBe(v.info);
    const selected = selectKeyConfig(parseKeyConfigList(hex(v.key_config_list)));
    expect(selected.aeadId).toBe(v.aead_id);
    const plaintext = utf8(v.request_plaintext);
    expect(plaintext.byteLength % 1024).toBe(0);
    const sealed = await sealRequest(selected.config, selected, plaintext, {
      ekm: await ephemeralKeyPairFromPrivateKey(hex(v.skE)),
    });
    expect(toHex(sealed.enc)).toBe(v.enc);
    expect(toHex(sealed.body)).toBe(v.enc_request);
    expect(toHex(sealed.secret)).toBe(v.secret);
    expect(sealed.header).toEqual(header);
  });

  it('request: opening enc_request with skR gives the plaintext and the secret', async () => {
    const key = await routerKey();
    const opened = await openRequest(hex(v.enc_request), (id) => (id === v.key_id ? key : undefined));
    expect(Buffer.from(opened.plaintext).toString('utf8')).toBe(v.request_plaintext);
    expect(toHex(opened.secret)).toBe(v.secret);
    expect(toHex(opened.enc)).toBe(v.enc);
    expect(opened.key).toBe(key);
    // The payload parses and re-encodes to the same bytes.
    const payload = parseRequestPlaintext(opened.plaintext);
    expect(payload.v).toBe(1);
    expect(toHex(encodeRequestPlaintext(payload))).toBe(toHex(opened.plaintext));
  });

  it('response: key schedule', () => {
    const keys = deriveResponseKeys({
      secret: hex(v.secret),
      enc: hex(v.enc),
      responseNonce: hex(v.response_nonce),
      aeadId: v.aead_id,
    });
    expect(toHex(keys.key)).toBe(v.response_key);
    expect(toHex(keys.baseNonce)).toBe(v.response_base_nonce);
  });

  it('response: chunk plaintexts are padded JSON and re-encode to the same bytes', () => {
    for (const text of v.chunk_plaintexts) {
      const bytes = utf8(text);
      expect(bytes.byteLength % 64).toBe(0);
      expect(toHex(encodeChunkPlaintext(parseChunkPlaintext(bytes)))).toBe(toHex(bytes));
    }
  });

  it('response: the data lines of `sse` are the sealed chunk plaintexts', () => {
    const keys = deriveResponseKeys({
      secret: hex(v.secret),
      enc: hex(v.enc),
      responseNonce: hex(v.response_nonce),
      aeadId: v.aead_id,
    });
    const data = [...v.sse.matchAll(/^id: (\d+)\nevent: (chunk|final)\ndata: (.*)$/gm)];
    expect(data).toHaveLength(v.chunk_plaintexts.length);
    data.forEach((match, i) => {
      const final = match[2] === 'final';
      expect(Number(match[1])).toBe(i);
      expect(final).toBe(i === v.chunk_plaintexts.length - 1);
      const ciphertext = new Uint8Array(Buffer.from(match[3]!, 'base64url'));
      expect(Buffer.from(openChunk(keys, i, ciphertext, final)).toString('utf8')).toBe(v.chunk_plaintexts[i]);
      expect(toHex(sealChunk(keys, i, utf8(v.chunk_plaintexts[i]!), final))).toBe(toHex(ciphertext));
    });
  });
});

describe('key config lists', () => {
  it('parses the two-key list (rotation) and selects the first config', () => {
    const { hex: body, configs } = vectors.key_config_list_two_keys;
    const parsed = parseKeyConfigList(hex(body));
    expect(parsed.map((c) => ({ key_id: c.keyId, suites: c.suites.map((s) => [s.kdfId, s.aeadId]) }))).toEqual(configs);
    expect(toHex(encodeKeyConfigList(parsed))).toBe(body);
    const selected = selectKeyConfig(parsed);
    expect(selected.config.keyId).toBe(8);
    expect(selected.aeadId).toBe(AEAD_AES_128_GCM);
  });

  it.each(vectors.bad_key_config_lists)('refuses $name', ({ hex: body }) => {
    let error: unknown;
    try {
      parseKeyConfigList(hex(body));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KeyError);
    expect((error as KeyError).code).toBe('KEY_CONFIG_INVALID');
  });
});

describe('chunked OHTTP draft-08 response vector', () => {
  const d = vectors.chunked_ohttp_draft_08_response;

  it('gives prk, key and base nonce', () => {
    const prk = responsePrk(hex(d.secret), hex(d.enc), hex(d.response_nonce));
    expect(toHex(prk)).toBe(d.prk);
    expect(toHex(hkdfExpand(prk, utf8('key'), 16))).toBe(d.response_key);
    const keys = deriveResponseKeys({
      secret: hex(d.secret),
      enc: hex(d.enc),
      responseNonce: hex(d.response_nonce),
      aeadId: AEAD_AES_128_GCM,
    });
    expect(toHex(keys.key)).toBe(d.response_key);
    expect(toHex(keys.baseNonce)).toBe(d.response_base_nonce);
  });

  it('opens the three chunks, the last with AAD "final", and re-seals them', () => {
    const keys = deriveResponseKeys({
      secret: hex(d.secret),
      enc: hex(d.enc),
      responseNonce: hex(d.response_nonce),
      aeadId: AEAD_AES_128_GCM,
    });
    const parts = d.chunk_ciphertexts.map((ct, i) => {
      const final = i === d.final_chunk_index;
      const plaintext = openChunk(keys, i, hex(ct), final);
      expect(toHex(sealChunk(keys, i, plaintext, final))).toBe(ct);
      // The final AAD matters: the last chunk does not open as an ordinary chunk, nor the others as final.
      expect(() => openChunk(keys, i, hex(ct), !final)).toThrow(expect.objectContaining({ code: 'CHUNK_AUTH_FAILED' }));
      return toHex(plaintext);
    });
    expect(parts.join('')).toBe(d.plaintext);
  });
});
