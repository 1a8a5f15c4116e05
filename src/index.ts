/**
 * harmony-hpke, the library: the Harmony encoding, the harmony-hpke/1 wire protocol and its SSE
 * framing, as namespaces (each is also its own entry point: harmony-hpke/harmony, /hpke, /sse),
 * plus the typed errors they all throw.
 */
export * as harmony from './harmony/index.js';
export * as hpke from './hpke/index.js';
export * as sse from './sse/index.js';
export * from './core/errors.js';
