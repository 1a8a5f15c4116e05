/**
 * Every TypeScript block of the README compiles under strict tsc against the built package, as a
 * user's project would import it (`harmony-hpke/...` through the package's exports).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

// Inside the package, so that `harmony-hpke/...` resolves to this build (Node's self-reference).
const scratch = join(REPO_ROOT, 'dist', `.readme-typecheck-${process.pid}`);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('README TypeScript', () => {
  it('every ts block compiles under strict tsc', async () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    mkdirSync(scratch, { recursive: true });
    blocks.forEach((block, index) => writeFileSync(join(scratch, `snippet${index}.ts`), block));
    writeFileSync(
      join(scratch, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          types: ['node'],
          skipLibCheck: true,
          noEmit: true,
        },
        include: ['*.ts'],
      }),
    );
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await promisify(execFile)(process.execPath, [tsc, '-p', scratch], { timeout: 120_000 }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code?: number; stdout?: string }) => ({ code: error.code ?? 1, stdout: error.stdout ?? '' }),
    );
    expect(result.stdout).toBe('');
    expect(result.code).toBe(0);
  }, 120_000); // a whole tsc run: seconds on a quiet machine, much longer beside other suites
});
