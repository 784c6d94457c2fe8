import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInThisContext } from 'node:vm';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { captureExpression, decodeCapture, decodeFrames, parseStackString } from '../../src/worker/capture.js';
import { formatPretty } from '../../src/common/pretty.js';
import { SourceMapper } from '../../src/worker/sourcemap.js';
import { phaseOf, resolveFrames } from '../../src/worker/stack.js';
import type { BlockEvent } from '../../src/types.js';

describe('the capture expression', () => {
  it('returns frames of the code it interrupts, restores the globals, and leaves itself out', () => {
    const prepare: unknown = Object.getOwnPropertyDescriptor(Error, 'prepareStackTrace')?.value;
    const before = { limit: Error.stackTraceLimit, prepare };
    function culprit(): { t: number; f: unknown } {
      // Evaluating it directly is what the interrupt does on top of this frame.
      return (0, eval)(captureExpression(5)) as { t: number; f: unknown };
    }
    const value = culprit();
    expect(Error.stackTraceLimit).toBe(before.limit);
    expect(Object.getOwnPropertyDescriptor(Error, 'prepareStackTrace')?.value).toBe(before.prepare);
    const { frames } = decodeFrames(value.f, 5);
    // Indirect eval adds its own builtin frame; the inspector's evaluation does not.
    expect(frames.map((f) => f.function).slice(0, 2)).toEqual(['eval', 'culprit']);
    expect(frames[1]?.file).toBe(__filename);
    expect(typeof value.t).toBe('number');
  });

  it("a deep recursion inside a library: the app's frame beyond the limit comes back, with how many were skipped", () => {
    // A "library" (its script named as a file in node_modules) that recurses 300 deep, called by app code.
    const recurse = runInThisContext(
      '(function (expression) { return function deep(n) { return n === 0 ? (0, eval)(expression) : deep(n - 1); }; })',
      { filename: '/srv/app/node_modules/deeplib/index.js' },
    ) as (expression: string) => (n: number) => { f: unknown };
    const deep = recurse(captureExpression(10));
    function appCaller(): { f: unknown } {
      return deep(300);
    }
    const value = appCaller();
    const { frames, truncated } = decodeFrames(value.f, 10);
    expect(truncated).toBe(true);
    expect(frames).toHaveLength(11);
    expect(frames.slice(1, 10).every((f) => f.file === '/srv/app/node_modules/deeplib/index.js')).toBe(true);
    const last = frames[10];
    expect(last).toMatchObject({ function: 'appCaller', file: __filename });
    // 301 frames of deep(), 9 of them kept after the eval frame: 292 skipped.
    expect(last?.skipped).toBe(292);
    // A stack whose kept frames hold the app's: nothing more is looked for.
    function shallow(): { f: unknown } {
      return (0, eval)(captureExpression(10)) as { f: unknown };
    }
    expect(decodeFrames(shallow().f, 10).frames.some((f) => f.skipped !== undefined)).toBe(false);
  });

  it('reports truncation when there are more frames than the limit', () => {
    const wire = Array.from({ length: 4 }, () => ['f', null, null, '/a.js', 1, 2, false, false, null, true]);
    expect(decodeFrames(wire, 3)).toMatchObject({ truncated: true });
    expect(decodeFrames(wire, 3).frames).toHaveLength(3);
    expect(decodeFrames(wire, 4).truncated).toBe(false);
  });

  it('names frames like V8 where the function has no name of its own', () => {
    const { frames } = decodeFrames(
      [
        [null, 'Server', null, '/a.js', 1, 1, false, false, null, false],
        [null, 'Timeout', '_onTimeout', '/a.js', 1, 1, false, false, null, false],
        ['parse', 'JSON', 'parse', null, null, null, false, false, null, false],
        ['Foo', null, null, '/a.js', 1, 1, false, true, null, false],
        [null, 'Object', null, '/a.js', 1, 1, false, false, null, true],
        ['work', 'Timeout', '_onTimeout', '/a.js', 1, 1, true, false, null, false],
      ],
      10,
    );
    expect(frames.map((f) => f.function)).toEqual([
      'Server.<anonymous>',
      'Timeout._onTimeout',
      'JSON.parse',
      'new Foo',
      '<anonymous>',
      'work',
    ]);
    expect(frames[2]).toMatchObject({ file: undefined, line: 0, column: 0 });
    expect(frames[5]?.async).toBe(true);
  });
});

describe("V8's stack string (when the capture's Error.prepareStackTrace did not take)", () => {
  const text = [
    'Error',
    '    at loopwatch-capture.js:1:351',
    '    at spin (/app/a.js:2:53)',
    '    at Timeout.tick [as _onTimeout] (/app/a.js:3:64)',
    '    at new Cart (file:///app/b.mjs:10:5)',
    '    at async Promise.all (index 0)',
    '    at JSON.parse (<anonymous>)',
    '    at /app/c.js:7:1',
  ].join('\n');

  it("reads each frame, drops the capture script's own, and strips V8's [as alias]", () => {
    const { frames, truncated, cutAt } = parseStackString(text, 50, 10);
    expect(frames.map((f) => f.function)).toEqual([
      'spin',
      'Timeout.tick',
      'new Cart',
      'Promise.all',
      'JSON.parse',
      '<anonymous>',
    ]);
    expect(frames[0]).toMatchObject({ file: '/app/a.js', line: 2, column: 53, async: false });
    expect(frames[2]).toMatchObject({ file: 'file:///app/b.mjs', line: 10, column: 5 });
    expect(frames[3]).toMatchObject({ file: undefined, line: 0, async: true });
    expect(frames[5]).toMatchObject({ file: '/app/c.js', line: 7, column: 1 });
    expect([truncated, cutAt]).toEqual([false, 9]);
  });

  it('a stack as long as the stack trace limit was cut', () => {
    expect(parseStackString(text, 50, 7).truncated).toBe(true);
    expect(parseStackString(text, 3, 10)).toMatchObject({ truncated: true, frames: [{ function: 'spin' }, {}, {}] });
  });

  it('decodeCapture: a string is parsed, anything but CallSites or a string is unusable', () => {
    expect(decodeCapture({ t: 1, f: text, l: 10 }, 50)).toMatchObject({ cutAt: 9 });
    expect(decodeCapture({ t: 1, f: text, l: 10 }, 50).frames).toHaveLength(6);
    expect(decodeCapture({ t: 1, f: undefined }, 50).unusable).toMatch(/no stack/);
    expect(decodeCapture({ t: 1, f: [] }, 50)).toEqual(expect.objectContaining({ frames: [], truncated: false }));
    expect(decodeCapture({ t: 1, f: [] }, 50).unusable).toBeUndefined();
  });
});

describe('resolveFrames', () => {
  it('converts file URLs, drops loopwatch frames, maps through source maps', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-map-'));
    const source = 'function a(): number {\n  const x: number = 1;\n  return x;\n}\n';
    const out = ts.transpileModule(source, {
      fileName: join(dir, 'a.ts'),
      compilerOptions: { inlineSourceMap: true, target: ts.ScriptTarget.ES2022 },
    });
    writeFileSync(join(dir, 'a.js'), out.outputText);
    const generatedLine = out.outputText.split('\n').findIndex((l) => l.includes('const x')) + 1;
    const frames = resolveFrames(
      [
        { function: 'a', file: `file://${join(dir, 'a.js')}`, line: generatedLine, column: 11, async: false },
        { function: 'own', file: '/opt/loopwatch/dist/worker/x.js', line: 1, column: 1, async: false },
        { function: 'JSON.parse', file: undefined, line: 0, column: 0, async: false },
      ],
      new SourceMapper(),
      '/opt/loopwatch/dist',
    );
    expect(frames).toHaveLength(2);
    expect(frames[0]).toMatchObject({
      function: 'a',
      file: join(dir, 'a.ts'),
      line: 2,
      generated: { file: join(dir, 'a.js'), line: generatedLine },
    });
    expect(frames[1]).toEqual({ function: 'JSON.parse', file: '<anonymous>', line: 0, column: 0 });
  });

  it('leaves files without a map and unreadable files alone', () => {
    const mapper = new SourceMapper();
    expect(mapper.map('/no/such/file.js', 1, 1)).toBeUndefined();
    expect(mapper.map('node:internal/timers', 1, 1)).toBeUndefined();
  });
});

describe('phaseOf', () => {
  const frame = (file: string) => ({ function: 'f', file, line: 1, column: 1, async: false });
  it('is startup when the entry runner is on the stack', () => {
    expect(phaseOf([frame('/app/a.js'), frame('node:internal/modules/run_main')], false, true)).toBe('startup');
    expect(phaseOf([frame('/app/a.js'), frame('node:internal/main/run_main_module')], false, true)).toBe('startup');
  });
  it('is running otherwise; a guess without a (whole) stack', () => {
    expect(phaseOf([frame('/app/a.js'), frame('node:internal/timers')], false, false)).toBe('running');
    expect(phaseOf(undefined, false, false)).toBe('startup');
    expect(phaseOf([], false, true)).toBe('running');
    expect(phaseOf([frame('/app/a.js')], true, false)).toBe('startup');
  });
});

describe('formatPretty', () => {
  const event: BlockEvent = {
    type: 'block',
    id: 3,
    state: 'ongoing',
    phase: 'running',
    thresholdMs: 100,
    durationMs: 101.2,
    startedAt: '2026-01-01T00:00:00.000Z',
    pid: 42,
    thread: 'main',
    stackTiming: 'during',
    stack: [
      { function: 'spin', file: '/app/src/a.ts', line: 10, column: 3 },
      { function: 'listOnTimeout', file: 'node:internal/timers', line: 581, column: 17 },
    ],
  };
  it('shows the culprit with paths relative to the working directory', () => {
    expect(formatPretty(event, '/app')).toBe(
      'loopwatch: [pid 42] block #3: event loop blocked for 101 ms so far (threshold 100 ms, running) — spin (src/a.ts:10)\n    at spin (src/a.ts:10:3)\n    … 1 more frame\n',
    );
    expect(formatPretty({ ...event, state: 'ended', durationMs: 1234.5 }, '/app')).toBe(
      'loopwatch: [pid 42] block #3 ended after 1,235 ms — spin (src/a.ts:10)\n',
    );
  });
  it("names the profiler's culprit when the stack was not taken during the block", () => {
    const profile = {
      samples: 80,
      share: 0.62,
      stack: [{ function: 'loadCatalog', file: '/app/src/c.ts', line: 3, column: 1 }],
    };
    expect(formatPretty({ ...event, state: 'ended', stackTiming: 'late', profile }, '/app')).toBe(
      'loopwatch: [pid 42] block #3 ended after 101 ms — loadCatalog (src/c.ts:3) [profiler: 62% of 80 samples]\n',
    );
    // A late stack alone is not presented as the culprit.
    expect(formatPretty({ ...event, state: 'ended', stackTiming: 'late' }, '/app')).toBe(
      'loopwatch: [pid 42] block #3 ended after 101 ms\n',
    );
  });

  it('says what a thread without a stack is doing in the kernel', () => {
    const none = { ...event, stack: [], stackTiming: 'none' } as const;
    expect(formatPretty({ ...none, threadState: { state: 'running' } }, '/app')).toContain(
      'inside one long native call, running on the CPU)',
    );
    expect(
      formatPretty(
        { ...none, threadState: { state: 'sleeping', waitingIn: 'do_epoll_wait', children: ['/bin/sh -c sleep 1'] } },
        '/app',
      ),
    ).toContain('inside one long native call, waiting in do_epoll_wait for `/bin/sh -c sleep 1`)');
  });

  it("always shows the culprit's frame, with runs of library frames above it as one line", () => {
    const lib = (i: number) => ({
      function: `baseClone`,
      file: '/app/node_modules/lodash/lodash.js',
      line: 100 + i,
      column: 5,
    });
    const stack = [
      ...Array.from({ length: 40 }, (_, i) => lib(i)),
      { function: 'snapshotState', file: '/app/src/state.js', line: 7, column: 10 },
      { function: 'listOnTimeout', file: 'node:internal/timers', line: 581, column: 17 },
    ];
    const text = formatPretty({ ...event, stack }, '/app');
    expect(text).toBe(
      'loopwatch: [pid 42] block #3: event loop blocked for 101 ms so far (threshold 100 ms, running) — snapshotState (src/state.js:7)\n' +
        '    … 40 frames in node_modules/lodash …\n' +
        '    at snapshotState (src/state.js:7:10)\n' +
        '    … 1 more frame\n',
    );
    // Two library frames are shown as they are; a scoped package is named with its scope.
    const scoped = (i: number) => ({ ...lib(i), file: '/app/node_modules/@acme/deep/index.js' });
    const short = formatPretty({ ...event, stack: [lib(1), lib(2), ...stack.slice(40)] }, '/app');
    expect(short).toContain('    at baseClone (node_modules/lodash/lodash.js:101:5)\n    at baseClone');
    const mixed = formatPretty({ ...event, stack: [scoped(1), scoped(2), scoped(3), ...stack.slice(40)] }, '/app');
    expect(mixed).toContain('… 3 frames in node_modules/@acme/deep …');
  });

  it("uses the event's own culprit, and names the profiler's", () => {
    const named = formatPretty(
      {
        ...event,
        state: 'ended',
        stack: [],
        stackTiming: 'none',
        profile: { samples: 40, share: 0.9, stack: [] },
        culprit: { function: 'loadCatalog', file: '/app/src/c.ts', line: 3, column: 1, source: 'profile' },
      },
      '/app',
    );
    expect(named).toBe(
      'loopwatch: [pid 42] block #3 ended after 101 ms — loadCatalog (src/c.ts:3) [profiler: 90% of 40 samples]\n',
    );
  });

  it('says where the time went: mostly garbage collection, or several functions', () => {
    const ended = { ...event, state: 'ended', durationMs: 420 } as const;
    const gc = { samples: 41, share: 0.2, stack: event.stack, top: [], gc: { ms: 321.4, share: 0.78 } };
    expect(formatPretty({ ...ended, profile: gc }, '/app')).toBe(
      'loopwatch: [pid 42] block #3 ended after 420 ms — spin (src/a.ts:10); mostly garbage collection: 78% of 412 ms\n',
    );
    const withHeap = { ...gc, gc: { ...gc.gc, heapUsedMb: 311.6 } };
    expect(formatPretty({ ...ended, profile: withHeap }, '/app')).toContain(
      '; mostly garbage collection: 78% of 412 ms, heap 312 MB in use\n',
    );
    const top = [
      { function: 'indexOrders', file: '/app/src/o.js', line: 3, ms: 410, share: 0.51 },
      { function: 'renderInvoices', file: '/app/src/o.js', line: 9, ms: 390, share: 0.48 },
      { function: 'tiny', file: '/app/src/o.js', line: 20, ms: 10, share: 0.01 },
    ];
    const two = { samples: 80, share: 0.51, stack: event.stack, top, gc: { ms: 0, share: 0 } };
    expect(formatPretty({ ...ended, profile: two }, '/app')).toContain('; time: indexOrders 51%, renderInvoices 48%\n');
  });

  it('says when there is no stack or it is late', () => {
    expect(formatPretty({ ...event, stack: [], stackTiming: 'none' }, '/app')).toContain('no stack');
    expect(formatPretty({ ...event, stackTiming: 'late' }, '/app')).toContain('stack taken late');
  });
});
