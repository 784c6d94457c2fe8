import { describe, expect, it } from 'vitest';
import { analyse } from '../../src/cli/summary.js';
import { formatSummary } from '../../src/cli/format.js';
import { culpritFrame, isGlue, onlyInternals } from '../../src/common/frames.js';
import { formatPretty } from '../../src/common/pretty.js';
import type { BlockEvent, StackFrame } from '../../src/types.js';

const at = (fn: string, file: string, line = 1): StackFrame => ({ function: fn, file, line, column: 1 });

describe('culpritFrame', () => {
  it("skips a test runner's glue: vite's export getters (Module.<export>) and __vite_ssr_* helpers", () => {
    const stack = [
      at('Module.assert', '/app/src/utils.ts', 24),
      at('__vite_ssr_import__', '/app/node_modules/vite/dist/module-runner.js'),
      at('checkTotals', '/app/src/utils.ts', 9),
      at('processTicksAndRejections', 'node:internal/process/task_queues'),
    ];
    expect(culpritFrame(stack)?.function).toBe('checkTotals');
  });

  it('keeps node_modules and Node internals out as before, and falls back to glue only when nothing else is left', () => {
    expect(
      culpritFrame([
        at('JSON.parse', '<anonymous>'),
        at('parse', '/app/node_modules/lib/x.js'),
        at('load', '/app/src/a.js'),
      ])?.function,
    ).toBe('load');
    expect(culpritFrame([at('parse', '/app/node_modules/lib/x.js'), at('Module.run', '/app/src/a.ts')])?.function).toBe(
      'parse',
    );
    expect(
      culpritFrame([at('Module.run', '/app/src/a.ts'), at('listOnTimeout', 'node:internal/timers')])?.function,
    ).toBe('Module.run');
  });

  it('takes only those names for glue: a function of the app with its own name, or a method of a class, is not', () => {
    expect(
      ['Module.assert', 'Module.$x', '__vite_ssr_exportName__', '__vi_import_0__'].every((fn) =>
        isGlue(at(fn, '/a.ts')),
      ),
    ).toBe(true);
    expect(
      ['assert', 'Module', 'ModuleLoader.load', 'Module.prototype.load', 'Module._load', 'new Module'].some((fn) =>
        isGlue(at(fn, '/a.ts')),
      ),
    ).toBe(false);
  });
});

describe('a stack of Node internals only, taken during the block (issue 17, item 4)', () => {
  const microtasks: StackFrame[] = [at('processTicksAndRejections', 'node:internal/process/task_queues', 95)];
  const ended: BlockEvent = {
    type: 'block',
    id: 1,
    phase: 'running',
    thresholdMs: 100,
    pid: 7,
    thread: 'main',
    state: 'ended',
    durationMs: 640,
    startedAt: new Date(0).toISOString(),
    stack: microtasks,
    stackTiming: 'during',
  };

  it('says what was seen: the microtask queue, timers, setImmediate callbacks', () => {
    expect(onlyInternals(microtasks)).toMatch(/^the microtask queue/);
    expect(
      onlyInternals([at('listOnTimeout', 'node:internal/timers'), at('processTimers', 'node:internal/timers')]),
    ).toBe('timers');
    expect(onlyInternals([at('processImmediate', 'node:internal/timers')])).toBe('setImmediate callbacks');
    expect(onlyInternals([])).toBeUndefined();
    expect(onlyInternals([...microtasks, at('render', '/app/a.js')])).toBeUndefined();
  });

  it('is attributed as `internals` in loopwatch report, not as a block without a stack', () => {
    const { summary } = analyse([
      {
        name: 'e',
        events: [{ ...ended, state: 'ongoing', durationMs: 101 }, ended],
        malformedLines: [],
        otherLines: 0,
        truncatedLastLine: false,
        lines: 2,
      },
    ]);
    expect(summary.culprits[0]).toMatchObject({ function: 'processTicksAndRejections', attribution: 'internals' });
    const plain = (text: string): string => text;
    const text = formatSummary(summary, '/app', { bold: plain, dim: plain, red: plain, yellow: plain, cyan: plain });
    expect(text).toContain('(only Node internals on the stack: the microtask queue');
    expect(text).not.toContain('inside one long native call');
  });

  it('the stderr report ends the block with what was seen', () => {
    expect(formatPretty(ended, '/app')).toMatch(
      /ended after 640 ms — only Node internals on the stack: the microtask queue/,
    );
  });
});
