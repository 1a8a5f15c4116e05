#!/usr/bin/env node
// Tiny launcher: everything else loads lazily from the bundled CLI (npm run build: tsc, then
// esbuild bundles dist/src/cli into dist/cli, so start-up resolves a few files, not a hundred).
import('../dist/cli/main.js').then(
  (cli) => cli.main(process.argv),
  (error) => {
    if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/cli')) {
      process.stderr.write('harmony-hpke: error: the CLI is not built; run `npm run build` (or `npm ci`) first (INTERNAL)\n');
    } else {
      process.stderr.write(`harmony-hpke: error: ${error && error.message ? error.message : String(error)} (INTERNAL)\n`);
    }
    process.exitCode = 1;
  },
);
