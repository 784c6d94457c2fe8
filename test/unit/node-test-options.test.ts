import { describe, expect, it } from 'vitest';
import { nodeTestOptions } from '../../src/node-test/options.js';

describe('loopwatch/node-test options from the environment', () => {
  it('defaults to a 30 s hang deadline (node:test has no test timeout unless asked)', () => {
    expect(nodeTestOptions({})).toMatchObject({
      thresholdMs: 100,
      mode: 'fail',
      hangMs: 30_000,
      canary: true,
      summary: true,
    });
  });

  it('reads every variable', () => {
    const options = nodeTestOptions({
      LOOPWATCH_THRESHOLD_MS: '50',
      LOOPWATCH_HANG_MS: 'off',
      LOOPWATCH_TEST_MODE: 'report',
      LOOPWATCH_TEST_ALLOW: 'legacyHash, file:/vendor/',
      LOOPWATCH_TEST_OUTSIDE: 'fail',
      LOOPWATCH_TEST_CANARY: 'off',
      LOOPWATCH_TEST_SUMMARY: 'off',
    });
    expect(options).toEqual({
      thresholdMs: 50,
      hangMs: false,
      mode: 'report',
      allow: [
        { function: 'legacyHash', file: undefined },
        { function: undefined, file: '/vendor/' },
      ],
      outsideTests: 'fail',
      canary: false,
      summary: false,
    });
  });

  it('names the variable and the value it cannot use', () => {
    expect(() => nodeTestOptions({ LOOPWATCH_TEST_MODE: 'strict' })).toThrow(
      'LOOPWATCH_TEST_MODE must be "fail" or "report", got "strict"',
    );
    expect(() => nodeTestOptions({ LOOPWATCH_HANG_MS: '2s' })).toThrow(
      'LOOPWATCH_HANG_MS must be an integer number of milliseconds, or off, got "2s"',
    );
    expect(() => nodeTestOptions({ LOOPWATCH_TEST_CANARY: 'maybe' })).toThrow(
      'LOOPWATCH_TEST_CANARY must be on or off, got "maybe"',
    );
    expect(() => nodeTestOptions({ LOOPWATCH_TEST_ALLOW: 'a,,b' })).toThrow(
      /LOOPWATCH_TEST_ALLOW must be comma-separated function names/,
    );
    expect(() => nodeTestOptions({ LOOPWATCH_THRESHOLD_MS: '0' })).toThrow(
      /`thresholdMs` must be a number of milliseconds from 1/,
    );
  });
});
