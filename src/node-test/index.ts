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
import { LoopwatchError } from '../errors.js';
import { resolveTestingOptions, type AllowRule, type ResolvedTestingOptions, type TestingOptions } from '../testing/options.js';
import { installWatch, TestWatch, type BlockRecord, type Verdict } from '../testing/runtime.js';
import { summarise, type Row } from '../testing/summary.js';

export { allowBlocking, expectNoBlocking, BlockingError } from '../testing/runtime.js';

/**
 * node:test has no timeout unless asked (`--test-timeout`): a test spinning forever would
 * hang the run. 30 s is far above any block worth a report.
 */
export const DEFAULT_NODE_TEST_HANG_MS = 30_000;

function envError(variable: string, value: string, expected: string): never {
  throw new LoopwatchError('ERR_LOOPWATCH_INVALID_ENV', `${variable} must be ${expected}, got ${JSON.stringify(value)}`);
}

function onOff(env: NodeJS.ProcessEnv, variable: string): boolean | undefined {
  const value = env[variable];
  if (value === undefined || value === '') return undefined;
  if (value === 'on' || value === 'true' || value === '1') return true;
  if (value === 'off' || value === 'false' || value === '0') return false;
  return envError(variable, value, 'on or off');
}

/** The options from the environment (exported for tests). */
export function nodeTestOptions(env: NodeJS.ProcessEnv): ResolvedTestingOptions {
  const options: { -readonly [K in keyof TestingOptions]: TestingOptions[K] } = {};
  const threshold = env['LOOPWATCH_THRESHOLD_MS'];
  if (threshold !== undefined && threshold !== '') {
    if (!/^\d+(\.\d+)?$/.test(threshold)) envError('LOOPWATCH_THRESHOLD_MS', threshold, 'a number of milliseconds from 1 to 3600000');
    options.thresholdMs = Number(threshold);
  }
  const hang = env['LOOPWATCH_HANG_MS'];
  if (hang === 'off') options.hangMs = false;
  else if (hang !== undefined && hang !== '') {
    if (!/^\d+$/.test(hang)) envError('LOOPWATCH_HANG_MS', hang, 'an integer number of milliseconds, or off');
    options.hangMs = Number(hang);
  }
  const mode = env['LOOPWATCH_TEST_MODE'];
  if (mode !== undefined && mode !== '') {
    if (mode !== 'fail' && mode !== 'report') envError('LOOPWATCH_TEST_MODE', mode, '"fail" or "report"');
    options.mode = mode;
  }
  const outside = env['LOOPWATCH_TEST_OUTSIDE'];
  if (outside !== undefined && outside !== '') {
    if (outside !== 'fail' && outside !== 'report') envError('LOOPWATCH_TEST_OUTSIDE', outside, '"report" or "fail"');
    options.outsideTests = outside;
  }
  const allow = env['LOOPWATCH_TEST_ALLOW'];
  if (allow !== undefined && allow.trim() !== '') {
    options.allow = allow.split(',').map((item): AllowRule => {
      const rule = item.trim();
      if (rule === '' || rule === 'file:') envError('LOOPWATCH_TEST_ALLOW', allow, 'comma-separated function names or file:<part of a path>');
      return rule.startsWith('file:') ? { file: rule.slice('file:'.length) } : { function: rule };
    });
  }
  const canary = onOff(env, 'LOOPWATCH_TEST_CANARY');
  if (canary !== undefined) options.canary = canary;
  const summary = onOff(env, 'LOOPWATCH_TEST_SUMMARY');
  if (summary !== undefined) options.summary = summary;
  const resolved = resolveTestingOptions(options);
  return { ...resolved, hangMs: resolved.hangMs ?? DEFAULT_NODE_TEST_HANG_MS };
}

/** `node --test` itself only spawns the test files' processes: nothing to watch there. */
function isOrchestrator(): boolean {
  if (process.env['NODE_TEST_CONTEXT'] !== undefined) return false;
  const argv = process.execArgv;
  const isolationNone = argv.some((a) => a === '--test-isolation=none' || a === '--experimental-test-isolation=none');
  return !isolationNone && argv.some((a) => a === '--test' || a.startsWith('--test='));
}

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
  let inTests = false;

  before(async () => {
    if (options.canary) await watch.canary();
    keep('imports', watch.judge(await watch.take(), { kind: 'file', what: 'imports', file }));
  });
  beforeEach(async (context: TestContextLike) => {
    const earlier = await watch.take();
    keep(inTests ? 'between tests' : 'before', watch.judge(earlier, { kind: 'file', what: inTests ? 'between tests' : 'beforeAll', file }));
    inTests = true;
    watch.beginTest(context.fullName ?? context.name, context.filePath ?? file);
  });
  afterEach(async (context: TestContextLike) => {
    keep(context.fullName ?? context.name, watch.judge(await watch.take(), { kind: 'test', name: context.name }));
  });
  after(async () => {
    try {
      keep('after', watch.judge(await watch.take(), { kind: 'file', what: 'afterAll', file }));
    } finally {
      const lines = options.summary ? summarise(rows, [], options, cwd) : [];
      if (lines.length > 0) writeSync(2, `${lines.join('\n')}\n`);
    }
  });
}

if (!isOrchestrator()) install();

export type { BlockRecord };
