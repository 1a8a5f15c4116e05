/**
 * The layer rules of src/ (docs/architecture.md), checked by `npm run layers` inside `npm test`.
 * A lower layer never imports a higher one, and nothing imports in a circle:
 *   0 core                  runtime-neutral errors, bytes, the crypto seam
 *   1 harmony, hpke         pure libraries (on core only; neither imports the other)
 *   2 sse                   on hpke and core
 *   3 node                  Node-only helpers the wings share (crypto backend, ranks, files, env)
 *                           and the package's Node entry points (entry-*.ts)
 *   4 client, router        the two wings: never each other
 *   5 cli                   the CLI's shared parts (no router)
 *   6 commands              one module per subcommand
 *   7 app                   the composition root (program, run, main)
 * Layers 0-2 use no Node built-ins. Type-only imports count: a type is a dependency too.
 */
const layer = (name, allowed, alsoAllowed = []) => ({
  name: `${name}-imports-only-${allowed.join('-')}`,
  comment: `src/${name}/ may import only ${[...allowed.map((a) => `src/${a}/`), ...alsoAllowed].join(', ')} (docs/architecture.md)`,
  severity: 'error',
  from: { path: `^src/${name}/` },
  to: { path: '^src/', pathNot: [`^src/(${[name, ...allowed].join('|')})/`, ...alsoAllowed.map((f) => `^${f.replace('.', '\\.')}$`)] },
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import cycle: the layers must import one way',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'neutral-layers-use-no-node-builtins',
      comment: 'src/core, src/harmony, src/hpke and src/sse are runtime-neutral: Node APIs live in src/node/',
      severity: 'error',
      from: { path: '^src/(core|harmony|hpke|sse)/' },
      to: { dependencyTypes: ['core'] },
    },
    layer('core', []),
    layer('harmony', ['core']),
    layer('hpke', ['core']),
    layer('sse', ['hpke', 'core']),
    // src/node/entry-*.ts are the package's Node entry points: they bind the node:crypto backend and
    // re-export the runtime-neutral library entry.
    layer('node', ['core', 'harmony', 'hpke', 'sse'], ['src/index.ts']),
    layer('client', ['core', 'harmony', 'hpke', 'sse', 'node']),
    layer('router', ['core', 'harmony', 'hpke', 'sse', 'node']),
    layer('cli', ['core', 'harmony', 'hpke', 'sse', 'node', 'client']),
    layer('commands', ['core', 'harmony', 'hpke', 'sse', 'node', 'client', 'router', 'cli']),
    {
      name: 'src-root-files-are-entry-points',
      comment: 'src/index.ts (the library entry) imports the pure libraries and core only',
      severity: 'error',
      from: { path: '^src/index\\.ts$' },
      to: { path: '^src/', pathNot: '^src/(index\\.ts|core/|harmony/|hpke/|sse/)' },
    },
    {
      name: 'src-imports-no-tests',
      comment: 'src/ never imports from test/, bench/ or scripts/',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
