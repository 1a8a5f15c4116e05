/**
 * The README's library example, run as written (extracted from README.md) against a real router
 * process: the documentation cannot drift from the API.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSandbox, REPO_ROOT } from '../helpers/cli.js';
import { startRouterProcess, type RouterProcess } from '../helpers/router-process.js';

const sandbox = makeSandbox();
let router: RouterProcess;
// Inside the package, so that `harmony-hpke/...` resolves to this build (Node's self-reference).
const scratch = join(REPO_ROOT, 'dist', `.readme-example-${process.pid}`);

beforeAll(async () => {
  router = await startRouterProcess(sandbox.dir, [], sandbox.env);
  mkdirSync(scratch, { recursive: true });
});

afterAll(async () => {
  await router?.stop();
  rmSync(scratch, { recursive: true, force: true });
  sandbox.cleanup();
});

function readmeClientExample(): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const intro = readme.indexOf('A whole client in a few lines');
  expect(intro).toBeGreaterThan(0);
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(intro));
  expect(block).not.toBeNull();
  return block![1]!;
}

describe('README library example', () => {
  it('asks the router and prints the verified final answer', async () => {
    const file = join(scratch, 'client.mjs');
    // The README's TypeScript with its types stripped (readme-typecheck.test.ts type-checks it).
    const js = ts.transpileModule(readmeClientExample(), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    writeFileSync(file, js);
    const { stdout } = await promisify(execFile)(process.execPath, [file], {
      env: { ...process.env, ROUTER: router.url },
      timeout: 20_000,
    });
    expect(stdout).toBe('2 + 2 = 4.\n');
  });
});
