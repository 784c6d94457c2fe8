import { describe, expect, it } from 'vitest';
import { saveStackHook } from './stack-hook.js';
import { LoopwatchError } from '../../src/errors.js';
import { optionsFromWire, optionsToWire, resolveTestingOptions } from '../../src/testing/options.js';
import { remapFrames } from '../../src/testing/remap.js';
import { summarise } from '../../src/testing/summary.js';
import loopwatch from '../../src/vitest/index.js';

function error(fn: () => unknown): LoopwatchError {
  try {
    fn();
  } catch (caught) {
    if (caught instanceof LoopwatchError) return caught;
    throw caught;
  }
  throw new Error('did not throw');
}

describe('test integration options', () => {
  it('has defaults a user can predict', () => {
    expect(resolveTestingOptions(undefined)).toEqual({
      thresholdMs: 100,
      mode: 'fail',
      allow: [],
      hangMs: undefined,
      outsideTests: 'report',
      summary: true,
      canary: true,
    });
  });

  it('rejects what it cannot use, naming the option (the plugin checks at config time)', () => {
    expect(error(() => loopwatch({ thresholdMs: 0 })).message).toMatch(
      /`thresholdMs` must be a number of milliseconds from 1 to 3600000, got 0/,
    );
    expect(error(() => loopwatch({ mode: 'warn' as 'fail' })).message).toMatch(
      /`mode` must be one of "fail", "report", got "warn"/,
    );
    expect(error(() => loopwatch({ tresholdMs: 50 } as never)).message).toMatch(/unknown option `tresholdMs`/);
    expect(error(() => loopwatch({ hangMs: 10, thresholdMs: 50 })).message).toMatch(
      /`hangMs` must be false or an integer .* from thresholdMs \(50\)/,
    );
    expect(error(() => loopwatch({ allow: [{ fn: 'x' } as never] })).message).toMatch(
      /allow\[0\] has unknown key "fn"/,
    );
    expect(error(() => loopwatch({ allow: [''] })).message).toMatch(
      /allow\[0\] must be a non-empty string or a RegExp/,
    );
    expect(error(() => loopwatch({ allow: 'x' as never })).code).toBe('ERR_LOOPWATCH_INVALID_OPTION');
  });

  it('crosses to the test processes with its RegExps intact', () => {
    const resolved = resolveTestingOptions({ allow: [/^hash/i, 'render', { file: '/vendor/', function: /parse/ }] });
    const back = optionsFromWire(
      JSON.parse(JSON.stringify(optionsToWire(resolved))) as ReturnType<typeof optionsToWire>,
    );
    expect(back.allow).toEqual([
      { function: /^hash/i, file: undefined },
      { function: 'render', file: undefined },
      { function: /parse/, file: '/vendor/' },
    ]);
  });
});

describe('remapFrames', () => {
  it('maps frames through the installed stack-trace hook, and leaves them when there is none', () => {
    const frame = { function: 'render', file: '/app/x.ts', line: 10, column: 3 };
    const restore = saveStackHook();
    try {
      (Error as { prepareStackTrace?: unknown }).prepareStackTrace = undefined;
      expect(remapFrames([frame])).toEqual([frame]);
      // A hook as a runner installs it: reads the CallSite methods, prints mapped positions.
      Error.prepareStackTrace = (error, sites) =>
        `${String(error)}\n${sites.map((s) => `    at ${s.getFunctionName()} (${s.getFileName()}:${(s.getLineNumber() ?? 0) - 2}:${(s.getColumnNumber() ?? 0) + 1})`).join('\n')}`;
      expect(remapFrames([frame])).toEqual([
        { ...frame, line: 8, column: 4, generated: { file: '/app/x.ts', line: 10, column: 3 } },
      ]);
      // Mapped by the monitor already (through the same hook, during the block): left as it is.
      const mapped = { ...frame, line: 8, column: 4, generated: { file: '/app/x.ts', line: 10, column: 3 } };
      expect(remapFrames([mapped])).toEqual([mapped]);
      Error.prepareStackTrace = () => {
        throw new Error('broken hook');
      };
      expect(remapFrames([frame])).toEqual([frame]);
    } finally {
      restore();
    }
  });
});

describe('summarise', () => {
  const options = resolveTestingOptions({ thresholdMs: 50 });
  const record = (durationMs: number, culprit: string, allowed?: string) => ({
    durationMs,
    startedAt: '',
    culprit,
    culpritFunction: undefined,
    stackTiming: 'during' as const,
    ...(allowed === undefined ? {} : { allowed }),
  });

  it('lists the worst first and groups culprits', () => {
    const lines = summarise(
      [
        { where: 'a.test.ts > small', records: [record(60, 'f (a.ts:1:1)')] },
        { where: 'a.test.ts > big', records: [record(900, 'g (b.ts:2:2)'), record(100, 'f (a.ts:1:1)')] },
        { where: 'a.test.ts > allowed', records: [record(70, 'f (a.ts:1:1)', 'allowBlocking()')] },
      ],
      [],
      options,
      '/',
    );
    expect(lines[0]).toBe('loopwatch: 4 blocks of 50 ms or more in 3 places (1 allowed), worst 900 ms');
    expect(lines[1]).toMatch(/^ {2}a\.test\.ts > big +2 blocks +worst +900 ms +g \(b\.ts:2:2\)$/);
    expect(lines[3]).toMatch(/a\.test\.ts > small .* f \(a\.ts:1:1\)$/);
    expect(lines[2]).toMatch(/\[allowBlocking\(\)\]$/);
    expect(lines.slice(-2)).toEqual([
      '    g (b.ts:2:2)  1 block, 900 ms in all, worst 900 ms',
      '    f (a.ts:1:1)  3 blocks, 230 ms in all, worst 100 ms',
    ]);
  });

  it('says in one line that it ran when nothing blocked, with the tests it watched, in either mode', () => {
    expect(summarise([], [], options, '/', { tests: 190 })).toEqual([
      'loopwatch: 190 tests watched, no block over 50 ms',
    ]);
    expect(summarise([], [], resolveTestingOptions({ mode: 'report' }), '/', { tests: 1 })).toEqual([
      'loopwatch: 1 test watched, no block over 100 ms',
    ]);
    expect(summarise([], [], options, '/', { tests: 12_000 })).toEqual([
      'loopwatch: 12,000 tests watched, no block over 50 ms',
    ]);
    expect(summarise([], [], options, '/')).toEqual(['loopwatch: no block over 50 ms in this run']);
  });
});
