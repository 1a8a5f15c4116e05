import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/helpers/node-crypto.ts'],
    pool: 'forks',
    // Three files at a time, on 2 cores too: most tests wait on child processes and sockets, not
    // the CPU (test/cli under a load average of ~15: 377 s with one fork, 152 s with three). Every
    // test file has its own temp home, its own routers on free loopback ports and no shared files.
    maxWorkers: 3,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
