/**
 * `loopwatch/node-test`: the same failure-on-block behaviour for Node's built-in test runner.
 *   node --test --import loopwatch/node-test          (or --require loopwatch/node-test)
 * Configured by environment variables (there is no config file to hold a plugin):
 *   LOOPWATCH_THRESHOLD_MS, LOOPWATCH_HANG_MS (ms or `off`), LOOPWATCH_TEST_MODE (fail|report),
 *   LOOPWATCH_TEST_ALLOW (comma-separated function names, `file:` + part of a path),
 *   LOOPWATCH_TEST_OUTSIDE (report|fail), LOOPWATCH_TEST_CANARY and LOOPWATCH_TEST_SUMMARY (on|off).
 *
 * Each test file runs in a process of its own: root-level hooks there cut the run into
 * windows as the vitest plugin does, and the file's summary is written to stderr, which the
 * runner shows next to the file's results.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, afterEach, before, beforeEach } from 'node:test';
import { LoopwatchError } from '../errors.js';
import { nodeTestOptions } from './options.js';
import { isTestRunnerProcess } from '../main/inspector.js';
import { installWatch, TestWatch, type BlockRecord, type Verdict } from '../testing/runtime.js';
import { preloaded } from '../main/preload.js';
import { readHangs, settingsLine, summarise, type Row } from '../testing/summary.js';

export { allowBlocking, expectNoBlocking, BlockingError } from '../testing/runtime.js';
export { DEFAULT_NODE_TEST_HANG_MS } from './options.js';

/**
 * Set by the runner's process (when it loaded this module: `--require`) for the test files'
 * processes, which inherit it: where each writes what it saw, for the runner to print one
 * summary after the reporter's last line.
 */
const RUN_DIR_ENV = 'LOOPWATCH_NODE_TEST_RUN_DIR';

interface TestContextLike {
  readonly name: string;
  readonly fullName?: string;
  readonly filePath?: string;
}

/** What one test file's process hands the runner's process. */
interface FileReport {
  readonly file: string;
  readonly tests: number;
  readonly rows: Row[];
}

function install(): void {
  const options = nodeTestOptions(process.env);
  const cwd = process.cwd();
  const file = process.argv[1] ?? '';
  const runDir =
    process.env[RUN_DIR_ENV] === undefined || process.env[RUN_DIR_ENV] === '' ? undefined : process.env[RUN_DIR_ENV];
  const watch = installWatch(
    () => new TestWatch(options, options.hangMs === false ? undefined : options.hangMs, runDir, cwd),
  );
  const rows: Row[] = [];
  let tests = 0;
  const keep = (where: string, verdict: Verdict): void => {
    if (verdict.records.length > 0) rows.push({ where, records: verdict.records });
    if (verdict.error !== undefined) throw verdict.error;
  };

  before(async () => {
    if (options.canary) await watch.canary();
    keep('imports', await watch.fileStart(file));
  });
  beforeEach(async (context: TestContextLike) => {
    const verdict = await watch.testStart(context.fullName ?? context.name, context.filePath ?? file);
    keep(verdict.records[0]?.where === 'between tests' ? 'between tests' : 'before', verdict);
  });
  afterEach(async (context: TestContextLike) => {
    tests++;
    keep(context.fullName ?? context.name, await watch.testEnd(context.name));
  });
  after(async () => {
    try {
      keep('after', await watch.fileEnd(file));
    } finally {
      if (runDir !== undefined) {
        const report: FileReport = { file, tests, rows };
        try {
          writeFileSync(join(runDir, `file-${process.pid}.json`), JSON.stringify(report));
        } catch {
          // the runner is gone (or its folder): nobody left to print for
        }
      }
    }
  });
  // Without the runner's process (`--import`, `node file.test.mjs`, `--test-isolation=none`):
  // this process prints its own summary, as late as it can — after the reporter's output when
  // the tests run here.
  if (runDir === undefined && options.summary) {
    process.once('exit', () => {
      const lines = summarise(rows, [], options, cwd, { tests });
      if (lines.length > 0) writeSync(2, `${lines.join('\n')}\n`);
    });
  }
}

/** Outside-test windows as the merged summary names them. */
const OUTSIDE = new Set(['imports', 'before', 'between tests', 'after']);

/**
 * In `node --test`'s own process (reached with `--require`, which Node also passes to the test
 * files' processes; `--import` is not run there): give the files a folder to report into, and
 * print the one summary of the run when this process exits, after the reporter's last line.
 */
function coordinate(): void {
  let options: ReturnType<typeof nodeTestOptions>;
  try {
    options = nodeTestOptions(process.env);
  } catch (error) {
    // Each test file's process says so, and fails.
    if (error instanceof LoopwatchError) return;
    throw error;
  }
  // Once every preload has run (loopwatch/register may come after this one).
  setImmediate(() => {
    const preload = preloaded();
    if (preload !== undefined)
      writeSync(2, `${settingsLine('loopwatch/node-test', options, preload.options.thresholdMs)}\n`);
  });
  const runDir = mkdtempSync(join(tmpdir(), 'loopwatch-node-test-'));
  process.env[RUN_DIR_ENV] = runDir;
  const cwd = process.cwd();
  process.once('exit', () => {
    try {
      const rows: Row[] = [];
      let tests = 0;
      for (const name of readdirSync(runDir)
        .filter((n) => n.startsWith('file-'))
        .sort()) {
        try {
          const report = JSON.parse(readFileSync(join(runDir, name), 'utf8')) as FileReport;
          const file = relative(cwd, report.file);
          tests += report.tests;
          for (const row of report.rows)
            rows.push({
              where: OUTSIDE.has(row.where) ? `${file} (${row.where})` : `${file} > ${row.where}`,
              records: row.records,
            });
        } catch {
          // a file cut short: its process was ended
        }
      }
      const hangs = readHangs(runDir, new Map());
      const lines = options.summary || hangs.length > 0 ? summarise(rows, hangs, options, cwd, { tests }) : [];
      if (lines.length > 0) writeSync(2, `\n${lines.join('\n')}\n`);
    } finally {
      rmSync(runDir, { recursive: true, force: true });
    }
  });
}

// `node --test` itself only spawns the test files' processes: nothing to watch there.
if (isTestRunnerProcess()) coordinate();
else install();

export type { BlockRecord };
