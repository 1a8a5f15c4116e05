import { readFileSync } from 'node:fs';

let cached: string | undefined;

/**
 * The package version, read once from package.json next to the build (two levels up from
 * dist/src/ and dist/cli/; one level up from src/ when the sources run in-process under tests).
 */
export function packageVersion(): string {
  if (cached === undefined) {
    for (const relative of ['../../package.json', '../package.json']) {
      let text: string;
      try {
        text = readFileSync(new URL(relative, import.meta.url), 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      const pkg = JSON.parse(text) as { name?: string; version: string };
      if (pkg.name !== 'harmony-hpke') continue;
      cached = pkg.version;
      break;
    }
    if (cached === undefined) throw new Error('package.json of harmony-hpke not found');
  }
  return cached;
}
