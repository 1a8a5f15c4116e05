/**
 * The sealed request of harmony-hpke/1 (RFC 9458 section 4.3 style encapsulation):
 *
 *   body = hdr || enc || ct
 *   hdr  = key_id(1) kem_id(2) kdf_id(2) aead_id(2)              7 bytes, big-endian
 *   info = "harmony-hpke/1 request" || 0x00 || hdr
 *   (enc, ctx) = SetupBaseS(pkR, info);  ct = ctx.Seal("", plaintext)
 *   secret = ctx.Export("harmony-hpke/1 response", max(Nn, Nk))
 *
 * and its plaintext: UTF-8 JSON padded with ASCII spaces to a multiple of 1024 bytes.
 */
import { concatBytes, toArrayBuffer, toBase64Url, tryFromBase64Url, tryUtf8Decode, utf8Encode, utf8EncodePadded } from '../core/bytes.js';
import { cryptoBackend } from '../core/crypto.js';
import { IntegrityError, KeyError, UsageError } from '../core/errors.js';
import type { KeyConfig, SuiteId } from './key-config.js';
import type { RouterKey } from './keys.js';
import {
  AEAD_TAG_LENGTH,
  createCipherSuite,
  type KemKeyPair,
  isSupportedSuite,
  responseSecretLength,
  X25519_KEY_LENGTH,
} from './suite.js';

export const REQUEST_HEADER_LENGTH = 7;
export const REQUEST_INFO_LABEL = 'harmony-hpke/1 request';
export const RESPONSE_EXPORT_LABEL = 'harmony-hpke/1 response';
export const REQUEST_PADDING_BLOCK = 1024;
export const REQUEST_ID_BYTES = 16;

export interface RequestHeader {
  keyId: number;
  kemId: number;
  kdfId: number;
  aeadId: number;
}

export interface RequestParams {
  max_tokens?: number;
  temperature?: number;
  reasoning_effort?: 'low' | 'medium' | 'high';
  [k: string]: unknown;
}

export interface RequestPayload {
  v: 1;
  rid: string;
  iat: number;
  model: string;
  conversation: { messages: unknown[] };
  params: RequestParams;
  render?: Record<string, unknown>;
  /** The client's API token for a router that authenticates clients (sealed: no relay sees it). */
  api_token?: string;
}

/** Longest api_token member a payload may carry. */
export const MAX_API_TOKEN_LENGTH = 256;

export interface SealedRequest {
  header: RequestHeader;
  enc: Uint8Array;
  ciphertext: Uint8Array;
}

/** base64url of 16 random bytes. */
export function newRequestId(): string {
  return toBase64Url(cryptoBackend().randomBytes(REQUEST_ID_BYTES));
}

/** Whether `rid` is canonical base64url of exactly 16 bytes. */
export function isRequestId(rid: unknown): rid is string {
  return typeof rid === 'string' && tryFromBase64Url(rid)?.byteLength === REQUEST_ID_BYTES;
}

/** UTF-8 `text` followed by ASCII spaces up to the next multiple of `block` (none if aligned). */
export function padToMultiple(text: string, block: number): Uint8Array {
  // Encoded straight into the space-filled result (one copy): this runs per chunk.
  return utf8EncodePadded(text, block, 0x20);
}

/**
 * The UTF-8 text of a padded JSON object, or a reason it is not one: bytes a multiple of `block`,
 * valid UTF-8, starting with "{", and nothing but spaces after the closing "}".
 */
export function unpadJson(bytes: Uint8Array, block: number): { text: string } | { reason: string } {
  if (bytes.byteLength === 0 || bytes.byteLength % block !== 0) {
    return { reason: `length ${bytes.byteLength} is not a non-zero multiple of ${block}` };
  }
  let end = bytes.byteLength;
  while (end > 0 && bytes[end - 1] === 0x20) end -= 1;
  if (bytes[0] !== 0x7b || end === 0 || bytes[end - 1] !== 0x7d) {
    return { reason: 'not a JSON object padded with spaces' };
  }
  // Strict UTF-8 (no overlongs, surrogates or truncated sequences), ASCII without a TextDecoder.
  const text = tryUtf8Decode(bytes.subarray(0, end));
  return text === undefined ? { reason: 'not valid UTF-8' } : { text };
}

function payloadInvalid(message: string): UsageError {
  return new UsageError('REQUEST_PAYLOAD_INVALID', `request payload: ${message}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkPayload(payload: unknown): RequestPayload {
  if (!isPlainObject(payload)) throw payloadInvalid('not a JSON object');
  if (payload.v !== 1) {
    throw new UsageError('REQUEST_VERSION_UNSUPPORTED', 'request payload: "v" must be 1');
  }
  if (!isRequestId(payload.rid)) throw payloadInvalid('"rid" must be base64url of 16 bytes');
  const { iat, model, conversation, params, render, api_token } = payload;
  if (typeof iat !== 'number' || !Number.isSafeInteger(iat) || iat < 0) {
    throw payloadInvalid('"iat" must be a non-negative integer (unix seconds)');
  }
  if (typeof model !== 'string' || model.length === 0 || model.length > 256) {
    throw payloadInvalid('"model" must be a non-empty string of at most 256 characters');
  }
  if (!isPlainObject(conversation) || !Array.isArray(conversation.messages)) {
    throw payloadInvalid('"conversation" must be an object with a "messages" array');
  }
  if (!isPlainObject(params)) throw payloadInvalid('"params" must be an object');
  const { max_tokens, temperature, reasoning_effort } = params;
  if (max_tokens !== undefined && (typeof max_tokens !== 'number' || !Number.isSafeInteger(max_tokens) || max_tokens < 1)) {
    throw payloadInvalid('"params.max_tokens" must be a positive integer');
  }
  if (temperature !== undefined && (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature < 0)) {
    throw payloadInvalid('"params.temperature" must be a non-negative number');
  }
  if (reasoning_effort !== undefined && reasoning_effort !== 'low' && reasoning_effort !== 'medium' && reasoning_effort !== 'high') {
    throw payloadInvalid('"params.reasoning_effort" must be "low", "medium" or "high"');
  }
  if (render !== undefined && !isPlainObject(render)) throw payloadInvalid('"render" must be an object');
  if (api_token !== undefined && (typeof api_token !== 'string' || api_token.length === 0 || api_token.length > MAX_API_TOKEN_LENGTH)) {
    throw payloadInvalid(`"api_token" must be a non-empty string of at most ${MAX_API_TOKEN_LENGTH} characters`);
  }
  const out: RequestPayload = {
    v: 1,
    rid: payload.rid,
    iat,
    model,
    conversation: conversation as { messages: unknown[] },
    params: params as RequestParams,
  };
  if (render !== undefined) out.render = render;
  if (api_token !== undefined) out.api_token = api_token as string;
  return out;
}

/**
 * The padded request plaintext. Members are written in the order v, rid, iat, model,
 * conversation, params, render, api_token; the payload is validated first (UsageError REQUEST_PAYLOAD_INVALID).
 */
export function encodeRequestPlaintext(payload: RequestPayload): Uint8Array {
  const checked = checkPayload(payload);
  return padToMultiple(JSON.stringify(checked), REQUEST_PADDING_BLOCK);
}

/**
 * Strict parse of a request plaintext: length a multiple of 1024, UTF-8, a JSON object padded
 * with spaces, v = 1, the field types above. Unknown members are ignored (and dropped).
 */
export function parseRequestPlaintext(bytes: Uint8Array): RequestPayload {
  const unpadded = unpadJson(bytes, REQUEST_PADDING_BLOCK);
  if ('reason' in unpadded) throw payloadInvalid(unpadded.reason);
  let parsed: unknown;
  try {
    parsed = JSON.parse(unpadded.text);
  } catch {
    throw payloadInvalid('not valid JSON');
  }
  return checkPayload(parsed);
}

function checkHeaderField(value: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new UsageError('REQUEST_MALFORMED', `${what} out of range`);
}

/** hdr = key_id(1) kem_id(2) kdf_id(2) aead_id(2). */
export function encodeRequestHeader(header: RequestHeader): Uint8Array {
  checkHeaderField(header.keyId, 0xff, 'key id');
  checkHeaderField(header.kemId, 0xffff, 'KEM id');
  checkHeaderField(header.kdfId, 0xffff, 'KDF id');
  checkHeaderField(header.aeadId, 0xffff, 'AEAD id');
  const out = new Uint8Array(REQUEST_HEADER_LENGTH);
  const view = new DataView(out.buffer);
  out[0] = header.keyId;
  view.setUint16(1, header.kemId);
  view.setUint16(3, header.kdfId);
  view.setUint16(5, header.aeadId);
  return out;
}

/** info = "harmony-hpke/1 request" || 0x00 || hdr. */
export function requestInfo(header: RequestHeader): Uint8Array {
  const label = utf8Encode(REQUEST_INFO_LABEL);
  const out = new Uint8Array(label.byteLength + 1 + REQUEST_HEADER_LENGTH);
  out.set(label);
  out[label.byteLength] = 0;
  out.set(encodeRequestHeader(header), label.byteLength + 1);
  return out;
}

/**
 * Splits a sealed request body. Errors: REQUEST_MALFORMED (UsageError, HTTP 400) when the body
 * is shorter than hdr + enc + tag; REQUEST_SUITE_UNSUPPORTED (KeyError, 422) when the header names
 * a suite this library does not implement (the length of enc is then unknown).
 */
export function parseSealedRequest(body: Uint8Array): SealedRequest {
  if (!(body instanceof Uint8Array) || body.byteLength < REQUEST_HEADER_LENGTH) {
    throw new UsageError('REQUEST_MALFORMED', 'sealed request: shorter than its 7-byte header');
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const header: RequestHeader = {
    keyId: body[0]!,
    kemId: view.getUint16(1),
    kdfId: view.getUint16(3),
    aeadId: view.getUint16(5),
  };
  if (!isSupportedSuite(header.kemId, header.kdfId, header.aeadId)) {
    throw new KeyError('REQUEST_SUITE_UNSUPPORTED', 'sealed request: the header names an unsupported suite');
  }
  const encEnd = REQUEST_HEADER_LENGTH + X25519_KEY_LENGTH;
  if (body.byteLength < encEnd + AEAD_TAG_LENGTH) {
    throw new UsageError('REQUEST_MALFORMED', 'sealed request: too short for enc and an AEAD tag');
  }
  return {
    header,
    enc: body.slice(REQUEST_HEADER_LENGTH, encEnd),
    ciphertext: body.slice(encEnd),
  };
}

/**
 * Seals `plaintext` to the key config with the chosen suite. `ekm` is hpke-js's test-only fixed
 * ephemeral key pair (see ephemeralKeyPairFromPrivateKey); never pass it outside tests.
 */
export async function sealRequest(
  config: KeyConfig,
  suite: SuiteId,
  plaintext: Uint8Array,
  opts: { ekm?: KemKeyPair } = {},
): Promise<{ body: Uint8Array; header: RequestHeader; enc: Uint8Array; secret: Uint8Array }> {
  if (!isSupportedSuite(config.kemId, suite.kdfId, suite.aeadId)) {
    throw new KeyError('SUITE_UNSUPPORTED', 'the chosen suite is not supported by this client');
  }
  if (!config.suites.some((offered) => offered.kdfId === suite.kdfId && offered.aeadId === suite.aeadId)) {
    throw new KeyError('SUITE_UNSUPPORTED', 'the chosen suite is not offered by the key config');
  }
  if (!(config.publicKey instanceof Uint8Array) || config.publicKey.byteLength !== X25519_KEY_LENGTH) {
    throw new KeyError('PUBLIC_KEY_INVALID', 'the key config public key is not 32 bytes');
  }
  const header: RequestHeader = { keyId: config.keyId, kemId: config.kemId, kdfId: suite.kdfId, aeadId: suite.aeadId };
  const hdr = encodeRequestHeader(header);
  const cipherSuite = await createCipherSuite(suite.aeadId);
  let sender;
  try {
    const recipientPublicKey = await cipherSuite.kem.deserializePublicKey(toArrayBuffer(config.publicKey));
    sender = await cipherSuite.createSenderContext({
      recipientPublicKey,
      info: toArrayBuffer(requestInfo(header)),
      ...(opts.ekm !== undefined ? { ekm: opts.ekm } : {}),
    });
  } catch (error) {
    throw new KeyError('PUBLIC_KEY_INVALID', 'the key config public key cannot be used for X25519', { cause: error });
  }
  const ciphertext = new Uint8Array(await sender.seal(toArrayBuffer(plaintext)));
  const secret = new Uint8Array(
    await sender.export(toArrayBuffer(RESPONSE_EXPORT_LABEL_BYTES), responseSecretLength(suite.aeadId)),
  );
  const enc = new Uint8Array(sender.enc);
  return { body: concatBytes(hdr, enc, ciphertext), header, enc, secret };
}

const RESPONSE_EXPORT_LABEL_BYTES = utf8Encode(RESPONSE_EXPORT_LABEL);
const importedKeys = new WeakMap<RouterKey, Promise<KemKeyPair>>();

async function importRouterKey(key: RouterKey, aeadId: number): Promise<KemKeyPair> {
  let pair = importedKeys.get(key);
  if (pair === undefined) {
    pair = (async () => {
      const suite = await createCipherSuite(aeadId);
      return {
        privateKey: await suite.kem.importKey('raw', toArrayBuffer(key.privateKey), false),
        publicKey: await suite.kem.importKey('raw', toArrayBuffer(key.publicKey), true),
      };
    })();
    importedKeys.set(key, pair);
    pair.catch(() => importedKeys.delete(key));
  }
  return pair;
}

/**
 * Opens a sealed request with the router key `lookup(keyId)` returns. Errors and the HTTP status a
 * router answers with (see REQUEST_ERROR_STATUS):
 *   REQUEST_MALFORMED          400  body shorter than hdr + enc + tag
 *   REQUEST_SUITE_UNSUPPORTED  422  suite not implemented, or not offered by that key
 *   REQUEST_KEY_UNKNOWN        422  no key with that key id
 *   REQUEST_OPEN_FAILED        422  HPKE decapsulation or AEAD open failed
 */
export async function openRequest(
  body: Uint8Array,
  lookup: (keyId: number) => RouterKey | undefined,
): Promise<{ header: RequestHeader; enc: Uint8Array; plaintext: Uint8Array; secret: Uint8Array; key: RouterKey }> {
  const { header, enc, ciphertext } = parseSealedRequest(body);
  const key = lookup(header.keyId);
  if (key === undefined) {
    throw new KeyError('REQUEST_KEY_UNKNOWN', `sealed request: no router key with key id ${header.keyId}`);
  }
  if (
    key.kemId !== header.kemId ||
    !key.suites.some((suite) => suite.kdfId === header.kdfId && suite.aeadId === header.aeadId)
  ) {
    throw new KeyError('REQUEST_SUITE_UNSUPPORTED', `sealed request: key id ${header.keyId} does not offer this suite`);
  }
  const suite = await createCipherSuite(header.aeadId);
  let plaintext: Uint8Array;
  let secret: Uint8Array;
  try {
    const recipient = await suite.createRecipientContext({
      recipientKey: await importRouterKey(key, header.aeadId),
      enc: toArrayBuffer(enc),
      info: toArrayBuffer(requestInfo(header)),
    });
    plaintext = new Uint8Array(await recipient.open(toArrayBuffer(ciphertext)));
    secret = new Uint8Array(
      await recipient.export(toArrayBuffer(RESPONSE_EXPORT_LABEL_BYTES), responseSecretLength(header.aeadId)),
    );
  } catch (error) {
    throw new IntegrityError('REQUEST_OPEN_FAILED', 'sealed request: HPKE open failed', { cause: error });
  }
  return { header, enc, plaintext, secret, key };
}
