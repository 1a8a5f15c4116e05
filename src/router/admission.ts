/**
 * Admission of one stream request, before any stream slot is taken: read the body (bounded in
 * size, time and rate, within the cap on concurrent uploads), open it, check its time and the
 * replay store. The result is an opened request, a refusal to send, or "the client is gone".
 */
import type { IncomingMessage } from 'node:http';
import {
  openRequest,
  parseRequestPlaintext,
  requestErrorStatus,
  type RequestPayload,
  type RouterKey,
} from '../hpke/index.js';
import { HarmonyHpkeError } from '../core/errors.js';
import type { Keyring } from './keyring.js';
import type { RequestLog, Settings } from './options.js';
import { openPlaintextBaseline } from './plaintext-baseline.js';
import { problems, type Problem } from './problem.js';
import { replayTtlFor, ReplayStoreFullError, type ReplayStore } from './replay-cache.js';
import type { TokenLimiter } from './auth/limits.js';
import type { ApiTokenTable } from './auth/tokens.js';
import type { RouterMetrics } from './metrics.js';

export type OpenedRequest = Awaited<ReturnType<typeof openRequest>>;

export interface Admitted {
  readonly kind: 'admitted';
  readonly opened: OpenedRequest;
  /** The payload, or why it is invalid (reported inside the stream). */
  readonly payload: RequestPayload | undefined;
  readonly payloadError: HarmonyHpkeError | undefined;
  readonly serverTime: number;
  /** The API token's name, when the router authenticates clients. */
  readonly token?: string | undefined;
  /** The token's cap on max_tokens, if it has one. */
  readonly maxTokens?: number | undefined;
  /** Frees the token's stream slot (per-token limits); call once the request is over, whatever happened. */
  readonly release: () => void;
}

export interface Refused {
  readonly kind: 'refused';
  readonly problem: Problem;
  readonly log?: Partial<RequestLog>;
}

export type Admission = Admitted | Refused | { readonly kind: 'gone' };

export interface Upload {
  readonly started: number;
  received: number;
  /** Ends the upload with 408 (evicted in favour of a newer one). */
  readonly evict: () => void;
}

/** How often an upload's rate is checked. */
const RATE_CHECK_MS = 200;

/**
 * The uploads in progress, at most `max`: when full, a new upload that has received bytes evicts
 * the one with the lowest rate so far (bytes per ms of age; the oldest among equals), so slow
 * uploads can never lock out others. A new upload with no bytes yet does not evict: it waits,
 * outside the set, for its first bytes (under the same rate rule and deadline). Were it to evict
 * at once, every slow uploader that reconnects when cut would cut another one, which reconnects
 * and cuts another, in a loop as fast as the router can accept connections (measured: about
 * 2,000 cuts/s from 256 reconnecting uploaders, legitimate p50 x5). A client that sends its body
 * with its headers (every ordinary client) has its first bytes within the event-loop turn that
 * started its upload, so it joins at once, and is never the one evicted.
 */
export class UploadSet {
  private readonly uploads = new Set<Upload>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.uploads.size;
  }

  /** Adds `upload`; false when the set is full and `upload` may not evict (no bytes yet, or a cap of 0). */
  add(upload: Upload): boolean {
    if (this.uploads.size >= this.max) {
      if (upload.received === 0) return false;
      const now = performance.now();
      let slowest: Upload | undefined;
      let slowestRate = Number.POSITIVE_INFINITY;
      for (const candidate of this.uploads) {
        const rate = candidate.received / Math.max(1, now - candidate.started);
        // Strictly lower: among equal rates the first (oldest) stays the choice.
        if (rate < slowestRate) {
          slowest = candidate;
          slowestRate = rate;
        }
      }
      if (slowest === undefined) return false;
      this.uploads.delete(slowest);
      slowest.evict();
    }
    this.uploads.add(upload);
    return true;
  }

  delete(upload: Upload): void {
    this.uploads.delete(upload);
  }
}

export type BodyResult = Uint8Array | 'too-large' | 'too-slow' | 'aborted' | 'busy';

/**
 * The request body, or why there is none: over the limit; too slow (not complete within the body
 * timeout, behind the minimum rate after the grace period, or evicted by a newer upload while the
 * upload cap is reached); refused for want of an upload slot; or cut short (the router is shutting
 * down, or the client went away mid-upload).
 */
export function readBody(req: IncomingMessage, settings: Settings, uploads: UploadSet, signal: AbortSignal): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  const length = Number.isFinite(declared) && declared >= 0 ? declared : undefined;
  if (length !== undefined && length > settings.maxRequestBytes) return Promise.resolve('too-large');
  if (signal.aborted) return Promise.resolve('aborted');
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    const upload: Upload = { started: performance.now(), received: 0, evict: () => finish('too-slow') };
    let done = false;
    /** In the upload set; else waiting for its first bytes to join it (the set was full). */
    let counted = false;
    const finish = (result: BodyResult) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      clearInterval(rateCheck);
      uploads.delete(upload);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onClose);
      signal.removeEventListener('abort', onClose);
      if (result !== 'aborted' && !(result instanceof Uint8Array)) req.pause();
      resolve(result);
    };
    const onData = (part: Buffer) => {
      upload.received += part.byteLength;
      if (!counted && !(counted = uploads.add(upload))) {
        finish('busy');
        return;
      }
      if (upload.received > settings.maxRequestBytes) finish('too-large');
      else parts.push(part);
    };
    const onEnd = () => finish(Buffer.concat(parts));
    const onClose = () => finish('aborted');
    const deadline = setTimeout(() => finish('too-slow'), settings.bodyTimeoutMs);
    const rateCheck = setInterval(() => {
      const elapsed = performance.now() - upload.started - settings.uploadGraceMs;
      if (elapsed <= 0) return;
      const due = Math.min(length ?? Number.POSITIVE_INFINITY, (settings.minUploadBytesPerSec * elapsed) / 1000);
      if (upload.received < due) finish('too-slow');
    }, RATE_CHECK_MS);
    if (settings.maxUploads === 0) {
      finish('busy');
      return;
    }
    counted = uploads.add(upload);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onClose);
    signal.addEventListener('abort', onClose, { once: true });
  });
}

/**
 * The client is gone or cannot be answered: its socket is destroyed, or no longer writable (node:http
 * ends the socket when the client half-closes, so nothing could be sent back).
 */
function clientLeft(req: IncomingMessage, signal: AbortSignal): boolean {
  return signal.aborted || req.socket.destroyed || !req.socket.writable;
}

export interface AdmissionContext {
  readonly settings: Settings;
  /** Replaced on reload (SIGHUP). */
  keyring: Keyring;
  /** A key that opens nothing: unknown key ids are tried against it, so they take as long to refuse as known ones. */
  readonly decoy: RouterKey;
  readonly replay: ReplayStore;
  readonly uploads: UploadSet;
  readonly now: () => number;
  /** Client authentication: the current token table, or undefined for open access. */
  readonly apiTokens?: (() => ApiTokenTable | undefined) | undefined;
  readonly limiter: TokenLimiter;
  readonly metrics?: RouterMetrics | undefined;
}

const SHUTTING_DOWN = problems.shuttingDown();

/** Reads, opens and checks one request. `signal` aborts when the client goes away or the router shuts down. */
export async function admit(
  ctx: AdmissionContext,
  req: IncomingMessage,
  signal: AbortSignal,
  baseline: boolean,
  isClosing: () => boolean,
): Promise<Admission> {
  const { settings } = ctx;
  const body = await readBody(req, settings, ctx.uploads, signal);
  if (body === 'aborted') return isClosing() ? { kind: 'refused', problem: SHUTTING_DOWN } : { kind: 'gone' };
  if (body === 'busy') {
    return { kind: 'refused', problem: problems.uploadsFull(settings.maxUploads) };
  }
  if (body === 'too-slow') {
    return { kind: 'refused', problem: problems.uploadTooSlow(settings.minUploadBytesPerSec, settings.bodyTimeoutMs) };
  }
  if (body === 'too-large') {
    return { kind: 'refused', problem: problems.tooLarge(settings.maxRequestBytes) };
  }

  // A client that left with its body (a half-close right after it) is not worth an HPKE open; its
  // FIN may be read in this turn or the next (setImmediate lets it in).
  if (clientLeft(req, signal)) return isClosing() ? { kind: 'refused', problem: SHUTTING_DOWN } : { kind: 'gone' };
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (clientLeft(req, signal)) return isClosing() ? { kind: 'refused', problem: SHUTTING_DOWN } : { kind: 'gone' };

  let opened: OpenedRequest;
  let unknownKey = false;
  const openStarted = performance.now();
  try {
    opened = baseline
      ? openPlaintextBaseline(body, ctx.keyring.current)
      : await openRequest(body, (keyId) => {
          const key = ctx.keyring.lookup(keyId);
          if (key !== undefined) return key;
          unknownKey = true;
          return ctx.decoy;
        });
  } catch (error) {
    // The status of each openRequest error is the protocol's table (src/hpke/errors.ts);
    // anything else is a bug and becomes a bare 500.
    const status = requestErrorStatus(error);
    if (status === undefined) throw error;
    const code = unknownKey ? 'REQUEST_KEY_UNKNOWN' : error instanceof HarmonyHpkeError ? error.code : 'UNEXPECTED';
    return {
      kind: 'refused',
      problem: status === 422 ? problems.keyUnknown() : problems.malformedRequest(),
      log: { error: code },
    };
  }
  ctx.metrics?.opened((performance.now() - openStarted) / 1000);
  if (signal.aborted) return isClosing() ? { kind: 'refused', problem: SHUTTING_DOWN } : { kind: 'gone' };

  // Parse the payload now (iat is inside it), but report a bad payload inside the stream.
  let payload: RequestPayload | undefined;
  let payloadError: HarmonyHpkeError | undefined;
  try {
    payload = parseRequestPlaintext(opened.plaintext);
  } catch (error) {
    if (!(error instanceof HarmonyHpkeError)) throw error;
    payloadError = error;
  }

  // Client authentication, before any engine work and before the replay store is touched: a
  // refused request burns no replay entry, so the client's retry after a 429 is the same bytes.
  const auth = authenticate(ctx, payload);
  if (auth.kind === 'refused') return auth;
  const { release, token, maxTokens } = auth;
  const refused = (result: Refused): Refused => {
    release();
    return result;
  };

  const nowMs = ctx.now();
  const serverTime = Math.floor(nowMs / 1000);
  const logFields = { rid: payload?.rid, kid: opened.header.keyId, token };
  if (payload && Math.abs(payload.iat - serverTime) * 1000 > settings.iatSkewMs) {
    return refused({
      kind: 'refused',
      problem: problems.iatOutsideWindow(settings.iatSkewMs, serverTime),
      log: logFields,
    });
  }
  let fresh: boolean;
  try {
    // The entry outlives the request's whole acceptance window (iat plus the skew), never less.
    const ttl = payload ? replayTtlFor(payload.iat, settings.iatSkewMs, nowMs, settings.replayTtlMs) : settings.replayTtlMs;
    const replayStarted = performance.now();
    let outcome: 'ok' | 'error' = 'error';
    try {
      fresh = await ctx.replay.remember(Buffer.from(opened.enc).toString('base64url'), ttl);
      outcome = 'ok';
    } finally {
      ctx.metrics?.replayStore(outcome, (performance.now() - replayStarted) / 1000);
    }
  } catch (error) {
    // Fail closed: without the replay check no request is served.
    const full = error instanceof ReplayStoreFullError;
    return refused({
      kind: 'refused',
      problem: problems.replayStoreUnavailable(full),
      log: { ...logFields, error: full ? 'REPLAY_STORE_FULL' : 'REPLAY_STORE_UNAVAILABLE' },
    });
  }
  if (!fresh) {
    return refused({
      kind: 'refused',
      problem: problems.replayed(serverTime),
      log: logFields,
    });
  }
  return { kind: 'admitted', opened, payload, payloadError, serverTime, token, maxTokens, release };
}

type Authenticated = { readonly kind: 'ok'; readonly release: () => void; readonly token?: string; readonly maxTokens?: number };

/** The API token check and per-token limits (401 / 429), or an open-access pass. */
function authenticate(ctx: AdmissionContext, payload: RequestPayload | undefined): Authenticated | Refused {
  const tokens = ctx.apiTokens?.();
  if (tokens === undefined) return { kind: 'ok', release: () => {} };
  const result = tokens.authenticate(payload?.api_token);
  if (!result.ok) {
    ctx.metrics?.authRefused(result.reason);
    // One answer for missing, unknown and disabled: nothing tells which tokens exist.
    return {
      kind: 'refused',
      problem: problems.unauthorized(),
      log: { error: `AUTH_${result.reason.toUpperCase()}` },
    };
  }
  const { entry } = result;
  const admitted = ctx.limiter.admit(entry);
  if (!admitted.ok) {
    ctx.metrics?.authRefused(admitted.reason, entry.name);
    return {
      kind: 'refused',
      problem: problems.rateLimited(admitted.reason, entry.limits, admitted.retryAfterSeconds),
      log: { token: entry.name, error: admitted.reason === 'streams' ? 'LIMIT_STREAMS' : 'LIMIT_RATE' },
    };
  }
  ctx.metrics?.tokenAccepted(entry.name);
  return {
    kind: 'ok',
    release: admitted.release,
    token: entry.name,
    ...(entry.limits.maxTokens !== undefined ? { maxTokens: entry.limits.maxTokens } : {}),
  };
}
