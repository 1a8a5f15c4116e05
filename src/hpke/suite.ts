/**
 * The harmony-hpke/1 suite: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, and one of AES-128-GCM
 * (mandatory), AES-256-GCM or ChaCha20-Poly1305 (RFC 9180 section 7).
 */
import type { CipherSuite } from '@hpke/core';
import type { AeadAlgorithm } from '../core/crypto.js';
import { KeyError } from '../core/errors.js';

/** A KEM key pair as hpke-js holds it (WebCrypto keys, or the portable X25519's). */
export type KemKeyPair = Awaited<ReturnType<CipherSuite['kem']['generateKeyPair']>>;

export const KEM_X25519_HKDF_SHA256 = 0x0020;
export const KDF_HKDF_SHA256 = 0x0001;
export const AEAD_AES_128_GCM = 0x0001;
export const AEAD_AES_256_GCM = 0x0002;
export const AEAD_CHACHA20_POLY1305 = 0x0003;

/** Npk = Nenc = Nsk for DHKEM(X25519, HKDF-SHA256). */
export const X25519_KEY_LENGTH = 32;
/** Nt: every supported AEAD has a 16-byte tag. */
export const AEAD_TAG_LENGTH = 16;

export interface AeadParams {
  /** Key length Nk. */
  readonly nk: number;
  /** Nonce length Nn. */
  readonly nn: number;
  /** Tag length Nt. */
  readonly nt: number;
  /** The algorithm, as the crypto backend names it. */
  readonly algorithm: AeadAlgorithm;
  /** Human-readable name. */
  readonly name: string;
}

const AEADS: ReadonlyMap<number, AeadParams> = new Map<number, AeadParams>([
  [AEAD_AES_128_GCM, Object.freeze({ nk: 16, nn: 12, nt: 16, algorithm: 'aes-128-gcm', name: 'AES-128-GCM' })],
  [AEAD_AES_256_GCM, Object.freeze({ nk: 32, nn: 12, nt: 16, algorithm: 'aes-256-gcm', name: 'AES-256-GCM' })],
  [
    AEAD_CHACHA20_POLY1305,
    Object.freeze({ nk: 32, nn: 12, nt: 16, algorithm: 'chacha20-poly1305', name: 'ChaCha20-Poly1305' }),
  ],
]);

/** The parameters of a supported AEAD; KeyError AEAD_UNSUPPORTED for any other id. */
export function aeadParams(aeadId: number): AeadParams {
  const params = AEADS.get(aeadId);
  if (params === undefined) throw new KeyError('AEAD_UNSUPPORTED', `AEAD 0x${hex16(aeadId)} is not supported`);
  return params;
}

export function isSupportedAead(aeadId: number): boolean {
  return AEADS.has(aeadId);
}

export function isSupportedSuite(kemId: number, kdfId: number, aeadId: number): boolean {
  return kemId === KEM_X25519_HKDF_SHA256 && kdfId === KDF_HKDF_SHA256 && AEADS.has(aeadId);
}

/** Length of the response secret and of the response nonce: max(Nn, Nk). */
export function responseSecretLength(aeadId: number): number {
  const { nn, nk } = aeadParams(aeadId);
  return Math.max(nn, nk);
}

/** "DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM" style name of a suite. */
export function suiteName(kemId: number, kdfId: number, aeadId: number): string {
  const kem = kemId === KEM_X25519_HKDF_SHA256 ? 'DHKEM(X25519, HKDF-SHA256)' : `KEM 0x${hex16(kemId)}`;
  const kdf = kdfId === KDF_HKDF_SHA256 ? 'HKDF-SHA256' : `KDF 0x${hex16(kdfId)}`;
  const aead = AEADS.get(aeadId)?.name ?? `AEAD 0x${hex16(aeadId)}`;
  return `${kem}, ${kdf}, ${aead}`;
}

export function hex16(value: number): string {
  return value.toString(16).padStart(4, '0');
}

export type X25519Implementation = 'native' | 'portable';

/** The one WebCrypto call the probe makes (typed here: the neutral core has no DOM types). */
interface WebCryptoProbe {
  generateKey(algorithm: { name: 'X25519' }, extractable: boolean, usages: string[]): Promise<unknown>;
}

const suites = new Map<string, Promise<CipherSuite>>();
let detected: Promise<X25519Implementation> | undefined;

/**
 * Which DHKEM(X25519) to use: @hpke/core's, on WebCrypto's native X25519 (about 4x faster per
 * open), where the runtime has it, as Node.js 20 does; else @hpke/dhkem-x25519's portable one.
 * Both give the same bytes (the vectors are checked against each).
 */
export function x25519Implementation(): Promise<X25519Implementation> {
  const { crypto } = globalThis as unknown as { crypto?: { subtle?: WebCryptoProbe } };
  const subtle = crypto?.subtle;
  if (subtle === undefined) return (detected ??= Promise.resolve('portable'));
  detected ??= subtle
    .generateKey({ name: 'X25519' }, false, ['deriveBits'])
    .then(
      () => 'native' as const,
      () => 'portable' as const,
    );
  return detected;
}

/**
 * The hpke-js CipherSuite for X25519 / HKDF-SHA256 / `aeadId` (cached). hpke-js is loaded on the
 * first call (decoding a response never needs it), @hpke/chacha20poly1305 only when 0x0003 is
 * asked for. `kem` picks the X25519 implementation (default: see x25519Implementation).
 */
export async function createCipherSuite(aeadId: number, kem?: X25519Implementation): Promise<CipherSuite> {
  aeadParams(aeadId);
  const implementation = kem ?? (await x25519Implementation());
  const key = `${implementation}:${aeadId}`;
  let suite = suites.get(key);
  if (suite === undefined) {
    suite = buildSuite(aeadId, implementation);
    suites.set(key, suite);
    suite.catch(() => suites.delete(key));
  }
  return suite;
}

async function buildSuite(aeadId: number, implementation: X25519Implementation): Promise<CipherSuite> {
  const { Aes128Gcm, Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } = await import('@hpke/core');
  let aead;
  if (aeadId === AEAD_AES_128_GCM) aead = new Aes128Gcm();
  else if (aeadId === AEAD_AES_256_GCM) aead = new Aes256Gcm();
  else {
    const { Chacha20Poly1305 } = await import('@hpke/chacha20poly1305');
    aead = new Chacha20Poly1305();
  }
  const kem =
    implementation === 'native' ? new DhkemX25519HkdfSha256() : new (await import('@hpke/dhkem-x25519')).DhkemX25519HkdfSha256();
  return new CipherSuite({ kem, kdf: new HkdfSha256(), aead });
}
