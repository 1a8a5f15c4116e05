/**
 * `harmony-hpke/testing` on Node.js (package.json "exports", condition "node"): installs the
 * node:crypto backend, then forwards src/sse/testing.ts unchanged (hence the one `export *`).
 */
import { installNodeCryptoBackend } from './crypto-backend.js';

installNodeCryptoBackend();

export * from '../sse/testing.js';
