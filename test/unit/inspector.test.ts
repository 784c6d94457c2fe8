import { describe, expect, it } from 'vitest';
import { inspectorUnavailable, isTestRunnerProcess } from '../../src/main/inspector.js';

describe('isTestRunnerProcess', () => {
  it("is node --test's runner, whose test files run in processes of their own", () => {
    expect(isTestRunnerProcess(['--test'], {})).toBe(true);
    expect(isTestRunnerProcess(['-r', 'x', '--test', '--test-reporter=spec'], {})).toBe(true);
    expect(isTestRunnerProcess(['--test', '--watch'], {})).toBe(true);
  });

  it('is not a test file process, nor a runner with isolation none, nor a plain process', () => {
    expect(isTestRunnerProcess(['--test'], { NODE_TEST_CONTEXT: 'child-v8' })).toBe(false);
    expect(isTestRunnerProcess(['--test', '--test-isolation=none'], {})).toBe(false);
    expect(isTestRunnerProcess(['--test', '--experimental-test-isolation=none'], {})).toBe(false);
    expect(isTestRunnerProcess(['--test-reporter=spec'], {})).toBe(false);
    expect(isTestRunnerProcess([], {})).toBe(false);
  });
});

describe('inspectorUnavailable', () => {
  it('finds the inspector of an ordinary thread (vitest runs this file in one)', () => {
    expect(inspectorUnavailable()).toBeUndefined();
  });
});
