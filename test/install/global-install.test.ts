/**
 * `npm install -g .` on a fresh clone (issue 12: it failed with `tsc: not found`, because npm links
 * the folder and installs only `dependencies`; scripts/prepare.mjs now fetches the build tools).
 * A clone of this repository's HEAD into a temp dir, a temp npm prefix, then the installed binary
 * answers. It takes a minute and needs the npm registry (or a warm npm cache), so it runs only with
 * HARMONY_HPKE_INSTALL_TEST=1 (DEVELOPERS.md); the note records its last run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, baseEnv } from '../helpers/cli.js';

const enabled = process.env['HARMONY_HPKE_INSTALL_TEST'] === '1';

describe.skipIf(!enabled)('npm install -g . from a fresh clone', () => {
  it('installs, builds and runs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'harmony-hpke-install-'));
    try {
      const clone = join(dir, 'clone');
      const prefix = join(dir, 'prefix');
      const env = baseEnv({ HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), XDG_STATE_HOME: join(dir, 'state') });
      const cloned = spawnSync('git', ['clone', '-q', REPO_ROOT, clone], { encoding: 'utf8' });
      expect(cloned.status, cloned.stderr).toBe(0);
      const installed = spawnSync('npm', ['install', '-g', '.', '--prefix', prefix, '--no-audit', '--no-fund'], {
        cwd: clone,
        env,
        encoding: 'utf8',
        timeout: 600_000,
      });
      expect(installed.status, installed.stderr).toBe(0);
      const bin = join(prefix, 'bin', 'harmony-hpke');
      const version = spawnSync(bin, ['--version'], { env, encoding: 'utf8' });
      expect(version.status, version.stderr).toBe(0);
      const answer = spawnSync(bin, ['ask', 'What is 2+2?'], { env, encoding: 'utf8', timeout: 60_000 });
      expect(answer.status, answer.stderr).toBe(0);
      expect(answer.stdout).toBe('2 + 2 = 4.\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 700_000);
});
