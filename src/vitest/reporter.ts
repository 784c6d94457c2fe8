/**
 * The plugin's reporter, in vitest's own process: at the end of a run, the blocks each test and
 * file recorded (blocks per test, worst durations, top culprits), and the tests that never
 * ended — their process was ended by the hang deadline, so the report comes from the events
 * file it wrote before it went.
 */
import { relative } from 'node:path';
import { SourceMap } from 'node:module';
import type { ResolvedTestingOptions } from '../testing/options.js';
import type { BlockRecord } from '../testing/runtime.js';
import type { StackFrame } from '../types.js';
import { readHangs, summarise, type Hang, type Row } from '../testing/summary.js';
import { META_KEY } from './shared.js';

interface TestCaseLike {
  readonly name: string;
  readonly fullName: string;
  meta(): Record<string, unknown>;
  result(): { readonly state: string };
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
  readonly vite: {
    readonly moduleGraph: ModuleGraphLike;
    readonly environments?: Readonly<Record<string, { readonly moduleGraph: ModuleGraphLike }>>;
  };
}
interface VitestLike {
  readonly logger: { log(...args: unknown[]): void; error(...args: unknown[]): void };
  readonly config: { root: string };
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
  /** How far each events file has been read. */
  readonly #read = new Map<string, number>();

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
    let tests = 0;
    for (const module of testModules) {
      const file = relative(root, module.moduleId);
      const fileRecords = recordsOf(module.meta());
      if (fileRecords.length > 0) rows.push({ where: `${file} (outside tests)`, records: fileRecords });
      for (const test of module.children.allTests()) {
        // Skipped and todo tests ran no code.
        const state = test.result().state;
        if (state === 'passed' || state === 'failed') tests++;
        const records = recordsOf(test.meta());
        if (records.length > 0) rows.push({ where: `${file} > ${test.fullName}`, records });
      }
    }
    const hangs = this.#readHangs();
    const lines =
      this.#options.summary || hangs.length > 0
        ? summarise(rows, hangs, this.#options, root, { map: (f) => this.#map(f), tests })
        : [];
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
    const lines = summarise([], hangs, this.#options, root, {
      map: (f) => this.#map(f),
      ended: 'the test run is ended',
    });
    lines.push(
      "  (a pool thread cannot be stopped while it runs JavaScript, so the run ends here with exit status 1; vitest's default forks pool ends only the hung test's process and goes on)",
    );
    process.stderr.write(`\n${lines.join('\n')}\n`);
    process.exit(1);
  }

  /** Hang events from the run's events files, with the test each process was running. */
  #readHangs(): Hang[] {
    return readHangs(this.runDir, this.#read);
  }

  /** Maps a frame of a file vitest transformed (its map is in vitest's module graph). */
  #map(frame: StackFrame): StackFrame {
    // The test runner's environment (`ssr` for node tests) holds the transform the test ran.
    const graphs = this.#projects.flatMap(({ project }) => [
      ...Object.values(project.vite.environments ?? {}).map((e) => e.moduleGraph),
      project.vite.moduleGraph,
    ]);
    for (const graph of graphs) {
      const map = graph.getModuleById(frame.file)?.transformResult?.map as { mappings?: unknown } | null | undefined;
      if (map === undefined || map === null || typeof map.mappings !== 'string') continue;
      try {
        const entry = new SourceMap(map as ConstructorParameters<typeof SourceMap>[0]).findEntry(
          frame.line - 1,
          frame.column - 1,
        ) as { originalLine?: number; originalColumn?: number };
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
