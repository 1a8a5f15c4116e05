/**
 * The session file harmony-hpke-session/1: everything a decoder needs to verify and decrypt the
 * one response to one request (no network, no HPKE). Written before the POST, mode 0600.
 *
 *   {"format":"harmony-hpke-session/1","router":"https://...","kid":7,"kem":32,"kdf":1,"aead":1,
 *    "enc":"<b64url>","secret":"<b64url>","rid":"...","iat":1767225600,
 *    "key_config_sha256":"<hex>","response_nonce":"<b64url>"}     (response_nonce once decoded)
 */
import { UsageError } from '../core/errors.js';
import { toBase64Url, tryFromBase64Url } from './base64url.js';
import { keyConfigSha256, type KeyConfig } from './key-config.js';
import { isRequestId, type RequestHeader } from './request.js';
import { deriveResponseKeys, type ResponseKeys } from './response.js';
import { isSupportedSuite, responseSecretLength, suiteName, X25519_KEY_LENGTH } from './suite.js';

export const SESSION_FORMAT = 'harmony-hpke-session/1';

export interface Session {
  format: 'harmony-hpke-session/1';
  router: string;
  kid: number;
  kem: number;
  kdf: number;
  aead: number;
  enc: Uint8Array;
  secret: Uint8Array;
  rid: string;
  iat: number;
  keyConfigSha256: string;
  responseNonce?: Uint8Array;
}

/** A session for a request just sealed (see sealRequest) to `config`. */
export function newSession(input: {
  router: string;
  config: KeyConfig;
  header: RequestHeader;
  enc: Uint8Array;
  secret: Uint8Array;
  rid: string;
  iat: number;
}): Session {
  const session: Session = {
    format: SESSION_FORMAT,
    router: input.router,
    kid: input.header.keyId,
    kem: input.header.kemId,
    kdf: input.header.kdfId,
    aead: input.header.aeadId,
    enc: new Uint8Array(input.enc),
    secret: new Uint8Array(input.secret),
    rid: input.rid,
    iat: input.iat,
    keyConfigSha256: keyConfigSha256(input.config),
  };
  checkSession(session);
  return session;
}

/** The response keys of this session for a response nonce. */
export function sessionResponseKeys(session: Session, responseNonce: Uint8Array): ResponseKeys {
  return deriveResponseKeys({ secret: session.secret, enc: session.enc, responseNonce, aeadId: session.aead });
}

function fieldInvalid(message: string): UsageError {
  return new UsageError('SESSION_FIELD_INVALID', `session file: ${message}`);
}

function checkSession(s: Session): void {
  if (typeof s.router !== 'string' || s.router.length === 0) throw fieldInvalid('"router" must be a non-empty string');
  if (!Number.isInteger(s.kid) || s.kid < 0 || s.kid > 255) throw fieldInvalid('"kid" must be 0..255');
  if (!isSupportedSuite(s.kem, s.kdf, s.aead)) throw fieldInvalid('"kem", "kdf" and "aead" must name a supported suite');
  const length = responseSecretLength(s.aead);
  if (!(s.enc instanceof Uint8Array) || s.enc.byteLength !== X25519_KEY_LENGTH) throw fieldInvalid('"enc" must be 32 bytes');
  if (!(s.secret instanceof Uint8Array) || s.secret.byteLength !== length) {
    throw fieldInvalid(`"secret" must be ${length} bytes for this AEAD`);
  }
  if (!isRequestId(s.rid)) throw fieldInvalid('"rid" must be base64url of 16 bytes');
  if (!Number.isSafeInteger(s.iat) || s.iat < 0) throw fieldInvalid('"iat" must be a non-negative integer');
  if (typeof s.keyConfigSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(s.keyConfigSha256)) {
    throw fieldInvalid('"key_config_sha256" must be 64 lower-case hex digits');
  }
  if (s.responseNonce !== undefined && (!(s.responseNonce instanceof Uint8Array) || s.responseNonce.byteLength !== length)) {
    throw fieldInvalid(`"response_nonce" must be ${length} bytes for this AEAD`);
  }
}

/** The session file JSON (one line, no trailing newline). Checks the fields first. */
export function serializeSession(s: Session): string {
  checkSession(s);
  const out: Record<string, string | number> = {
    format: SESSION_FORMAT,
    router: s.router,
    kid: s.kid,
    kem: s.kem,
    kdf: s.kdf,
    aead: s.aead,
    enc: toBase64Url(s.enc),
    secret: toBase64Url(s.secret),
    rid: s.rid,
    iat: s.iat,
    key_config_sha256: s.keyConfigSha256,
  };
  if (s.responseNonce !== undefined) out.response_nonce = toBase64Url(s.responseNonce);
  return JSON.stringify(out);
}

/**
 * Parses a session file. UsageError codes: SESSION_CORRUPT (not a JSON object), SESSION_WRONG_FORMAT
 * (another "format"), SESSION_NEWER_VERSION (harmony-hpke-session/2 or later),
 * SESSION_FIELD_INVALID (a field missing or invalid).
 */
export function parseSession(text: string): Session {
  if (typeof text !== 'string') throw new UsageError('SESSION_CORRUPT', 'session file: not text');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError('SESSION_CORRUPT', 'session file: not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError('SESSION_CORRUPT', 'session file: not a JSON object');
  }
  const file = parsed as Record<string, unknown>;
  const format = file.format;
  if (format !== SESSION_FORMAT) {
    if (typeof format === 'string') {
      const version = /^harmony-hpke-session\/(\d+)$/.exec(format);
      if (version !== null && Number(version[1]) > 1) {
        throw new UsageError(
          'SESSION_NEWER_VERSION',
          `session file has format ${format}; this program reads ${SESSION_FORMAT}`,
        );
      }
    }
    if (format === undefined) throw new UsageError('SESSION_WRONG_FORMAT', 'not a session file (no "format")');
    throw new UsageError('SESSION_WRONG_FORMAT', 'not a harmony-hpke-session/1 file');
  }
  const int = (name: string): number => {
    const value = file[name];
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw fieldInvalid(`"${name}" must be an integer`);
    return value;
  };
  const str = (name: string): string => {
    const value = file[name];
    if (typeof value !== 'string') throw fieldInvalid(`"${name}" must be a string`);
    return value;
  };
  const bytes = (name: string): Uint8Array => {
    const decoded = tryFromBase64Url(str(name));
    if (decoded === undefined) throw fieldInvalid(`"${name}" must be base64url`);
    return new Uint8Array(decoded);
  };
  const session: Session = {
    format: SESSION_FORMAT,
    router: str('router'),
    kid: int('kid'),
    kem: int('kem'),
    kdf: int('kdf'),
    aead: int('aead'),
    enc: bytes('enc'),
    secret: bytes('secret'),
    rid: str('rid'),
    iat: int('iat'),
    keyConfigSha256: str('key_config_sha256'),
  };
  if (file.response_nonce !== undefined) session.responseNonce = bytes('response_nonce');
  checkSession(session);
  return session;
}

export interface SessionDescription {
  format: string;
  router: string;
  kid: number;
  kem: number;
  kdf: number;
  aead: number;
  suite: string;
  enc: string;
  rid: string;
  iat: number;
  issued: string;
  key_config_sha256: string;
  response_nonce?: string;
}

/** Everything about a session except its secret (for `inspect`). */
export function describeSession(s: Session): SessionDescription {
  const out: SessionDescription = {
    format: s.format,
    router: s.router,
    kid: s.kid,
    kem: s.kem,
    kdf: s.kdf,
    aead: s.aead,
    suite: suiteName(s.kem, s.kdf, s.aead),
    enc: toBase64Url(s.enc),
    rid: s.rid,
    iat: s.iat,
    issued: Number.isFinite(s.iat) ? new Date(s.iat * 1000).toISOString() : '',
    key_config_sha256: s.keyConfigSha256,
  };
  if (s.responseNonce !== undefined) out.response_nonce = toBase64Url(s.responseNonce);
  return out;
}
