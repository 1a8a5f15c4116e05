/**
 * `npm run prepare`: builds the package (`npm run build`) wherever npm runs this hook.
 *
 * npm runs `prepare` after `npm install` / `npm ci` in a clone (devDependencies present), before
 * `npm pack` / `npm publish`, for git dependencies (npm installs their devDependencies first), and
 * on `npm install -g .` from a clone, where it links the folder and installs only `dependencies`:
 * there `tsc` and `esbuild` are missing and a plain `npm run build` fails with `tsc: not found`.
 * In that last case the two build tools are installed first, at the versions package-lock.json
 * pins, into this package's node_modules, without touching package.json or the lockfile.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(join(root, 'package.json'));
const BUILD_TOOLS = ['typescript', 'esbuild'];

function resolvable(name) {
  try {
    require.resolve(`${name}/package.json`);
    return true;
  } catch {
    return false;
  }
}

function lockedVersion(name) {
  const lockPath = join(root, 'package-lock.json');
  if (!existsSync(lockPath)) return undefined;
  const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
  return lock.packages?.[`node_modules/${name}`]?.version;
}

function run(command, args, env = process.env) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env, shell: process.platform === 'win32' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const missing = BUILD_TOOLS.filter((name) => !resolvable(name));
if (missing.length > 0) {
  const specs = missing.map((name) => {
    const version = lockedVersion(name);
    const range = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies?.[name];
    return `${name}@${version ?? range ?? 'latest'}`;
  });
  process.stderr.write(`harmony-hpke: prepare: installing the build tools npm left out (${specs.join(', ')})\n`);
  // `npm install -g .` exports npm_config_global=true (and a prefix): the nested install must be local.
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^npm_config_(global|prefix|location|save|save_dev|omit|production|only)$/i.test(key)) delete env[key];
  }
  run('npm', ['install', '--no-save', '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund', '--include=dev', ...specs], env);
}
run('npm', ['run', 'build']);
