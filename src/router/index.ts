export { startRouter, parseFault, STREAM_PATH, KEYS_PATH, REQUEST_MEDIA_TYPE, TEST_FAULT_HEADER } from './server.js';
export type { RouterOptions, RunningRouter, RouterStats, RequestLog } from './server.js';
export { createEchoEngine, echoAnswer } from './engines/echo.js';
export { MemoryReplayStore, type ReplayStore } from './replay-cache.js';
export { Keyring } from './keyring.js';
export { ProblemType } from './problem.js';
export type { Engine, EngineEvent, EngineRequest, EngineFault, FinishReason } from './engine.js';
export { EngineError } from './engine.js';
