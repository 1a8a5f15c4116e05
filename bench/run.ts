/**
 * `npm run bench [-- --strict] [-- --quick] [-- --only startup,decode,harmony,router,fleet]`
 *
 * Prints one table (figure, value, baseline, ratio, goal, PASS/REGRESSED) and writes
 * bench/results.json. Plain runs report; `--strict` also exits 1 when a figure misses its goal.
 * `--quick` shrinks every input and repetition count (a smoke run: the figures mean little).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchDecode } from './decode.js';
import { benchFleet } from './fleet.js';
import { benchHarmony } from './harmony.js';
import { ROOT, type BenchOptions, type Figure } from './lib.js';
import { formatTable, machine } from './report.js';
import { benchRouter } from './router.js';
import { benchStartup } from './startup.js';

const GROUPS = {
  startup: benchStartup,
  decode: benchDecode,
  harmony: benchHarmony,
  router: benchRouter,
  fleet: benchFleet,
} as const satisfies Record<string, (opts: BenchOptions) => Promise<Figure[]>>;
type GroupName = keyof typeof GROUPS;

async function main(argv: readonly string[]): Promise<number> {
  const strict = argv.includes('--strict');
  const quick = argv.includes('--quick');
  const onlyArg = argv.find((arg) => arg.startsWith('--only'));
  const onlyValue = onlyArg?.includes('=') ? onlyArg.split('=')[1] : onlyArg ? argv[argv.indexOf(onlyArg) + 1] : undefined;
  const names = (onlyValue ? onlyValue.split(',') : Object.keys(GROUPS)) as GroupName[];
  for (const name of names) {
    if (!(name in GROUPS)) {
      process.stderr.write(`bench: unknown group '${name}' (choose from ${Object.keys(GROUPS).join(', ')})\n`);
      return 2;
    }
  }
  const log = (line: string) => process.stderr.write(`  ${line}\n`);
  const opts: BenchOptions = { quick, log };
  const info = machine();
  process.stderr.write(`bench: ${info.cpu}, ${info.cores} cores, Node ${info.node}${quick ? ' (quick: reduced sizes)' : ''}\n`);
  const started = performance.now();
  const figures: Figure[] = [];
  for (const name of names) {
    const groupStarted = performance.now();
    process.stderr.write(`bench: ${name}...\n`);
    figures.push(...(await GROUPS[name](opts)));
    log(`${name} took ${((performance.now() - groupStarted) / 1000).toFixed(1)} s`);
  }
  const seconds = (performance.now() - started) / 1000;
  const color = process.stdout.isTTY === true && !process.env['NO_COLOR'];
  process.stdout.write(`\n${formatTable(figures, color)}\n\n`);
  const failed = figures.filter((f) => !f.pass);
  process.stdout.write(
    failed.length === 0
      ? `all ${figures.length} figures within their goals (${seconds.toFixed(0)} s)\n`
      : `${failed.length} of ${figures.length} figures REGRESSED past their goals: ${failed.map((f) => f.id).join(', ')} (${seconds.toFixed(0)} s)\n`,
  );
  const resultsFile = join(ROOT, 'bench', 'results.json');
  const results = { date: new Date().toISOString(), machine: info, quick, seconds, figures };
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`results written to bench/results.json\n`);
  return strict && failed.length > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
