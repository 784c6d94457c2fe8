/**
 * Processes whose inspector cannot be reached: there `connectToMainThread()` in the monitor
 * worker would abort the whole process with a native assertion (exit 134), which no
 * try/catch stops. Each case runs as a user would, in a child process on the Node under test,
 * and must end normally: watched without a stack (one line says why), or not watched at all
 * where there is nothing of the app's to watch (node --test's runner).
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeRun, fixture, NODE_MAJOR, run, runCli, type RunResult } from './harness.js';

const PROJECT = fixture('node-test-project');
const TEST_FILE = join('test', 'cart.test.js');
const CULPRIT_LINE =
  readFileSync(join(PROJECT, TEST_FILE), 'utf8')
    .split('\n')
    .findIndex((line) => line.includes('CULPRIT-LINE')) + 1;
const RUNNER_LINE = /^loopwatch: \[pid \d+\] node --test's runner is not watched; its test files' processes are$/;
const NO_STACK_LINE =
  /^loopwatch: \[pid \d+\] blocks are reported without their stack or profile: the permission model denies the inspector/;
/** The permission model's flag: experimental on Node 20. */
const PERMISSION = NODE_MAJOR === 20 ? '--experimental-permission' : '--permission';
/**
 * node --test's files block within milliseconds of their start, while the sampling profiler is
 * still starting: on Node 22 and 24 the capture then waits behind the profiler's start and the
 * stack comes late (README, Limits). What these cases test is the inspector, not the profiler.
 */
const NO_PROFILER = { LOOPWATCH_PROFILER: 'off' };

function expectNoAbort(result: RunResult): void {
  expect(result.stderrText, describeRun(result)).not.toContain('Assertion failed');
  expect(result.signal, describeRun(result)).toBeNull();
  expect(result.code, describeRun(result)).toBe(0);
}

function linesMatching(result: RunResult, pattern: RegExp): string[] {
  return result.stderr.map((line) => line.text).filter((text) => pattern.test(text));
}

/** The test file's block, named at its source line from a stack taken during the block. */
function expectCulpritNamed(result: RunResult): void {
  // (A loaded machine may add an unrelated block, a slow start-up: not what this tests.)
  const ended = result.events.filter(
    (event) => event.state === 'ended' && event.stack.some((frame) => frame.function === 'totalWithTax'),
  );
  expect(ended, describeRun(result)).toHaveLength(1);
  const [event] = ended;
  expect(event?.stackTiming).toBe('during');
  expect(event?.stack[0]).toMatchObject({ function: 'totalWithTax', line: CULPRIT_LINE });
  expect(event?.stack[0]?.file).toBe(join(PROJECT, TEST_FILE));
  expect(event?.durationMs).toBeGreaterThanOrEqual(350);
}

describe("node --test's runner has no inspector", () => {
  it.each(['require', 'import'] as const)(
    'with the preload as %s: the runner is left alone and says so, each test file is watched',
    async (mode) => {
      const result = await run(TEST_FILE, { mode, nodeArgs: ['--test'], cwd: PROJECT, env: NO_PROFILER });
      expectNoAbort(result);
      expectCulpritNamed(result);
      // Node loads `-r` preloads in the runner's own process (`--import` ones only in the test files').
      expect(linesMatching(result, RUNNER_LINE)).toHaveLength(mode === 'require' ? 1 : 0);
    },
  );

  it.runIf(NODE_MAJOR >= 22)(
    'with isolation none the tests run in the runner, which is watched with stacks',
    async () => {
      const isolation = NODE_MAJOR === 22 ? '--experimental-test-isolation=none' : '--test-isolation=none';
      const result = await run(TEST_FILE, {
        mode: 'require',
        nodeArgs: ['--test', isolation],
        cwd: PROJECT,
        env: NO_PROFILER,
      });
      expectNoAbort(result);
      expectCulpritNamed(result);
      expect(linesMatching(result, RUNNER_LINE)).toHaveLength(0);
    },
  );

  it('loopwatch run -- npm test on a node:test project: exit 0, the culprit at its line', async () => {
    const project = mkdtempSync(join(tmpdir(), 'loopwatch-node-test-'));
    cpSync(PROJECT, project, { recursive: true });
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'cart', private: true, scripts: { test: 'node --test' } }),
    );
    const { code, signal, output } = await runCli(['run', '--', 'npm', 'test'], project, NO_PROFILER);
    expect(output).not.toContain('Assertion failed');
    expect([code, signal], output).toEqual([0, null]);
    expect(output).toMatch(/(pass 2|# pass 2)/);
    // (A 400 ms block can read 1,0xx ms on a loaded machine: durations may carry a thousands separator.)
    expect(output).toMatch(
      new RegExp(
        `^ +1 +[\\d,]+ ms +[\\d,]+ ms +running +totalWithTax \\(test/cart\\.test\\.js:${CULPRIT_LINE}\\)$`,
        'm',
      ),
    );
  });
});

describe('the permission model without --allow-inspector', () => {
  const flags = [PERMISSION, '--allow-fs-read=*', '--allow-worker'];

  it.each(['require', 'import'] as const)(
    'with the preload as %s: blocks are reported without a stack, and one line says why',
    async (mode) => {
      // No events file: the permission model forbids writing one; the stderr report has the events.
      const result = await run(fixture('plain-block.cjs'), { mode, nodeArgs: flags, noEventsFile: true });
      expectNoAbort(result);
      expect(linesMatching(result, NO_STACK_LINE), describeRun(result)).toHaveLength(1);
      const states = result.live.map(({ event }) => event.state);
      expect(states, describeRun(result)).toEqual(['ongoing', 'ended']);
      for (const { event } of result.live) expect(event).toMatchObject({ stack: [], stackTiming: 'none' });
      expect(result.live[1]?.event.durationMs).toBeGreaterThanOrEqual(450);
    },
  );

  it.runIf(NODE_MAJOR >= 24)('with --allow-inspector the stack is captured as usual', async () => {
    const result = await run(fixture('plain-block.cjs'), {
      mode: 'require',
      nodeArgs: [...flags, '--allow-inspector'],
      noEventsFile: true,
    });
    expectNoAbort(result);
    expect(linesMatching(result, NO_STACK_LINE)).toHaveLength(0);
    const ongoing = result.live.find(({ event }) => event.state === 'ongoing')?.event;
    expect(ongoing, describeRun(result)).toMatchObject({ stackTiming: 'during' });
    expect(ongoing?.stack[0]?.function).toBe('spinPlainly');
  });
});
