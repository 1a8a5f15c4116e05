/**
 * harmony-hpke, the library: the Harmony encoding, the harmony-hpke/1 wire protocol and its SSE
 * framing, as namespaces (each is also its own entry point: harmony-hpke/harmony, /hpke, /sse),
 * plus the typed errors they all throw, the error registry, and the crypto seam (for runtimes
 * other than Node.js, whose entry points install node:crypto's backend themselves).
 */
export * as harmony from './harmony/index.js';
export * as hpke from './hpke/index.js';
export * as sse from './sse/index.js';
export {
  AuthError,
  CheckFailedError,
  HarmonyHpkeError,
  HarmonyParseError,
  IncompleteAnswerError,
  IntegrityError,
  InternalError,
  isHarmonyHpkeError,
  KeyError,
  NetworkError,
  OutputError,
  RouterError,
  RouterRefusedError,
  TruncatedError,
  UsageError,
} from './core/errors.js';
export { ERROR_CODES, errorCodeEntries, errorCodeInfo, familyOf, isErrorCode } from './core/error-codes.js';
export type { CodeOf, ErrorCode, ErrorCodeEntry, ErrorCodeInfo, ErrorFamily, ErrorScope } from './core/error-codes.js';
export { setCryptoBackend, type AeadAlgorithm, type AeadKey, type CryptoBackend } from './core/crypto.js';
