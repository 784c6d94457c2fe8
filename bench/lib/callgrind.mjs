// Reads callgrind's output files (one per thread with --separate-threads=yes): a thread's total
// instructions, and for a function the calls made to it and their inclusive instructions.
import { readFileSync } from 'node:fs';

/** The `totals:` line of one thread's file. */
export function totalOf(file) {
  const m = /^totals: (\d+)/m.exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`no totals in ${file}`);
  return Number(m[1]);
}

/**
 * Calls to the functions whose name contains `needle`, and their inclusive cost, summed over
 * every call site in the file (callgrind's compressed names: `(id) name` once, `(id)` after).
 */
export function callsTo(file, needle) {
  const names = new Map();
  let calls = 0;
  let inclusive = 0;
  let target = false;
  let pending = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('cfn=')) {
      const m = /^cfn=\((\d+)\)(?: (.*))?$/.exec(line);
      if (m) {
        if (m[2] !== undefined) names.set(m[1], m[2]);
        target = (names.get(m[1]) ?? '').includes(needle);
      }
    } else if (line.startsWith('fn=')) {
      const m = /^fn=\((\d+)\)(?: (.*))?$/.exec(line);
      if (m && m[2] !== undefined) names.set(m[1], m[2]);
    } else if (line.startsWith('calls=')) {
      if (target) {
        calls += Number(line.slice(6).split(' ')[0]);
        pending = true;
      }
    } else if (pending) {
      // The line after `calls=`: position, then the inclusive cost of those calls.
      inclusive += Number(line.trim().split(/\s+/)[1] ?? 0);
      pending = false;
    }
  }
  return { calls, inclusive };
}
