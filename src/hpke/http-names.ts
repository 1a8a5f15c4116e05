/**
 * The HTTP names of harmony-hpke/1 (docs/protocol.md sections 3 to 5): paths, media types and the
 * problem types a client acts on. One definition for the client, the router and the docs' tests.
 */

/** `GET` here: the router's key configs. */
export const KEYS_PATH = '/.well-known/hpke-keys';
/** `POST` here: a sealed request in, the encrypted SSE stream out. */
export const STREAM_PATH = '/v1/harmony/stream';

export const OHTTP_KEYS_MEDIA_TYPE = 'application/ohttp-keys';
export const REQUEST_MEDIA_TYPE = 'application/harmony-hpke-req';
export const EVENT_STREAM_MEDIA_TYPE = 'text/event-stream';

/** 422: unknown key id, unsupported suite or no open (RFC 9458 section 5.4); the client re-seals once. */
export const OHTTP_KEY_PROBLEM_TYPE = 'https://iana.org/assignments/http-problem-types#ohttp-key';
/** 400: the same `enc` again, or `iat` outside the window. */
export const REPLAY_PROBLEM_TYPE = 'urn:harmony-hpke:error:replay';
