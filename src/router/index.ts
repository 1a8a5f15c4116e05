import { installNodeCryptoBackend } from '../node/crypto-backend.js';

// The router runs on Node.js: its libraries use node:crypto.
installNodeCryptoBackend();

export { startRouter, STREAM_PATH, KEYS_PATH, REQUEST_MEDIA_TYPE } from './server.js';
export type { RouterOptions, RunningRouter, RouterStats, RequestLog } from './server.js';
export { createEchoEngine, echoAnswer } from './engines/echo.js';
export { MemoryReplayStore, ReplayStoreFullError, type ReplayStore } from './replay-cache.js';
export { Keyring } from './keyring.js';
export { ProblemType } from './problem.js';
export type { Engine, EngineEvent, EngineRequest, EngineFault, FinishReason } from './engine.js';
export { EngineError } from './engine.js';
export { createUpstreamEngine, UPSTREAM_KINDS, type UpstreamKind, type UpstreamOptions } from './adapters/index.js';
export { harmonyEncoding } from './render.js';
