/**
 * `harmony-hpke/router/testing`: the reference router's fault hooks, for suites that test a client
 * against streams that go wrong (a malformed header, a stall, a cut, an error chunk). A router
 * honours them only when started with `testFaults` (`serve --test-faults`); they are not part of
 * the production API in `harmony-hpke/router`.
 */
export { parseFault, TEST_FAULT_HEADER } from './server.js';
export type { EngineFault } from './engine.js';
