/**
 * Every error code raised by src/hpke and src/sse, in one table, so the CLI can document them.
 *
 * The classes live in src/core/errors.ts; a code always comes with the same class (family), listed here.
 * Messages name the check that failed and never contain plaintext, keys or secrets.
 */
import type { ErrorFamily } from '../core/errors.js';
import { HarmonyHpkeError } from '../core/errors.js';

export interface ProtocolErrorCode {
  readonly code: string;
  readonly family: ErrorFamily;
  readonly meaning: string;
}

/** All codes of the protocol library, grouped by where they arise. */
export const PROTOCOL_ERROR_CODES: readonly ProtocolErrorCode[] = Object.freeze([
  // Encoding helpers
  { code: 'BASE64URL_INVALID', family: 'usage', meaning: 'a field is not canonical unpadded base64url' },

  // Suites, key configs, keys, pins, key files
  { code: 'AEAD_UNSUPPORTED', family: 'key', meaning: 'the AEAD id is not one of 0x0001, 0x0002, 0x0003' },
  { code: 'SUITE_UNSUPPORTED', family: 'key', meaning: 'the requested suite is not supported or not offered by the key config' },
  { code: 'KEY_CONFIG_INVALID', family: 'key', meaning: 'the application/ohttp-keys body is malformed (lengths, suites, trailing bytes)' },
  { code: 'NO_SUPPORTED_SUITE', family: 'key', meaning: 'no key config in the list offers a suite this client supports' },
  { code: 'PUBLIC_KEY_INVALID', family: 'key', meaning: 'the public key has the wrong length or cannot be used' },
  { code: 'PRIVATE_KEY_INVALID', family: 'key', meaning: 'the private key has the wrong length or cannot be used' },
  { code: 'KEY_OPTIONS_INVALID', family: 'usage', meaning: 'a key id is not 0..255 or a suite list is empty or unsupported' },
  { code: 'KEY_PIN_INVALID', family: 'usage', meaning: 'a key pin is not "sha256:" followed by 64 hex digits' },
  { code: 'KEY_FILE_CORRUPT', family: 'key', meaning: 'the router key file is not valid JSON or a field is missing or invalid' },
  { code: 'KEY_FILE_WRONG_FORMAT', family: 'key', meaning: 'the file is not a harmony-hpke-key file' },
  { code: 'KEY_FILE_NEWER_VERSION', family: 'key', meaning: 'the key file has a newer format version than this program reads' },
  { code: 'KEY_FILE_KEY_MISMATCH', family: 'key', meaning: 'the key file public key does not belong to its private key' },

  // Sealed request (router side: see REQUEST_ERROR_STATUS for the HTTP status)
  { code: 'REQUEST_MALFORMED', family: 'usage', meaning: 'the sealed request body is too short to hold hdr, enc and ct (400)' },
  { code: 'REQUEST_SUITE_UNSUPPORTED', family: 'key', meaning: 'the request header names a suite the router key does not offer (422)' },
  { code: 'REQUEST_KEY_UNKNOWN', family: 'key', meaning: 'the request header names a key id the router does not hold (422)' },
  { code: 'REQUEST_OPEN_FAILED', family: 'integrity', meaning: 'the sealed request does not open with the router key (422)' },
  { code: 'REQUEST_PAYLOAD_INVALID', family: 'usage', meaning: 'the request plaintext is not padded JSON with the required fields' },
  { code: 'REQUEST_VERSION_UNSUPPORTED', family: 'usage', meaning: 'the request plaintext has a "v" other than 1' },

  // Response key schedule and chunk sealing (router side)
  { code: 'KEY_SCHEDULE_INPUT_INVALID', family: 'usage', meaning: 'secret, enc or response nonce has the wrong length' },
  { code: 'CHUNK_INDEX_INVALID', family: 'usage', meaning: 'a chunk index is not a non-negative safe integer' },
  { code: 'CHUNK_TOO_LARGE', family: 'usage', meaning: 'a chunk plaintext would exceed 16384 bytes' },
  { code: 'CHUNK_MESSAGE_INVALID', family: 'usage', meaning: 'a chunk message to be sealed does not match its type' },
  { code: 'SEALER_FINISHED', family: 'usage', meaning: 'a response sealer was used after its final chunk' },

  // Stream decoder (client side)
  { code: 'LINE_TOO_LONG', family: 'integrity', meaning: 'an SSE line exceeds the decoder line limit' },
  { code: 'EVENT_TOO_LARGE', family: 'integrity', meaning: 'an SSE event buffers more data than the decoder allows' },
  { code: 'SSE_NOT_UTF8', family: 'integrity', meaning: 'the SSE bytes are not valid UTF-8' },
  { code: 'UNEXPECTED_EVENT', family: 'integrity', meaning: 'an SSE event type other than hpke, chunk, final or error' },
  { code: 'MISSING_HPKE_EVENT', family: 'integrity', meaning: 'a chunk arrived before the hpke event' },
  { code: 'DUPLICATE_HPKE_EVENT', family: 'integrity', meaning: 'a second hpke event arrived' },
  { code: 'MALFORMED_HPKE_EVENT', family: 'integrity', meaning: 'the hpke event data is not the required JSON' },
  { code: 'RESPONSE_VERSION_UNSUPPORTED', family: 'integrity', meaning: 'the hpke event has a "v" other than 1' },
  { code: 'HPKE_HEADER_MISMATCH', family: 'integrity', meaning: 'the hpke event names another key id or suite than the session' },
  { code: 'SECOND_RESPONSE', family: 'integrity', meaning: 'the response nonce differs from the one already decoded with this session' },
  { code: 'MALFORMED_EVENT', family: 'integrity', meaning: 'a chunk or final event has a missing or non-canonical id, or data that is not base64url' },
  { code: 'STREAM_NOT_FOR_SESSION', family: 'integrity', meaning: 'the first chunk does not authenticate with this session (another request, or tampered)' },
  { code: 'CHUNK_AUTH_FAILED', family: 'integrity', meaning: 'a chunk does not authenticate (tampered)' },
  { code: 'CHUNK_OUT_OF_ORDER', family: 'integrity', meaning: 'chunks arrived out of order (reordered)' },
  { code: 'CHUNK_MISSING', family: 'integrity', meaning: 'a chunk index was skipped (dropped chunk)' },
  { code: 'CHUNK_DUPLICATE', family: 'integrity', meaning: 'a chunk index arrived a second time (duplicated chunk)' },
  { code: 'CHUNK_RELABELLED_FINAL', family: 'integrity', meaning: 'a non-final chunk was sent as the final event' },
  { code: 'FINAL_RELABELLED_CHUNK', family: 'integrity', meaning: 'the final chunk was sent as an ordinary chunk event' },
  { code: 'DATA_AFTER_FINAL', family: 'integrity', meaning: 'an event arrived after the verified final chunk' },
  { code: 'MALFORMED_CHUNK', family: 'integrity', meaning: 'an authenticated chunk plaintext is not padded JSON of a known shape' },
  { code: 'UNKNOWN_CHUNK_TYPE', family: 'integrity', meaning: 'an authenticated chunk has an unknown "t"' },
  { code: 'UNEXPECTED_CHUNK_TYPE', family: 'integrity', meaning: 'a chunk type is not allowed at its position (start first, end/error last)' },
  { code: 'RID_MISMATCH', family: 'integrity', meaning: 'the start chunk names another request id than the session' },
  { code: 'STREAM_TRUNCATED', family: 'truncated', meaning: 'the stream ended without a verified final chunk' },
  { code: 'DECODER_INTERNAL', family: 'internal', meaning: 'the stream decoder failed unexpectedly (a bug)' },
  { code: 'DECODER_OPTIONS_INVALID', family: 'usage', meaning: 'a decoder option is out of range' },
  { code: 'DECODER_CLOSED', family: 'usage', meaning: 'input was pushed into a decoder after end() or after it failed' },
  { code: 'BUFFER_LIMIT', family: 'usage', meaning: 'with buffer, the answer held before the final chunk is larger than maxBufferedChars' },
  { code: 'ROUTER_ERROR', family: 'router', meaning: "the router's authenticated error chunk (its own code is in routerCode)" },

  // Session files
  { code: 'SESSION_CORRUPT', family: 'usage', meaning: 'the session file is not a JSON object' },
  { code: 'SESSION_FIELD_INVALID', family: 'usage', meaning: 'a session file field is missing or invalid' },
  { code: 'SESSION_WRONG_FORMAT', family: 'usage', meaning: 'the file is not a harmony-hpke-session file' },
  { code: 'SESSION_NEWER_VERSION', family: 'usage', meaning: 'the session file has a newer format version than this program reads' },
] satisfies ProtocolErrorCode[]);

const BY_CODE = new Map(PROTOCOL_ERROR_CODES.map((entry) => [entry.code, entry]));

export function describeErrorCode(code: string): ProtocolErrorCode | undefined {
  return BY_CODE.get(code);
}

/** HTTP status a router answers when openRequest throws (problem+json before the stream). */
export const REQUEST_ERROR_STATUS: Readonly<Record<string, 400 | 422>> = Object.freeze({
  REQUEST_MALFORMED: 400,
  REQUEST_SUITE_UNSUPPORTED: 422,
  REQUEST_KEY_UNKNOWN: 422,
  REQUEST_OPEN_FAILED: 422,
});

/** 400 or 422 for an error thrown by openRequest; undefined for anything else (a bug: 500). */
export function requestErrorStatus(error: unknown): 400 | 422 | undefined {
  return error instanceof HarmonyHpkeError ? REQUEST_ERROR_STATUS[error.code] : undefined;
}
