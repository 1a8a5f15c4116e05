/**
 * The protocol's error codes: the rows of the registry (src/core/error-codes.ts) with scope
 * `protocol`, every code src/hpke and src/sse raise, as docs/protocol.md section 10 lists them.
 *
 * A code always comes with the same class (family), listed here. Messages name the check that
 * failed and never contain plaintext, keys or secrets.
 */
import { errorCodeEntries, errorCodeInfo, type ErrorCode, type ErrorFamily } from '../core/error-codes.js';
import { HarmonyHpkeError } from '../core/errors.js';

export interface ProtocolErrorCode {
  readonly code: ErrorCode;
  readonly family: ErrorFamily;
  readonly meaning: string;
}

/** All codes of the protocol library, grouped by where they arise. */
export const PROTOCOL_ERROR_CODES: readonly ProtocolErrorCode[] = Object.freeze(
  errorCodeEntries('protocol').map(({ code, family, meaning }) => Object.freeze({ code, family, meaning })),
);

/** The row of a protocol code; undefined for any other string. */
export function describeErrorCode(code: string): ProtocolErrorCode | undefined {
  const info = errorCodeInfo(code);
  return info === undefined || info.scope !== 'protocol' ? undefined : { code: code as ErrorCode, family: info.family, meaning: info.meaning };
}

/** HTTP status a router answers when openRequest throws (problem+json before the stream). */
export const REQUEST_ERROR_STATUS: Readonly<Partial<Record<ErrorCode, 400 | 422>>> = Object.freeze({
  REQUEST_MALFORMED: 400,
  REQUEST_SUITE_UNSUPPORTED: 422,
  REQUEST_KEY_UNKNOWN: 422,
  REQUEST_OPEN_FAILED: 422,
});

/** 400 or 422 for an error thrown by openRequest; undefined for anything else (a bug: 500). */
export function requestErrorStatus(error: unknown): 400 | 422 | undefined {
  return error instanceof HarmonyHpkeError ? REQUEST_ERROR_STATUS[error.code] : undefined;
}
