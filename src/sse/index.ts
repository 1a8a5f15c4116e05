/** harmony-hpke/1 over Server-Sent Events: the router's event writer and the verifying decoder. */
export * from './encode.js';
export * from './decrypt.js';
