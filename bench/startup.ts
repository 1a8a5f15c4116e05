/**
 * Start-up: wall time of `harmony-hpke --version` and of an offline `create-request --keys FILE`,
 * each against `node -e 0`, the three commands run round-robin (order rotating every round).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeKeyConfigList, generateRouterKey, keyConfigOf } from '../src/hpke/index.js';
import { CLI, figure, median, relativeIqr, tempDir, timeOk, type BenchOptions, type Figure } from './lib.js';

export async function benchStartup(opts: BenchOptions): Promise<Figure[]> {
  const rounds = opts.quick ? 3 : 20;
  const warmup = opts.quick ? 1 : 3;
  const dir = tempDir('hh-bench-startup-');
  try {
    const key = await generateRouterKey({ keyId: 1 });
    const keysFile = join(dir.path, 'router.keys');
    writeFileSync(keysFile, encodeKeyConfigList([keyConfigOf(key)]));
    // Config and state in the temp dir: nothing of the user's is read or written.
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      XDG_CONFIG_HOME: join(dir.path, 'config'),
      XDG_STATE_HOME: join(dir.path, 'state'),
      NO_COLOR: '1',
    };
    for (const name of ['HARMONY_HPKE_ROUTER', 'HARMONY_HPKE_KEYS', 'HARMONY_HPKE_KEY_PIN', 'HARMONY_HPKE_PROFILE']) delete env[name];
    const node = process.execPath;
    let counter = 0;
    const commands: Array<{ name: string; run: () => Promise<number> }> = [
      { name: 'node', run: () => timeOk(node, ['-e', '0'], { env }) },
      { name: 'version', run: () => timeOk(node, [CLI, '--version'], { env }) },
      {
        name: 'create-request',
        run: () =>
          timeOk(
            node,
            [
              CLI,
              'create-request',
              'What is 2+2?',
              '--router',
              'http://127.0.0.1:9',
              '--keys',
              keysFile,
              '--session',
              join(dir.path, `session-${(counter += 1)}.json`),
            ],
            { env },
          ),
      },
    ];
    const samples = new Map<string, number[]>(commands.map((c) => [c.name, []]));
    const ratios = { version: [] as number[], 'create-request': [] as number[] };
    for (let round = 0; round < warmup + rounds; round += 1) {
      const times = new Map<string, number>();
      for (let i = 0; i < commands.length; i += 1) {
        const command = commands[(i + round) % commands.length]!;
        times.set(command.name, await command.run());
      }
      if (round < warmup) continue;
      for (const [name, ms] of times) samples.get(name)!.push(ms);
      ratios.version.push(times.get('version')! / times.get('node')!);
      ratios['create-request'].push(times.get('create-request')! / times.get('node')!);
    }
    const nodeMs = samples.get('node')!;
    const base = { baselineLabel: 'node -e 0', baseline: median(nodeMs), baselineUnit: 'ms', rounds };
    opts.log(`startup: node -e 0 ${median(nodeMs).toFixed(1)} ms, --version ${median(samples.get('version')!).toFixed(1)} ms, create-request ${median(samples.get('create-request')!).toFixed(1)} ms`);
    return [
      figure({
        id: 'startup.version',
        label: 'start-up: harmony-hpke --version',
        value: median(samples.get('version')!),
        unit: 'ms',
        ...base,
        ratio: median(ratios.version),
        goal: { kind: 'ratio-max', value: 1.6 },
        detail: { iqr: relativeIqr(samples.get('version')!), baselineIqr: relativeIqr(nodeMs) },
      }),
      figure({
        id: 'startup.create-request',
        label: 'start-up: create-request --keys FILE',
        value: median(samples.get('create-request')!),
        unit: 'ms',
        ...base,
        ratio: median(ratios['create-request']),
        goal: { kind: 'ratio-max', value: 2.5 },
        detail: { iqr: relativeIqr(samples.get('create-request')!), baselineIqr: relativeIqr(nodeMs) },
      }),
    ];
  } finally {
    dir.remove();
  }
}
