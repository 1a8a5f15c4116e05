/**
 * `harmony-hpke/hpke` on Node.js (package.json "exports", condition "node"): installs the node:crypto
 * backend, then forwards the runtime-neutral entry point unchanged. The public names are listed
 * once, explicitly, in src/hpke/index.ts; this file only binds the backend (hence the one `export *`).
 */
import { installNodeCryptoBackend } from './crypto-backend.js';

installNodeCryptoBackend();

export * from '../hpke/index.js';
