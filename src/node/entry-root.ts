/**
 * `harmony-hpke` on Node.js (package.json "exports", condition "node"): installs the node:crypto
 * backend, then forwards src/index.ts unchanged (its names are listed there; hence the one
 * `export *`). test/package/exports.test.ts checks both entries export the same names.
 */
import { installNodeCryptoBackend } from './crypto-backend.js';

installNodeCryptoBackend();

export * from '../index.js';
