/**
 * `harmony-hpke` on Node.js (package.json "exports", condition "node"): installs the node:crypto
 * backend, then exports exactly what src/index.ts exports. The list is repeated here because the
 * layer rules keep src/node from importing src/index.ts; test/package/exports.test.ts checks that
 * the two entries export the same names.
 */
import { installNodeCryptoBackend } from './crypto-backend.js';

installNodeCryptoBackend();

export * as harmony from '../harmony/index.js';
export * as hpke from '../hpke/index.js';
export * as sse from '../sse/index.js';
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
} from '../core/errors.js';
export { ERROR_CODES, errorCodeEntries, errorCodeInfo, familyOf, isErrorCode } from '../core/error-codes.js';
export type { CodeOf, ErrorCode, ErrorCodeEntry, ErrorCodeInfo, ErrorFamily, ErrorScope } from '../core/error-codes.js';
export { setCryptoBackend, type AeadAlgorithm, type AeadKey, type CryptoBackend } from '../core/crypto.js';
