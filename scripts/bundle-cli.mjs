/**
 * `npm run build`, second step: bundles the compiled CLI (dist/src/app/main.js and every command
 * module it imports lazily) into dist/cli/ with esbuild, which bin/harmony-hpke.js loads. One file
 * per lazily loaded part instead of a hundred modules, so start-up pays for few module
 * resolutions (docs/performance.md), plus dist/cli/render-worker.js (the router's render worker). The library (dist/src) is not bundled; gpt-tokenizer stays
 * external (its ranks are required at run time, on first use). Also writes dist/ranks/, the rank
 * table in V8's serialization format that the CLI reads instead (src/node/ranks.ts), and the
 * pre-tokenizer's Unicode classes as this Node finds them (src/node/unicode-cache.ts).
 *
 * Rebuilding while CLI processes run (tests, a router) must not pull files from under them: chunk
 * names carry a content hash, so new chunks are written beside the old ones, main.js is replaced
 * last and atomically, and chunks of earlier builds are removed only once they are an hour old.
 */
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { writeRanksCache } from '../dist/src/node/ranks.js';
import { writeClassesCache } from '../dist/src/node/unicode-cache.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = join(root, 'dist', 'cli');
const result = await build({
  absWorkingDir: root,
  // The router's render worker is a second entry: worker_threads loads it by file, beside the chunks.
  entryPoints: { main: 'dist/src/app/main.js', 'render-worker': 'dist/src/router/render-worker.js' },
  outdir,
  write: false,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['gpt-tokenizer', 'gpt-tokenizer/*'],
  // jsonc-parser's main build is UMD, whose factory requires its parts at run time (esbuild cannot
  // follow that); its ESM build bundles cleanly.
  alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
  // CommonJS dependencies (commander) require Node's built-ins.
  banner: {
    js: "import { createRequire as __harmonyHpkeCreateRequire } from 'node:module';\nconst require = __harmonyHpkeCreateRequire(import.meta.url);",
  },
  sourcemap: true,
  logLevel: 'warning',
});

mkdirSync(outdir, { recursive: true });
const entries = new Set(['main.js', 'main.js.map']);
const written = new Set();
const put = (file) => {
  const temp = `${file.path}.${process.pid}.tmp`;
  writeFileSync(temp, file.contents);
  renameSync(temp, file.path);
  written.add(basename(file.path));
};
for (const file of result.outputFiles) if (!entries.has(basename(file.path))) put(file);
for (const file of result.outputFiles) if (entries.has(basename(file.path))) put(file);

const hourAgo = Date.now() - 3600_000;
for (const name of readdirSync(outdir)) {
  if (written.has(name)) continue;
  const path = join(outdir, name);
  if (statSync(path).mtimeMs < hourAgo) rmSync(path, { force: true });
}

writeRanksCache(join(root, 'dist', 'ranks', 'o200k_base.v8'));
writeClassesCache(join(root, 'dist', 'ranks', 'unicode-classes.json'));
