/**
 * The CryptoBackend (src/core/crypto.ts) on node:crypto: the fast path of the chunk AEAD (one
 * KeyObject per response key, a fresh cipher per chunk as GCM requires), HMAC and SHA-256 in C++,
 * X25519 through PKCS#8/JWK. `installNodeCryptoBackend()` makes it the libraries' backend; the
 * Node entry points (src/node/entry-*.ts, package.json "exports" condition "node"), the CLI and
 * the router call it, so Node users never have to.
 */
import { isUtf8 } from 'node:buffer';
import { createCipheriv, createDecipheriv, createHash, createHmac, createPrivateKey, createPublicKey, createSecretKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { tryFromBase64Url, type NativeByteCodecs } from '../core/bytes.js';
import { setCryptoBackend, type AeadAlgorithm, type AeadKey, type CryptoBackend } from '../core/crypto.js';

/** PKCS#8 (RFC 8410) wrapping of a raw X25519 private key: SEQUENCE { 0, { id-X25519 }, OCTET STRING { OCTET STRING(32) } }. */
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

function view(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function rawFromJwk(value: string | undefined): Uint8Array {
  const bytes = value === undefined ? undefined : tryFromBase64Url(value);
  if (bytes === undefined || bytes.byteLength !== 32) throw new Error('node:crypto returned an X25519 key of the wrong shape');
  return bytes;
}

class NodeAeadKey implements AeadKey {
  readonly #algorithm: AeadAlgorithm;
  readonly #key;
  readonly #tagLength: number;

  constructor(algorithm: AeadAlgorithm, key: Uint8Array, tagLength: number) {
    this.#algorithm = algorithm;
    this.#key = createSecretKey(key);
    this.#tagLength = tagLength;
  }

  seal(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array | undefined): Uint8Array {
    const cipher = createCipheriv(this.#algorithm as 'aes-128-gcm', this.#key, nonce, { authTagLength: this.#tagLength });
    if (aad !== undefined) cipher.setAAD(aad);
    const head = cipher.update(plaintext);
    const tail = cipher.final();
    const tag = cipher.getAuthTag();
    const out = new Uint8Array(head.byteLength + tail.byteLength + tag.byteLength);
    out.set(head);
    out.set(tail, head.byteLength);
    out.set(tag, head.byteLength + tail.byteLength);
    return out;
  }

  open(nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array | undefined): Uint8Array | undefined {
    const nt = this.#tagLength;
    if (sealed.byteLength < nt) return undefined;
    const decipher = createDecipheriv(this.#algorithm as 'aes-128-gcm', this.#key, nonce, { authTagLength: nt });
    const split = sealed.byteLength - nt;
    decipher.setAuthTag(sealed.subarray(split));
    if (aad !== undefined) decipher.setAAD(aad);
    const head = decipher.update(sealed.subarray(0, split));
    try {
      const tail = decipher.final();
      return view(tail.byteLength === 0 ? head : Buffer.concat([head, tail]));
    } catch {
      return undefined;
    }
  }
}

/** Buffer's codecs: native base64url, and isUtf8 (the same strict check as a fatal TextDecoder, cheaper per chunk). */
const codecs: NativeByteCodecs = Object.freeze({
  toBase64Url: (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url'),
  decodeBase64Url: (text: string) => view(Buffer.from(text, 'base64url')),
  tryUtf8Decode(bytes: Uint8Array): string | undefined {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return isUtf8(buffer) ? buffer.toString('utf8') : undefined;
  },
});

export const nodeCryptoBackend: CryptoBackend = Object.freeze({
  name: 'node:crypto',
  codecs,
  randomBytes: (length: number) => view(randomBytes(length)),
  sha256: (data: Uint8Array) => view(createHash('sha256').update(data).digest()),
  hmacSha256(key: Uint8Array, data: readonly Uint8Array[]): Uint8Array {
    const hmac = createHmac('sha256', key);
    for (const part of data) hmac.update(part);
    return view(hmac.digest());
  },
  aeadKey: (algorithm: AeadAlgorithm, key: Uint8Array, tagLength: number): AeadKey => new NodeAeadKey(algorithm, key, tagLength),
  x25519GenerateKey(): Uint8Array {
    const { privateKey } = generateKeyPairSync('x25519');
    return rawFromJwk(privateKey.export({ format: 'jwk' }).d);
  },
  x25519PublicKey(privateKey: Uint8Array): Uint8Array {
    const key = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, privateKey]), format: 'der', type: 'pkcs8' });
    return rawFromJwk(createPublicKey(key).export({ format: 'jwk' }).x);
  },
});

/** Makes node:crypto the libraries' backend (idempotent). */
export function installNodeCryptoBackend(): void {
  setCryptoBackend(nodeCryptoBackend);
}
