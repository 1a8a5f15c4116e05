/** The bench's report: the machine it ran on and the results table. */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fmt, type Figure, type Goal } from './lib.js';

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly node: string;
  readonly platform: string;
}

export function machine(): Machine {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu;
  } catch {
    // Not Linux: os.cpus() it is.
  }
  return { cpu, cores: cpus().length, node: process.version, platform: `${process.platform}-${process.arch}` };
}

function goalText(goal: Goal, unit: string): string {
  switch (goal.kind) {
    case 'ratio-max':
      return `ratio <= ${goal.value}x`;
    case 'value-min':
      return `>= ${fmt(goal.value)} ${unit}`;
    case 'value-max':
      return `<= ${fmt(goal.value)} ${unit}`;
    case 'none':
      return '(tracked)';
  }
}

function valueText(value: number, unit: string): string {
  const digits = unit === 'ms' || unit === 'MB' ? (value < 100 ? 1 : 0) : 0;
  return `${fmt(value, digits)} ${unit}`;
}

/** The results table as plain text (also what docs/performance.md records). */
export function formatTable(figures: readonly Figure[], color = false): string {
  const rows = figures.map((f) => [
    f.label,
    valueText(f.value, f.unit),
    `${valueText(f.baseline, f.baselineUnit)} (${f.baselineLabel})`,
    `${f.ratio.toFixed(2)}x`,
    goalText(f.goal, f.unit),
    f.goal.kind === 'none' ? 'INFO' : f.pass ? 'PASS' : 'REGRESSED',
  ]);
  const header = ['figure', 'value', 'baseline', 'ratio', 'goal', 'status'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === 1 || i === 3 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const paint = (text: string, pass: boolean) => `\u001b[${text === 'INFO' ? '2' : pass ? '32' : '1;31'}m${text}\u001b[0m`;
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((row, index) => {
      const text = line(row);
      if (!color) return text;
      const status = row[5]!;
      return text.slice(0, text.length - status.length) + paint(status, figures[index]!.pass);
    }),
  ].join('\n');
}
