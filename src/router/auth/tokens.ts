/**
 * API tokens for client authentication.
 *
 * A token is `hhpke_` + base64url(32 random bytes): 256 bits, shown once by
 * `keys api-token create` and never stored. The router keeps only `sha256:<hex>` of it, one JSON
 * object per line in the API token file (mode 0600):
 *
 *   {"name":"team-a","hash":"sha256:…","enabled":true,"limits":{"max_streams":4,"requests_per_minute":60,"max_tokens":4096}}
 *
 * Blank lines and lines starting with `#` are ignored. A presented token is hashed and compared
 * with every entry in constant time (crypto.timingSafeEqual, no early exit), so neither the
 * answer's timing nor its body tells which tokens exist.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { UsageError } from '../../core/errors.js';

export const API_TOKEN_PREFIX = 'hhpke_';
const TOKEN_BYTES = 32;
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;
/** Longest token accepted from a request: a bound on the hashing work an unauthenticated peer can ask for. */
export const MAX_PRESENTED_TOKEN_LENGTH = 256;

export interface TokenLimits {
  /** Concurrent streams for this token on one router process. */
  readonly maxStreams?: number | undefined;
  /** Requests accepted per rolling minute for this token on one router process. */
  readonly requestsPerMinute?: number | undefined;
  /** Upper bound for a request's max_tokens (lower values are kept). */
  readonly maxTokens?: number | undefined;
}

export interface ApiTokenEntry {
  readonly name: string;
  readonly hash: Buffer;
  readonly enabled: boolean;
  readonly limits: TokenLimits;
}

export type AuthResult =
  | { readonly ok: true; readonly entry: ApiTokenEntry }
  | { readonly ok: false; readonly reason: 'missing' | 'unknown' | 'disabled' };

export function newApiToken(): string {
  return API_TOKEN_PREFIX + randomBytes(TOKEN_BYTES).toString('base64url');
}

export function hashApiToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export function isValidTokenName(name: unknown): name is string {
  return typeof name === 'string' && NAME_PATTERN.test(name);
}

/** One line of the token file for `token`. */
export function tokenFileLine(name: string, token: string, limits: TokenLimits = {}): string {
  const limitsJson: Record<string, number> = {};
  if (limits.maxStreams !== undefined) limitsJson['max_streams'] = limits.maxStreams;
  if (limits.requestsPerMinute !== undefined) limitsJson['requests_per_minute'] = limits.requestsPerMinute;
  if (limits.maxTokens !== undefined) limitsJson['max_tokens'] = limits.maxTokens;
  return JSON.stringify({
    name,
    hash: `sha256:${hashApiToken(token).toString('hex')}`,
    enabled: true,
    ...(Object.keys(limitsJson).length > 0 ? { limits: limitsJson } : {}),
  });
}

function positiveLimit(value: unknown, where: string, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new UsageError('API_TOKENS_INVALID', `${where}: "limits.${field}" must be a positive integer`);
  }
  return value;
}

/** Parses an API token file's text; `source` names it in errors (never a hash or token). */
export function parseApiTokenFile(text: string, source: string): ApiTokenEntry[] {
  const entries: ApiTokenEntry[] = [];
  const names = new Set<string>();
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `${source} line ${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new UsageError('API_TOKENS_INVALID', `${where}: not a JSON object`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new UsageError('API_TOKENS_INVALID', `${where}: not a JSON object`);
    }
    const record = value as Record<string, unknown>;
    if (!isValidTokenName(record['name'])) {
      throw new UsageError('API_TOKENS_INVALID', `${where}: "name" must be 1-64 letters, digits, '.', '_' or '-'`);
    }
    const name = record['name'];
    if (names.has(name)) throw new UsageError('API_TOKENS_INVALID', `${where}: the name '${name}' is used twice`);
    names.add(name);
    const hash = record['hash'];
    if (typeof hash !== 'string' || !HASH_PATTERN.test(hash)) {
      throw new UsageError('API_TOKENS_INVALID', `${where}: "hash" must be sha256:<64 hex digits>`);
    }
    const enabled = record['enabled'] ?? true;
    if (typeof enabled !== 'boolean') throw new UsageError('API_TOKENS_INVALID', `${where}: "enabled" must be true or false`);
    const rawLimits = record['limits'] ?? {};
    if (typeof rawLimits !== 'object' || rawLimits === null || Array.isArray(rawLimits)) {
      throw new UsageError('API_TOKENS_INVALID', `${where}: "limits" must be an object`);
    }
    const limits = rawLimits as Record<string, unknown>;
    for (const key of Object.keys(limits)) {
      if (key !== 'max_streams' && key !== 'requests_per_minute' && key !== 'max_tokens') {
        throw new UsageError('API_TOKENS_INVALID', `${where}: unknown limit '${key}'`);
      }
    }
    entries.push({
      name,
      hash: Buffer.from(hash.slice('sha256:'.length), 'hex'),
      enabled,
      limits: {
        maxStreams: positiveLimit(limits['max_streams'], where, 'max_streams'),
        requestsPerMinute: positiveLimit(limits['requests_per_minute'], where, 'requests_per_minute'),
        maxTokens: positiveLimit(limits['max_tokens'], where, 'max_tokens'),
      },
    });
  }
  return entries;
}

/** The loaded token table; replaced as a whole on reload, so a lookup never sees half a file. */
export class ApiTokenTable {
  constructor(readonly entries: readonly ApiTokenEntry[]) {}

  get size(): number {
    return this.entries.length;
  }

  /**
   * Checks a presented token. The presented token is hashed once and compared with every entry's
   * hash (timingSafeEqual on 32-byte digests, the loop never stops early), so the work done does
   * not depend on which entry, if any, matches.
   */
  authenticate(presented: unknown): AuthResult {
    if (typeof presented !== 'string' || presented.length === 0) return { ok: false, reason: 'missing' };
    // An over-long token cannot be one of ours; still hash a bounded prefix to keep the work alike.
    const digest = hashApiToken(presented.length > MAX_PRESENTED_TOKEN_LENGTH ? presented.slice(0, MAX_PRESENTED_TOKEN_LENGTH) : presented);
    let found: ApiTokenEntry | undefined;
    for (const entry of this.entries) {
      const same = timingSafeEqual(entry.hash, digest);
      if (same && found === undefined) found = entry;
    }
    if (found === undefined || presented.length > MAX_PRESENTED_TOKEN_LENGTH) return { ok: false, reason: 'unknown' };
    if (!found.enabled) return { ok: false, reason: 'disabled' };
    return { ok: true, entry: found };
  }
}
