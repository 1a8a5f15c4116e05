/**
 * harmony-hpke/hpke: harmony-hpke/1, the pure half (docs/protocol.md): suites, key configs and pins,
 * router keys and their files, sealed requests, the response key schedule and chunk AEAD, chunk
 * plaintexts, sessions, and the protocol's error codes and HTTP names.
 *
 * The public API, listed by name. Helpers the other modules share (padding, HKDF, the chunk cipher,
 * suite parameters) stay internal; test-only hooks (fixed ephemeral keys and response nonces) are
 * in harmony-hpke/testing.
 */
export { fromBase64Url, toBase64Url } from './base64url.js';
export { describeErrorCode, PROTOCOL_ERROR_CODES, REQUEST_ERROR_STATUS, requestErrorStatus, type ProtocolErrorCode } from './errors.js';
export {
  EVENT_STREAM_MEDIA_TYPE,
  KEYS_PATH,
  OHTTP_KEY_PROBLEM_TYPE,
  OHTTP_KEYS_MEDIA_TYPE,
  REPLAY_PROBLEM_TYPE,
  REQUEST_MEDIA_TYPE,
  STREAM_PATH,
} from './http-names.js';
export {
  AEAD_AES_128_GCM,
  AEAD_AES_256_GCM,
  AEAD_CHACHA20_POLY1305,
  isSupportedSuite,
  KDF_HKDF_SHA256,
  KEM_X25519_HKDF_SHA256,
  suiteName,
} from './suite.js';
export {
  encodeKeyConfigList,
  keyConfigSha256,
  matchesPin,
  parseKeyConfigList,
  parseKeyPin,
  publicKeyFingerprint,
  selectKeyConfig,
  type KeyConfig,
  type SuiteId,
} from './key-config.js';
export {
  DEFAULT_SUITES,
  generateRouterKey,
  keyConfigOf,
  parseRouterKeyFile,
  routerKeyFromPrivateKey,
  serializeRouterKeyFile,
  type RouterKey,
  type RouterKeyOptions,
} from './keys.js';
export {
  encodeRequestPlaintext,
  isRequestId,
  MAX_API_TOKEN_LENGTH,
  newRequestId,
  openRequest,
  parseRequestPlaintext,
  parseSealedRequest,
  sealRequest,
  type RequestHeader,
  type RequestParams,
  type RequestPayload,
  type SealedRequest,
  type SealedRequestResult,
} from './request.js';
export { deriveResponseKeys, openChunk, sealChunk, type ResponseKeys } from './response.js';
export {
  CHUNK_PADDING_BLOCK,
  encodeChunkPlaintext,
  MAX_CHUNK_PLAINTEXT,
  parseChunkPlaintext,
  routerErrorFromChunk,
  sanitizeText,
  type ChunkMessage,
  type EndMessage,
  type ErrorMessage,
  type FinishReason,
  type StartMessage,
  type TokensMessage,
} from './chunks.js';
export {
  describeSession,
  newSession,
  parseSession,
  serializeSession,
  sessionResponseKeys,
  SESSION_FORMAT,
  type Session,
  type SessionDescription,
} from './session.js';
