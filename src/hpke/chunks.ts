/**
 * Chunk plaintexts: UTF-8 JSON padded with ASCII spaces to a multiple of 64 bytes, at most
 * 16384 bytes.
 *
 *   {"t":"start","rid":"...","model":"...","created":1767225600}           first chunk
 *   {"t":"tokens","ids":[200005],"text":"<|channel|>"}                      zero or more
 *   {"t":"end","finish":"stop","usage":{"prompt_tokens":77,"completion_tokens":33}}   final
 *   {"t":"error","code":"...","message":"..."}                              final
 *
 * Extra members are allowed (and kept) for forward compatibility; the listed ones are checked.
 */
import { IntegrityError, RouterError, UsageError } from '../core/errors.js';
import { padToMultiple, unpadJson } from './request.js';

export const CHUNK_PADDING_BLOCK = 64;
export const MAX_CHUNK_PLAINTEXT = 16384;

export type FinishReason = 'stop' | 'length' | 'tool_call' | 'cancelled';

export interface StartMessage {
  t: 'start';
  rid: string;
  model: string;
  created: number;
  [k: string]: unknown;
}
export interface TokensMessage {
  t: 'tokens';
  ids: number[];
  text: string;
  [k: string]: unknown;
}
export interface EndMessage {
  t: 'end';
  finish: FinishReason;
  usage: { prompt_tokens: number; completion_tokens: number; [k: string]: unknown };
  [k: string]: unknown;
}
export interface ErrorMessage {
  t: 'error';
  code: string;
  message: string;
  [k: string]: unknown;
}

export type ChunkMessage = StartMessage | TokensMessage | EndMessage | ErrorMessage;

const FINISH_REASONS: ReadonlySet<string> = new Set(['stop', 'length', 'tool_call', 'cancelled']);

function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Why `value` is not a valid chunk message: undefined if valid, 'unknown' for an unknown type,
 * else a short reason.
 */
function checkMessage(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const msg = value as Record<string, unknown>;
  switch (msg.t) {
    case 'start':
      if (typeof msg.rid !== 'string') return 'start: "rid" must be a string';
      if (typeof msg.model !== 'string') return 'start: "model" must be a string';
      if (!isCount(msg.created)) return 'start: "created" must be a non-negative integer';
      return undefined;
    case 'tokens': {
      const ids = msg.ids;
      if (!Array.isArray(ids)) return 'tokens: "ids" must be an array';
      for (let i = 0; i < ids.length; i += 1) {
        if (!isCount(ids[i])) return 'tokens: "ids" must hold non-negative integers';
      }
      if (typeof msg.text !== 'string') return 'tokens: "text" must be a string';
      return undefined;
    }
    case 'end': {
      if (typeof msg.finish !== 'string' || !FINISH_REASONS.has(msg.finish)) {
        return 'end: "finish" must be stop, length, tool_call or cancelled';
      }
      const usage = msg.usage as Record<string, unknown> | null | undefined;
      if (typeof usage !== 'object' || usage === null || Array.isArray(usage)) return 'end: "usage" must be an object';
      if (!isCount(usage.prompt_tokens) || !isCount(usage.completion_tokens)) {
        return 'end: "usage" needs non-negative integer prompt_tokens and completion_tokens';
      }
      return undefined;
    }
    case 'error':
      if (typeof msg.code !== 'string') return 'error: "code" must be a string';
      if (typeof msg.message !== 'string') return 'error: "message" must be a string';
      return undefined;
    default:
      return 'unknown';
  }
}

/** JSON.stringify(msg) padded with spaces to a multiple of 64 bytes (CHUNK_TOO_LARGE over 16384). */
export function encodeChunkPlaintext(msg: ChunkMessage): Uint8Array {
  const problem = checkMessage(msg);
  if (problem !== undefined) {
    throw new UsageError('CHUNK_MESSAGE_INVALID', problem === 'unknown' ? 'chunk message: unknown type' : `chunk message: ${problem}`);
  }
  const bytes = padToMultiple(JSON.stringify(msg), CHUNK_PADDING_BLOCK);
  if (bytes.byteLength > MAX_CHUNK_PLAINTEXT) {
    throw new UsageError('CHUNK_TOO_LARGE', `a chunk plaintext would be ${bytes.byteLength} bytes; the limit is ${MAX_CHUNK_PLAINTEXT}`);
  }
  return bytes;
}

/**
 * Strict parse of an (authenticated) chunk plaintext. IntegrityError MALFORMED_CHUNK for bad
 * padding, size, UTF-8, JSON or fields; UNKNOWN_CHUNK_TYPE for an unknown "t".
 */
export function parseChunkPlaintext(bytes: Uint8Array): ChunkMessage {
  if (bytes.byteLength > MAX_CHUNK_PLAINTEXT) {
    throw new IntegrityError('MALFORMED_CHUNK', `chunk plaintext is over ${MAX_CHUNK_PLAINTEXT} bytes`);
  }
  const unpadded = unpadJson(bytes, CHUNK_PADDING_BLOCK);
  if ('reason' in unpadded) throw new IntegrityError('MALFORMED_CHUNK', `chunk plaintext: ${unpadded.reason}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(unpadded.text);
  } catch {
    throw new IntegrityError('MALFORMED_CHUNK', 'chunk plaintext: not valid JSON');
  }
  const problem = checkMessage(parsed);
  if (problem === 'unknown') throw new IntegrityError('UNKNOWN_CHUNK_TYPE', 'chunk plaintext: unknown type');
  if (problem !== undefined) throw new IntegrityError('MALFORMED_CHUNK', `chunk plaintext: ${problem}`);
  return parsed as ChunkMessage;
}

/** Control characters out, length capped: for showing router-supplied text on a terminal. */
export function sanitizeText(text: string, max = 500): string {
  const clean = text
    .replace(/[\t\n\r]+/g, ' ')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** The router's authenticated error chunk as a typed RouterError (code ROUTER_ERROR). */
export function routerErrorFromChunk(msg: ErrorMessage): RouterError {
  return new RouterError(sanitizeText(msg.code, 64), `router error ${sanitizeText(msg.code, 64)}: ${sanitizeText(msg.message)}`);
}
