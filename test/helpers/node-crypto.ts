/** vitest setup: the libraries' crypto backend is node:crypto's, as in every Node entry point. */
import { installNodeCryptoBackend } from '../../src/node/crypto-backend.js';

installNodeCryptoBackend();
