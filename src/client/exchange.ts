/**
 * One request/response exchange with a router: get its key, seal, (write the session,) POST, and
 * on a 422 key refusal refetch the key and re-seal exactly once. Returns the open response.
 */
import { newRequestId, type RequestPayload, type Session } from '../hpke/index.js';
import { KeyError } from '../core/errors.js';
import { sendWithRetry, type HttpResponse, type RetryPolicy, DEFAULT_RETRY } from './http.js';
import { resolveRouterKey, type ResolveKeyOptions, type SelectedKey } from './keys.js';
import { sealForRouter, type SealedForRouter } from './request.js';
import { storeSession } from './session-store.js';

/** Which router and key (as for resolveRouterKey), what to send, and where the session goes. */
export interface ExchangeOptions extends Omit<ResolveKeyOptions, 'forceFetch'> {
  readonly payload: RequestPayload;
  /** Where to write the session file before sending (none: kept in memory only). */
  readonly sessionPath?: string | undefined;
  readonly retry?: RetryPolicy;
  readonly onEvent?: (event: ExchangeEvent) => void;
}

export type ExchangeEvent =
  | { readonly type: 'key'; readonly key: SelectedKey; readonly origin: 'file' | 'router' }
  | { readonly type: 'sealed'; readonly bytes: number }
  | { readonly type: 'retry'; readonly attempt: number; readonly reason: string; readonly delayMs: number }
  | { readonly type: 'reseal'; readonly reason: string };

export interface Exchange {
  readonly response: HttpResponse;
  readonly session: Session;
  readonly sealed: SealedForRouter;
  readonly key: SelectedKey;
  /** Milliseconds from the start of the exchange to the response headers. */
  readonly startedAt: number;
}

export async function exchange(options: ExchangeOptions): Promise<Exchange> {
  const startedAt = performance.now();
  let forceFetch = false;
  for (let attempt = 0; ; attempt += 1) {
    const key = await resolveRouterKey({
      router: options.router,
      keysFile: options.keysFile,
      keyPin: options.keyPin,
      keyPinSource: options.keyPinSource,
      env: options.env,
      timeouts: options.timeouts ?? {},
      signal: options.signal,
      forceFetch,
    });
    options.onEvent?.({ type: 'key', key, origin: key.source.origin });
    // A re-seal is a new request (protocol: a new request id), and a fresh iat keeps it inside the router's window.
    const payload = attempt === 0 ? options.payload : { ...options.payload, rid: newRequestId(), iat: Math.floor(Date.now() / 1000) };
    const sealed = await sealForRouter(options.router, key, payload);
    options.onEvent?.({ type: 'sealed', bytes: sealed.body.byteLength });
    if (options.sessionPath !== undefined) await storeSession(options.env, options.sessionPath, sealed.session);
    try {
      const response = await sendWithRetry(
        {
          method: 'POST',
          url: sealed.url,
          headers: sealed.headers,
          body: sealed.body,
          timeouts: options.timeouts ?? {},
          signal: options.signal,
        },
        options.retry ?? DEFAULT_RETRY,
        (retryAttempt, reason, delayMs) => options.onEvent?.({ type: 'retry', attempt: retryAttempt, reason, delayMs }),
      );
      return { response, session: sealed.session, sealed, key, startedAt };
    } catch (error) {
      if (error instanceof KeyError && error.code === 'ROUTER_KEY_REJECTED' && attempt === 0) {
        options.onEvent?.({ type: 'reseal', reason: 'the router rejected the key (422); refetching its key config' });
        forceFetch = true;
        continue;
      }
      throw error;
    }
  }
}
