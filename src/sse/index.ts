/**
 * harmony-hpke/sse: harmony-hpke/1 over Server-Sent Events: the router's event writer and the
 * verifying streaming decoder, listed by name (the per-event formatters are for writers that
 * seal chunks themselves; test-only hooks are in harmony-hpke/testing).
 */
export {
  createEncryptedEventStream,
  EncryptedEventStream,
  formatChunkEvent,
  formatComment,
  formatFinalEvent,
  formatHpkeEvent,
  type HpkeEventFields,
  type OpenedForResponse,
} from './encode.js';
export {
  DEFAULT_MAX_LINE_LENGTH,
  StreamDecoder,
  type DecodedEvent,
  type ResponseHeader,
  type StreamDecoderOptions,
} from './decrypt.js';
export {
  decryptStream,
  decryptStreamBatches,
  DEFAULT_MAX_BUFFERED_CHARS,
  sessionOpensStream,
  type DecryptStreamOptions,
} from './decrypt-stream.js';
