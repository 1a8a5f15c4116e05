/** Sessions and streams built from the protocol vectors, for the SSE tests. */
import {
  keyConfigSha256,
  parseKeyConfigList,
  parseRequestPlaintext,
  type ChunkMessage,
  type Session,
} from '../../src/hpke/index.js';
import { responseSecretLength } from '../../src/hpke/suite.js';
import {
  StreamDecoder,
  type DecodedEvent,
  type StreamDecoderOptions,
} from '../../src/sse/index.js';
import { encryptedEventStreamWithNonce } from '../../src/sse/testing.js';
import { HarmonyHpkeError } from '../../src/core/errors.js';
import { hex, utf8, vector, type ProtocolVector } from '../hpke/vectors-data.js';

export function sessionFor(v: ProtocolVector, overrides: Partial<Session> = {}): Session {
  const payload = parseRequestPlaintext(utf8(v.request_plaintext));
  const [config] = parseKeyConfigList(hex(v.key_config_list));
  return {
    format: 'harmony-hpke-session/1',
    router: 'https://router.example',
    kid: v.key_id,
    kem: v.kem_id,
    kdf: v.kdf_id,
    aead: v.aead_id,
    enc: hex(v.enc),
    secret: hex(v.secret),
    rid: payload.rid,
    iat: payload.iat,
    keyConfigSha256: keyConfigSha256(config!),
    ...overrides,
  };
}

export const aes128 = (): ProtocolVector => vector('aes-128-gcm');

/** Decodes a whole text in one push; returns the events or the typed error. */
export function decodeAll(
  session: Session,
  input: string | (string | Uint8Array)[],
  opts?: StreamDecoderOptions,
): { events: DecodedEvent[]; error?: HarmonyHpkeError } {
  const decoder = new StreamDecoder(session, opts);
  const events: DecodedEvent[] = [];
  try {
    for (const part of typeof input === 'string' ? [input] : input) decoder.pushInto(part, events);
    decoder.endInto(events);
    return { events };
  } catch (error) {
    if (!(error instanceof HarmonyHpkeError)) throw error;
    return { events, error };
  }
}

/** The typed error a decode ends with (fails the test if it decodes cleanly). */
export function decodeError(session: Session, input: string | (string | Uint8Array)[]): HarmonyHpkeError {
  const { error } = decodeAll(session, input);
  if (error === undefined) throw new Error('expected the decode to fail');
  return error;
}

/** The SSE events of a text, as blocks ending with a blank line. */
export function splitEvents(sse: string): string[] {
  return sse.split(/(?<=\n\n)/);
}

/** A short response for `session` (start, tokens..., end) as separate event texts, hpke first. */
export function buildEvents(
  session: Session,
  options: { nonce?: Uint8Array; tokens?: string[]; rid?: string; final?: ChunkMessage } = {},
): string[] {
  const stream = encryptedEventStreamWithNonce(
    { secret: session.secret, enc: session.enc, header: { keyId: session.kid, kemId: session.kem, kdfId: session.kdf, aeadId: session.aead } },
    options.nonce ?? new Uint8Array(responseSecretLength(session.aead)).fill(7),
  );
  const events = [stream.hpkeEvent(), stream.chunk({ t: 'start', rid: options.rid ?? session.rid, model: 'gpt-oss-20b', created: 1767225600 })];
  for (const [i, text] of (options.tokens ?? ['Hello', ',', ' world']).entries()) {
    events.push(stream.chunk({ t: 'tokens', ids: [1000 + i], text }));
  }
  events.push(
    stream.final(options.final ?? { t: 'end', finish: 'stop', usage: { prompt_tokens: 12, completion_tokens: 3 } }),
  );
  return events;
}

export function codeOf(session: Session, input: string | (string | Uint8Array)[]): string {
  return decodeError(session, input).code;
}
