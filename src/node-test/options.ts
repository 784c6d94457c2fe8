/** The options of `loopwatch/node-test`, from the environment (node:test has no config file). */
import { LoopwatchError } from '../errors.js';
import {
  resolveTestingOptions,
  type AllowRule,
  type ResolvedTestingOptions,
  type TestingOptions,
} from '../testing/options.js';
import { mustBe } from '../common/text.js';

/**
 * node:test has no timeout unless asked (`--test-timeout`): a test spinning forever would
 * hang the run. 30 s is far above any block worth a report.
 */
export const DEFAULT_NODE_TEST_HANG_MS = 30_000;

function envError(variable: string, value: string, expected: string): never {
  throw new LoopwatchError('ERR_LOOPWATCH_INVALID_ENV', mustBe(variable, expected, JSON.stringify(value)));
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
    if (!/^\d+(\.\d+)?$/.test(threshold))
      envError('LOOPWATCH_THRESHOLD_MS', threshold, 'a number of milliseconds from 1 to 3600000');
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
      if (rule === '' || rule === 'file:')
        envError('LOOPWATCH_TEST_ALLOW', allow, 'comma-separated function names or file:<part of a path>');
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
