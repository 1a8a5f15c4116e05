/**
 * Preloaded into a child (`node --import .../probe-hwm.js ...`) by the memory bench: as the process
 * exits, writes its peak resident set size in KiB (VmHWM from /proc/self/status, or
 * process.resourceUsage().maxRSS where /proc is missing) to $HARMONY_HPKE_BENCH_HWM_FILE.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.env['HARMONY_HPKE_BENCH_HWM_FILE'];

function peakKiB(): number {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]);
  } catch {
    // Not Linux: fall through.
  }
  return process.resourceUsage().maxRSS;
}

if (file) {
  process.on('exit', () => writeFileSync(file, String(peakKiB())));
}
