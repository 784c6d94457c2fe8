/** The end-of-run summary of the test integrations: hangs, blocks per test or file, top culprits. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { ResolvedTestingOptions } from './options.js';
import { TEST_FILE, TEST_NAME, type BlockRecord } from './runtime.js';
import { culpritFrame, formatFrame, isInternal, ms } from '../common/frames.js';
import type { HangEvent, StackFrame } from '../types.js';

/** The blocks of one test, or of one file outside its tests. */
export interface Row {
  readonly where: string;
  readonly records: readonly BlockRecord[];
}

/** A hang, with the test its process was running. */
export interface Hang {
  readonly event: HangEvent;
  readonly test: string | undefined;
  readonly file: string | undefined;
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * The one line said when loopwatch was also preloaded (`loopwatch run`, -r loopwatch/register)
 * with settings of its own: which apply where.
 */
export function settingsLine(integration: string, options: ResolvedTestingOptions, preloadThresholdMs: number): string {
  return `loopwatch: ${integration}'s settings (threshold ${ms(options.thresholdMs)}) apply to the tests; the preloaded loopwatch's (threshold ${ms(preloadThresholdMs)}) to the rest of the run`;
}

export interface SummariseOptions {
  /** Maps a frame of a hang's stack (the runner's own source maps). */
  readonly map?: (frame: StackFrame) => StackFrame;
  /** What became of a hung test's process. */
  readonly ended?: string;
  /** How many tests ran watched: said when nothing blocked, so a clean run shows loopwatch ran. */
  readonly tests?: number;
}

export function summarise(
  rows: readonly Row[],
  hangs: readonly Hang[],
  options: ResolvedTestingOptions,
  root: string,
  how: SummariseOptions = {},
): string[] {
  const map = how.map ?? ((f: StackFrame): StackFrame => f);
  const ended = how.ended ?? 'its test process was ended';
  const lines: string[] = [];
  for (const hang of hangs) {
    const frames = hang.event.stack.map(map);
    const culprit = culpritFrame(frames);
    const test =
      hang.test === undefined
        ? hang.file === undefined
          ? 'a test process'
          : relative(root, hang.file)
        : `${relative(root, hang.file ?? '')} > ${hang.test}`;
    lines.push(
      `loopwatch: HANG in ${test}: the event loop was blocked for ${ms(hang.event.blockedMs)} (hang deadline ${ms(hang.event.limitMs)}); ${ended}`,
    );
    if (culprit !== undefined) lines.push(`  culprit: ${formatFrame(culprit, root)}`);
    for (const frame of frames.filter((f) => !isInternal(f) && !f.file.includes('/node_modules/')).slice(0, 6))
      lines.push(`    at ${formatFrame(frame, root)}`);
  }
  const all = rows.flatMap((r) => r.records);
  if (all.length === 0) {
    if (hangs.length === 0) {
      lines.push(
        how.tests === undefined
          ? `loopwatch: no block over ${ms(options.thresholdMs)} in this run`
          : `loopwatch: ${plural(how.tests, 'test')} watched, no block over ${ms(options.thresholdMs)}`,
      );
    }
    return lines;
  }
  const allowed = all.filter((r) => r.allowed !== undefined).length;
  const worst = Math.max(...all.map((r) => r.durationMs));
  lines.push(
    `loopwatch: ${plural(all.length, 'block')} of ${ms(options.thresholdMs)} or more in ${plural(rows.length, 'place')}${allowed > 0 ? ` (${allowed} allowed)` : ''}, worst ${ms(worst)}${options.mode === 'report' ? ' — report-only mode, no test failed for it' : ''}`,
  );
  const sorted = [...rows].sort(
    (a, b) => Math.max(...b.records.map((r) => r.durationMs)) - Math.max(...a.records.map((r) => r.durationMs)),
  );
  const width = Math.min(60, Math.max(...sorted.map((r) => r.where.length)));
  for (const row of sorted.slice(0, 20)) {
    const rowWorst = row.records.reduce((a, b) => (b.durationMs > a.durationMs ? b : a));
    const note = row.records.every((r) => r.allowed !== undefined) ? `  [${rowWorst.allowed}]` : '';
    lines.push(
      `  ${row.where.padEnd(width)}  ${plural(row.records.length, 'block').padStart(9)}  worst ${ms(rowWorst.durationMs).padStart(9)}  ${rowWorst.culprit}${note}`,
    );
  }
  if (sorted.length > 20) lines.push(`  … and ${sorted.length - 20} more`);
  const byCulprit = new Map<string, { count: number; total: number; worst: number }>();
  for (const record of all) {
    const entry = byCulprit.get(record.culprit) ?? { count: 0, total: 0, worst: 0 };
    entry.count++;
    entry.total += record.durationMs;
    entry.worst = Math.max(entry.worst, record.durationMs);
    byCulprit.set(record.culprit, entry);
  }
  lines.push('  top culprits:');
  for (const [culprit, entry] of [...byCulprit].sort((a, b) => b[1].total - a[1].total).slice(0, 5)) {
    lines.push(`    ${culprit}  ${plural(entry.count, 'block')}, ${ms(entry.total)} in all, worst ${ms(entry.worst)}`);
  }
  return lines;
}

/**
 * Hang events from the events files the test processes wrote into `runDir`, with the test each
 * process was running. `read` remembers how far each file was read: only what was appended
 * since the last call (watch mode), as a test process that lives on keeps its file open.
 */
export function readHangs(runDir: string, read: Map<string, number>): Hang[] {
  const hangs: Hang[] = [];
  let names: string[];
  try {
    names = readdirSync(runDir);
  } catch {
    return hangs;
  }
  for (const name of names.filter((n) => n.startsWith('events-'))) {
    let text: Buffer;
    try {
      text = readFileSync(join(runDir, name));
    } catch {
      continue;
    }
    const from = read.get(name) ?? 0;
    const end = text.lastIndexOf(0x0a) + 1;
    read.set(name, Math.max(from, end));
    for (const line of text.subarray(from, end).toString('utf8').split('\n')) {
      if (!line.includes('"type":"hang"')) continue;
      try {
        const event = JSON.parse(line) as HangEvent;
        const attributes = event.context?.attributes ?? {};
        const test = attributes[TEST_NAME];
        const file = attributes[TEST_FILE];
        hangs.push({
          event,
          test: typeof test === 'string' ? test : undefined,
          file: typeof file === 'string' ? file : undefined,
        });
      } catch {
        // a torn line: the process was killed while writing
      }
    }
  }
  return hangs;
}
