/**
 * The plugin's reporter, in vitest's own process: at the end of a run, the blocks each test and
 * file recorded (blocks per test, worst durations, top culprits), and the tests that never
 * ended — their process was ended by the hang deadline, so the report comes from the events
 * file it wrote before it went.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { relative } from 'node:path';
import { SourceMap } from 'node:module';
import type { ResolvedTestingOptions } from '../testing/options.js';
import type { BlockRecord } from '../testing/runtime.js';
import { culpritFrame, formatFrame, isInternal } from '../worker/report.js';
import type { HangEvent, StackFrame } from '../types.js';
import { META_KEY } from './shared.js';

interface TestCaseLike {
  readonly name: string;
  readonly fullName: string;
  meta(): Record<string, unknown>;
}
interface TestModuleLike {
  readonly moduleId: string;
  meta(): Record<string, unknown>;
  readonly children: { allTests(): Iterable<TestCaseLike> };
}
interface ModuleGraphLike {
  getModuleById(id: string): { transformResult?: { map?: unknown } | null } | undefined;
}
export interface ProjectLike {
  readonly vite: { readonly moduleGraph: ModuleGraphLike; readonly environments?: Readonly<Record<string, { readonly moduleGraph: ModuleGraphLike }>> };
}
interface VitestLike {
  readonly logger: { log(...args: unknown[]): void; error(...args: unknown[]): void };
  readonly config: { root: string };
}

interface Row {
  readonly where: string;
  readonly records: readonly BlockRecord[];
}

interface Hang {
  readonly event: HangEvent;
  readonly test: string | undefined;
  readonly file: string | undefined;
}

function ms(value: number): string {
  return `${Math.round(value).toLocaleString('en-US')} ms`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function recordsOf(meta: Record<string, unknown>): BlockRecord[] {
  const value = meta[META_KEY];
  return Array.isArray(value) ? (value as BlockRecord[]) : [];
}

export class SummaryReporter {
  readonly runDir: string;
  readonly #options: ResolvedTestingOptions;
  readonly #projects: Array<{ project: ProjectLike; hangMs: number | undefined }> = [];
  #vitest: VitestLike | undefined;

  constructor(options: ResolvedTestingOptions, runDir: string) {
    this.#options = options;
    this.runDir = runDir;
  }

  addProject(project: ProjectLike, hangMs: number | undefined): void {
    this.#projects.push({ project, hangMs });
  }

  onInit(vitest: VitestLike): void {
    this.#vitest = vitest;
  }

  onTestRunEnd(testModules: readonly TestModuleLike[]): void {
    const vitest = this.#vitest;
    if (vitest === undefined) return;
    const root = vitest.config.root;
    const rows: Row[] = [];
    for (const module of testModules) {
      const file = relative(root, module.moduleId);
      const fileRecords = recordsOf(module.meta());
      if (fileRecords.length > 0) rows.push({ where: `${file} (outside tests)`, records: fileRecords });
      for (const test of module.children.allTests()) {
        const records = recordsOf(test.meta());
        if (records.length > 0) rows.push({ where: `${file} > ${test.fullName}`, records });
      }
    }
    const hangs = this.#readHangs();
    const lines = this.#options.summary || hangs.length > 0 ? summarise(rows, hangs, this.#options, root, (f) => this.#map(f)) : [];
    if (lines.length > 0) vitest.logger.log(`\n${lines.join('\n')}\n`);
    if (hangs.length > 0) process.exitCode = 1;
  }

  /**
   * A pool thread hangs (`threads` pool): nothing can stop a thread spinning in JavaScript
   * from outside it without ending the process, and vitest would wait for it forever. Report
   * it with what is known and end the run.
   */
  endForHang(): void {
    const hangs = this.#readHangs();
    const root = this.#vitest?.config.root ?? process.cwd();
    const lines = summarise([], hangs, this.#options, root, (f) => this.#map(f), 'the test run is ended');
    lines.push("  (a pool thread cannot be stopped while it runs JavaScript, so the run ends here with exit status 1; vitest's default forks pool ends only the hung test's process and goes on)");
    process.stderr.write(`\n${lines.join('\n')}\n`);
    process.exit(1);
  }

  /** Hang events from the run's events files, with the test each process was running. */
  #readHangs(): Hang[] {
    const hangs: Hang[] = [];
    let names: string[];
    try {
      names = readdirSync(this.runDir);
    } catch {
      return hangs;
    }
    for (const name of names.filter((n) => n.startsWith('events-'))) {
      const tag = name.slice('events-'.length, -'.ndjson'.length);
      let running: { test?: string; file?: string } = {};
      try {
        running = JSON.parse(readFileSync(`${this.runDir}/running-${tag}.json`, 'utf8')) as typeof running;
      } catch {
        // the process hung before its first test
      }
      for (const line of readFileSync(`${this.runDir}/${name}`, 'utf8').split('\n')) {
        if (!line.includes('"type":"hang"')) continue;
        try {
          hangs.push({ event: JSON.parse(line) as HangEvent, test: running.test, file: running.file });
        } catch {
          // a torn line: the process was killed while writing
        }
      }
    }
    // Read once: a watch-mode rerun starts from nothing.
    for (const name of names) rmSync(`${this.runDir}/${name}`, { force: true });
    return hangs;
  }

  /** Maps a frame of a file vitest transformed (its map is in vitest's module graph). */
  #map(frame: StackFrame): StackFrame {
    // The test runner's environment (`ssr` for node tests) holds the transform the test ran.
    const graphs = this.#projects.flatMap(({ project }) => [...Object.values(project.vite.environments ?? {}).map((e) => e.moduleGraph), project.vite.moduleGraph]);
    for (const graph of graphs) {
      const map = graph.getModuleById(frame.file)?.transformResult?.map as { mappings?: string } | undefined;
      if (map === undefined || map === null || typeof map.mappings !== 'string') continue;
      try {
        const entry = new SourceMap(map as ConstructorParameters<typeof SourceMap>[0]).findEntry(frame.line - 1, frame.column - 1) as { originalLine?: number; originalColumn?: number };
        if (typeof entry.originalLine === 'number' && typeof entry.originalColumn === 'number') {
          return { ...frame, line: entry.originalLine + 1, column: entry.originalColumn + 1 };
        }
      } catch {
        // keep the generated position
      }
    }
    return frame;
  }
}

export function summarise(rows: readonly Row[], hangs: readonly Hang[], options: ResolvedTestingOptions, root: string, map: (f: StackFrame) => StackFrame = (f) => f, ended = 'its test process was ended'): string[] {
  const lines: string[] = [];
  for (const hang of hangs) {
    const frames = hang.event.stack.map(map);
    const culprit = culpritFrame(frames);
    const test = hang.test === undefined ? (hang.file === undefined ? 'a test process' : relative(root, hang.file)) : `${relative(root, hang.file ?? '')} > ${hang.test}`;
    lines.push(`loopwatch: HANG in ${test}: the event loop was blocked for ${ms(hang.event.blockedMs ?? hang.event.limitMs)} (hang deadline ${ms(hang.event.limitMs)}); ${ended}`);
    if (culprit !== undefined) lines.push(`  culprit: ${formatFrame(culprit, root)}`);
    for (const frame of frames.filter((f) => !isInternal(f) && !f.file.includes('/node_modules/')).slice(0, 6)) lines.push(`    at ${formatFrame(frame, root)}`);
  }
  const all = rows.flatMap((r) => r.records);
  if (all.length === 0) {
    if (options.mode === 'report' && hangs.length === 0) lines.push(`loopwatch: no blocks of ${ms(options.thresholdMs)} or more in this run`);
    return lines;
  }
  const allowed = all.filter((r) => r.allowed !== undefined).length;
  const worst = Math.max(...all.map((r) => r.durationMs));
  lines.push(
    `loopwatch: ${plural(all.length, 'block')} of ${ms(options.thresholdMs)} or more in ${plural(rows.length, 'place')}${allowed > 0 ? ` (${allowed} allowed)` : ''}, worst ${ms(worst)}${options.mode === 'report' ? ' — report-only mode, no test failed for it' : ''}`,
  );
  const sorted = [...rows].sort((a, b) => Math.max(...b.records.map((r) => r.durationMs)) - Math.max(...a.records.map((r) => r.durationMs)));
  const width = Math.min(60, Math.max(...sorted.map((r) => r.where.length)));
  for (const row of sorted.slice(0, 20)) {
    const rowWorst = row.records.reduce((a, b) => (b.durationMs > a.durationMs ? b : a));
    const note = row.records.every((r) => r.allowed !== undefined) ? `  [${rowWorst.allowed}]` : '';
    lines.push(`  ${row.where.padEnd(width)}  ${plural(row.records.length, 'block').padStart(9)}  worst ${ms(rowWorst.durationMs).padStart(9)}  ${rowWorst.culprit}${note}`);
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
