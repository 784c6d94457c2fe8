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
import { writeSync } from 'node:fs';
import { after, afterEach, before, beforeEach } from 'node:test';
import { nodeTestOptions } from './options.js';
import { isTestRunnerProcess } from '../main/inspector.js';
import { installWatch, TestWatch, type BlockRecord, type Verdict } from '../testing/runtime.js';
import { summarise, type Row } from '../testing/summary.js';

export { allowBlocking, expectNoBlocking, BlockingError } from '../testing/runtime.js';
export { DEFAULT_NODE_TEST_HANG_MS } from './options.js';

interface TestContextLike {
  readonly name: string;
  readonly fullName?: string;
  readonly filePath?: string;
}

function install(): void {
  const options = nodeTestOptions(process.env);
  const cwd = process.cwd();
  const file = process.argv[1] ?? '';
  const watch = installWatch(() => new TestWatch(options, options.hangMs === false ? undefined : options.hangMs, undefined, cwd));
  const rows: Row[] = [];
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
    keep(context.fullName ?? context.name, await watch.testEnd(context.name));
  });
  after(async () => {
    try {
      keep('after', await watch.fileEnd(file));
    } finally {
      const lines = options.summary ? summarise(rows, [], options, cwd) : [];
      if (lines.length > 0) writeSync(2, `${lines.join('\n')}\n`);
    }
  });
}

// `node --test` itself only spawns the test files' processes: nothing to watch there.
if (!isTestRunnerProcess()) install();

export type { BlockRecord };
