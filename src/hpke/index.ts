/** harmony-hpke/1, the pure half: suites, key configs, keys, sealed requests, responses, sessions. */
export * from './base64url.js';
export * from './errors.js';
export * from './http-names.js';
export * from './suite.js';
export * from './key-config.js';
export * from './keys.js';
export * from './request.js';
export * from './response.js';
export * from './chunks.js';
export * from './session.js';
