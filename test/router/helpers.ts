/**
 * Shared pieces of the router process tests: seal a request with the library client to a running
 * `harmony-hpke serve`, POST it, read a problem+json refusal, decode the encrypted stream with the
 * verifying decoder, and poll for a condition (no sleeps that guess at timing).
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { expect } from 'vitest';
import { readAll, send, type HttpResponse } from '../../src/client/http.js';
import { chooseKey, fetchKeyConfigs, type SelectedKey } from '../../src/client/keys.js';
import { buildConversation, buildPayload, sealForRouter, type SealedForRouter } from '../../src/client/request.js';
import {
  keyConfigSha256,
  sealRequest,
  type ChunkMessage,
  type RequestPayload,
  type Session,
} from '../../src/hpke/index.js';
import { padToMultiple, REQUEST_PADDING_BLOCK } from '../../src/hpke/request.js';
import { decryptStream, type ResponseHeader } from '../../src/sse/index.js';
import { loadHarmonyEncoding, Role } from '../../src/harmony/index.js';

export const PROBLEM_JSON = 'application/problem+json';

export const TYPES = {
  ohttpKey: 'https://iana.org/assignments/http-problem-types#ohttp-key',
  replay: 'urn:harmony-hpke:error:replay',
  malformed: 'urn:harmony-hpke:error:malformed-request',
  tooLarge: 'urn:harmony-hpke:error:payload-too-large',
  mediaType: 'urn:harmony-hpke:error:unsupported-media-type',
  overloaded: 'urn:harmony-hpke:error:overloaded',
  notFound: 'urn:harmony-hpke:error:not-found',
  method: 'urn:harmony-hpke:error:method-not-allowed',
  shuttingDown: 'urn:harmony-hpke:error:shutting-down',
} as const;

/** The router's current key, fetched from its /.well-known/hpke-keys with the library client. */
export async function routerKey(url: string): Promise<SelectedKey> {
  const source = await fetchKeyConfigs(url);
  return chooseKey(source.configs, undefined);
}

export interface SealOptions {
  readonly key?: SelectedKey;
  /** The request's clock (iat), default now. */
  readonly nowMs?: number;
  readonly maxTokens?: number;
}

export interface Sealed extends SealedForRouter {
  readonly payload: RequestPayload;
}

/** A request for `prompt`, sealed to the router's key as the CLI seals it. */
export async function seal(url: string, prompt: string, options: SealOptions = {}): Promise<Sealed> {
  const key = options.key ?? (await routerKey(url));
  const conversation = await buildConversation({ prompt });
  const payload = buildPayload(
    conversation,
    { model: 'gpt-oss-20b', maxTokens: options.maxTokens ?? 512, reasoningEffort: 'low' },
    options.nowMs ?? Date.now(),
  );
  const sealed = await sealForRouter(url, key, payload);
  return { ...sealed, payload };
}

/**
 * Seals any JSON value as the request plaintext, bypassing the library's payload checks (for
 * payloads a client would refuse to send); the session decrypts the answer as usual.
 */
export async function sealRaw(url: string, plaintext: Record<string, unknown>, key?: SelectedKey): Promise<SealedForRouter> {
  const chosen = key ?? (await routerKey(url));
  const sealed = await sealRequest(
    chosen.config,
    { kdfId: chosen.kdfId, aeadId: chosen.aeadId },
    padToMultiple(JSON.stringify(plaintext), REQUEST_PADDING_BLOCK),
  );
  const session: Session = {
    format: 'harmony-hpke-session/1',
    router: url,
    kid: chosen.config.keyId,
    kem: chosen.config.kemId,
    kdf: chosen.kdfId,
    aead: chosen.aeadId,
    enc: sealed.enc,
    secret: sealed.secret,
    rid: typeof plaintext['rid'] === 'string' ? plaintext['rid'] : '',
    iat: typeof plaintext['iat'] === 'number' ? plaintext['iat'] : 0,
    keyConfigSha256: keyConfigSha256(chosen.config),
  };
  return { body: sealed.body, session, url: `${url}/v1/harmony/stream`, headers: { 'content-type': 'application/harmony-hpke-req' } };
}

/** POSTs a sealed body (or any bytes) to the stream endpoint with the library's HTTP client. */
export function post(
  sealed: { url: string; body: Uint8Array; headers?: Readonly<Record<string, string>> },
  options: { headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<HttpResponse> {
  return send({
    method: 'POST',
    url: sealed.url,
    headers: { ...(sealed.headers ?? {}), ...options.headers },
    body: sealed.body,
    timeouts: { totalMs: 60_000 },
    signal: options.signal,
  });
}

export interface Refusal {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly problem: Record<string, unknown>;
}

/** Reads a refusal and checks what every refusal shares: problem+json whose status matches. */
export async function readProblem(response: HttpResponse): Promise<Refusal> {
  const bytes = await readAll(response.body, 64 * 1024);
  response.close();
  expect(response.headers['content-type']).toBe(PROBLEM_JSON);
  const problem = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
  expect(problem['status']).toBe(response.status);
  expect(typeof problem['title']).toBe('string');
  return { status: response.status, headers: response.headers, problem };
}

/** Expects a refusal with this status and problem type; returns it for further checks. */
export async function expectRefusal(response: HttpResponse, status: number, type: string): Promise<Refusal> {
  const refusal = await readProblem(response);
  expect({ status: refusal.status, type: refusal.problem['type'] }).toEqual({ status, type });
  return refusal;
}

export interface Decoded {
  readonly header: ResponseHeader | undefined;
  readonly start: ChunkMessage | undefined;
  readonly ids: number[];
  readonly text: string;
  readonly final: ChunkMessage | undefined;
  readonly pings: number;
}

/** Decodes a whole 200 response with the verifying decoder (throws its typed errors). */
export async function decode(response: HttpResponse, session: Session): Promise<Decoded> {
  expect(response.status).toBe(200);
  expect(response.headers['content-type']).toBe('text/event-stream');
  let header: ResponseHeader | undefined;
  let start: ChunkMessage | undefined;
  let final: ChunkMessage | undefined;
  const ids: number[] = [];
  let text = '';
  let pings = 0;
  for await (const event of decryptStream(response.body, session)) {
    if (event.type === 'header') header = event.header;
    else if (event.type === 'ping') pings += 1;
    else if (event.type === 'chunk') {
      const message = event.message;
      if (message.t === 'start') start = message;
      else if (message.t === 'tokens') {
        ids.push(...message.ids);
        text += message.text;
      }
      if (event.final) final = message;
    }
  }
  return { header, start, ids, text, final, pings };
}

const encoding = loadHarmonyEncoding('HarmonyGptOss');

/** The text of the `final` channel message in completion tokens (parsed with src/harmony). */
export function finalAnswer(ids: readonly number[]): string | undefined {
  const messages = encoding.parseMessagesFromCompletionTokens(ids, Role.Assistant);
  const final = messages.find((message) => message.channel === 'final');
  return final?.content.map((part) => ('text' in part ? String(part.text) : '')).join('');
}

/** Seals `prompt`, sends it and decodes the answer. */
export async function ask(url: string, prompt: string, options: SealOptions = {}): Promise<Decoded & { sealed: Sealed }> {
  const sealed = await seal(url, prompt, options);
  const response = await post(sealed);
  return { ...(await decode(response, sealed.session)), sealed };
}

export async function health(url: string): Promise<Record<string, unknown>> {
  const response = await send({ method: 'GET', url: `${url}/healthz`, timeouts: { totalMs: 10_000 } });
  const bytes = await readAll(response.body, 64 * 1024);
  return { http_status: response.status, ...(JSON.parse(Buffer.from(bytes).toString('utf8')) as object) };
}

export { waitFor } from '../helpers/wait.js';

/**
 * A raw node:http request (for what the library client never sends: other methods, chunked
 * uploads, no content type). Resolves with status, headers and body text.
 */
export function rawRequest(
  url: string,
  options: { method: string; headers?: Record<string, string>; body?: Uint8Array | readonly Uint8Array[] },
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method, headers: options.headers ?? {}, agent: false });
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
      res.on('error', reject);
    });
    // The router may answer (413) and close while the upload is still going: that is not a failure.
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    const body = options.body;
    if (body === undefined) req.end();
    else if (body instanceof Uint8Array) req.end(body);
    else {
      for (const part of body) req.write(part);
      req.end();
    }
  });
}

/** Splits SSE text into its comment lines (heartbeats). */
export function commentLines(sse: string): string[] {
  return sse.split(/\r?\n/).filter((line) => line.startsWith(':'));
}
