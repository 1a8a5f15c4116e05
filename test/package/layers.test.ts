/**
 * The layering check (`npm run layers`, part of `npm test`) must catch what it is there to catch:
 * the same rule set runs over a small tree with one planted violation of each kind, and over src/.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cruise, type IReporterOutput } from 'dependency-cruiser';
import extractDepcruiseConfig from 'dependency-cruiser/config-utl/extract-depcruise-config';
import { REPO_ROOT } from '../helpers/cli.js';

const CONFIG = join(REPO_ROOT, '.dependency-cruiser.cjs');

async function violations(baseDir: string): Promise<string[]> {
  const config = await extractDepcruiseConfig(CONFIG);
  const result: IReporterOutput = await cruise(['src'], {
    ...config.options,
    baseDir,
    ruleSet: { forbidden: config.forbidden ?? [] },
    tsConfig: undefined,
    validate: true,
  });
  if (typeof result.output === 'string') throw new Error('unexpected string output');
  return result.output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();
}

const planted = mkdtempSync(join(tmpdir(), 'harmony-hpke-layers-'));
afterAll(() => rmSync(planted, { recursive: true, force: true }));

function write(path: string, text: string): void {
  mkdirSync(dirname(join(planted, path)), { recursive: true });
  writeFileSync(join(planted, path), text);
}

describe('the layering check', () => {
  it('flags a back-arrow, a cycle, a Node built-in in a pure layer and a wing importing the other wing', async () => {
    write('src/core/errors.ts', "import { format } from '../cli/output.js';\nexport const e = format;\n");
    write('src/cli/output.ts', 'export const format = 1;\n');
    write('src/hpke/random.ts', "import { randomBytes } from 'node:crypto';\nexport const r = randomBytes;\n");
    write('src/client/a.ts', "import { b } from '../router/b.js';\nexport const a = b;\n");
    write('src/router/b.ts', "import { a } from '../client/a.js';\nexport const b = typeof a;\n");
    const found = await violations(planted);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^core-imports-only.*: src\/core\/errors\.ts -> src\/cli\/output\.ts$/),
        expect.stringMatching(/^neutral-layers-use-no-node-builtins: src\/hpke\/random\.ts -> (node:)?crypto$/),
        expect.stringMatching(/^client-imports-only.*: src\/client\/a\.ts -> src\/router\/b\.ts$/),
        expect.stringMatching(/^router-imports-only.*: src\/router\/b\.ts -> src\/client\/a\.ts$/),
        expect.stringMatching(/^no-circular: src\/client\/a\.ts -> src\/router\/b\.ts$/),
      ]),
    );
  }, 60_000);
});
