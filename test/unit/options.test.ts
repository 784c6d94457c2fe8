import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LoopwatchError } from '../../src/errors.js';
import { scrubNodeOptions, beatPeriodMs } from '../../src/main/monitor.js';
import { optionsFromEnv, resolveOptions } from '../../src/options.js';

function error(fn: () => unknown): LoopwatchError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LoopwatchError);
    return e as LoopwatchError;
  }
  throw new Error('expected a LoopwatchError');
}

describe('resolveOptions', () => {
  it('has documented defaults and freezes the result', () => {
    const options = resolveOptions(undefined);
    expect(options).toEqual({
      thresholdMs: 100,
      eventsFile: undefined,
      log: 'pretty',
      captureStack: true,
      maxFrames: 64,
      captureTimeoutMs: 50,
      profiler: true,
      profilerThreads: false,
      hangMs: undefined,
      hangAction: 'none',
      shutdownTimeoutMs: undefined,
      healthPort: undefined,
      healthHost: '127.0.0.1',
      livenessMs: 10_000,
      readyMaxLagMs: 100,
      warmup: false,
      threads: 'all',
      pressure: {
        maxLagMs: 100,
        maxUtilization: undefined,
        maxHeapUsedBytes: undefined,
        maxRssBytes: undefined,
        healthCheck: undefined,
        healthCheckIntervalMs: 1000,
        healthCheckTimeoutMs: 1000,
      },
    });
    expect(Object.isFrozen(options)).toBe(true);
    expect(Object.isFrozen(options.pressure)).toBe(true);
  });

  it('pressure: the lag limit defaults to readyMaxLagMs; every other limit is off unless set', () => {
    expect(resolveOptions({ readyMaxLagMs: 40 }).pressure.maxLagMs).toBe(40);
    const check = (): boolean => true;
    expect(
      resolveOptions({
        readyMaxLagMs: 40,
        pressure: { maxLagMs: 250, maxUtilization: 1, maxRssBytes: 2e9, healthCheck: check, healthCheckTimeoutMs: 50 },
      }).pressure,
    ).toMatchObject({
      maxLagMs: 250,
      maxUtilization: 1,
      maxRssBytes: 2e9,
      healthCheck: check,
      healthCheckTimeoutMs: 50,
    });
  });

  it('profileDir: an absolute folder with its bounds (defaults: the threshold, 20 files, 50 MB)', () => {
    expect(resolveOptions({}).profileFiles).toBeUndefined();
    expect(resolveOptions({ profileDir: 'profiles', thresholdMs: 200 }).profileFiles).toEqual({
      dir: join(process.cwd(), 'profiles'),
      minMs: 200,
      maxFiles: 20,
      maxBytes: 50 * 1024 * 1024,
    });
    expect(
      optionsFromEnv({
        LOOPWATCH_PROFILE_DIR: '/tmp/p',
        LOOPWATCH_PROFILE_MAX_FILES: '3',
        LOOPWATCH_PROFILE_MIN_MS: '500',
      }).profileFiles,
    ).toMatchObject({ dir: '/tmp/p', maxFiles: 3, minMs: 500 });
    expect(error(() => resolveOptions({ profileDir: '' })).message).toBe('`profileDir` must be a folder path, got ""');
    expect(error(() => optionsFromEnv({ LOOPWATCH_PROFILE_MAX_FILES: '0' })).message).toContain(
      'LOOPWATCH_PROFILE_MAX_FILES must be',
    );
  });

  it('keeps 0-like values instead of replacing them with defaults', () => {
    expect(resolveOptions({ captureStack: false }).captureStack).toBe(false);
    expect(error(() => resolveOptions({ thresholdMs: 0 })).message).toBe(
      '`thresholdMs` must be a finite number from 1 to 3600000 (milliseconds), got 0',
    );
  });

  it.each([
    [{ thresholdMs: -5 }, '`thresholdMs` must be a finite number from 1 to 3600000 (milliseconds), got -5'],
    [{ thresholdMs: Number.NaN }, '`thresholdMs` must be a finite number from 1 to 3600000 (milliseconds), got NaN'],
    [{ thresholdMs: '100' }, '`thresholdMs` must be a finite number from 1 to 3600000 (milliseconds), got "100"'],
    [{ log: 'loud' }, '`log` must be one of "pretty", "json", "off", got "loud"'],
    [{ maxFrames: 2.5 }, '`maxFrames` must be an integer from 1 to 1000, got 2.5'],
    [{ captureStack: 'yes' }, '`captureStack` must be true or false, got "yes"'],
    [{ eventsFile: '' }, '`eventsFile` must be a non-empty file path, got ""'],
    [
      { eventsFile: '/no/such/folder/e.ndjson' },
      '`eventsFile` must be a file in an existing folder (/no/such/folder does not exist), got "/no/such/folder/e.ndjson"',
    ],
    [
      { thresold: 5 },
      'unknown option `thresold`; known options are thresholdMs, eventsFile, log, captureStack, maxFrames, captureTimeoutMs, profiler, profileDir, profileMinMs, profileMaxFiles, profileMaxMb, hangMs, hangAction, shutdownTimeoutMs, healthPort, healthHost, livenessMs, readyMaxLagMs, warmup, threads, pressure, otel',
    ],
    [{ hangMs: 50 }, '`hangMs` must be an integer from 100 to 86400000 (milliseconds), got 50'],
    [
      { hangAction: 'kill' },
      '`hangAction` must be "none" unless `hangMs` is set (the action needs a limit), got "kill"',
    ],
    [{ hangMs: 1000, hangAction: 'exit' }, '`hangAction` must be one of "none", "kill", "abort", got "exit"'],
    [{ healthPort: 70_000 }, '`healthPort` must be an integer from 0 to 65535, got 70000'],
    [
      { healthHost: 'http://x' },
      '`healthHost` must be an IP address or a host name (such as 127.0.0.1, 0.0.0.0 or ::), got "http://x"',
    ],
    [{ shutdownTimeoutMs: 0 }, '`shutdownTimeoutMs` must be an integer from 1 to 86400000 (milliseconds), got 0'],
    [{ warmup: 1 }, '`warmup` must be true or false, got 1'],
    [{ threads: 'workers' }, '`threads` must be one of "all", "main", got "workers"'],
    [{ pressure: 5 }, '`pressure` must be an object, got 5'],
    [
      { pressure: { maxEventLoopDelay: 5 } },
      'unknown option `pressure.maxEventLoopDelay`; known options are maxLagMs, maxUtilization, maxHeapUsedBytes, maxRssBytes, healthCheck, healthCheckIntervalMs, healthCheckTimeoutMs',
    ],
    [
      { pressure: { maxLagMs: 0 } },
      '`pressure.maxLagMs` must be a finite number from 1 to 3600000 (milliseconds), got 0',
    ],
    [
      { pressure: { maxUtilization: 98 } },
      '`pressure.maxUtilization` must be a number above 0 and at most 1 (0.9 is 90 % busy), got 98',
    ],
    [
      { pressure: { maxHeapUsedBytes: 1.5 } },
      '`pressure.maxHeapUsedBytes` must be an integer from 1 to 9007199254740991, got 1.5',
    ],
    [
      { pressure: { healthCheck: true } },
      '`pressure.healthCheck` must be a function (sync or async) that returns true while the app is healthy, got true',
    ],
    [
      { pressure: { healthCheckIntervalMs: 5 } },
      '`pressure.healthCheckIntervalMs` must be an integer from 10 to 86400000 (milliseconds), got 5',
    ],
  ])('%j → %s', (input, message) => {
    const e = error(() => resolveOptions(input as never));
    expect(e.code).toBe('ERR_LOOPWATCH_INVALID_OPTION');
    expect(e.message).toBe(message);
  });

  it('rejects a non-object', () => {
    expect(error(() => resolveOptions(5 as never)).message).toBe('options must be an object, got 5');
  });

  it('does not mutate the caller object', () => {
    const input = { thresholdMs: 50 };
    resolveOptions(input);
    expect(input).toEqual({ thresholdMs: 50 });
  });

  it('resolves the events file to an absolute path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-'));
    expect(resolveOptions({ eventsFile: join(dir, 'a.ndjson') }).eventsFile).toBe(join(dir, 'a.ndjson'));
  });
});

describe('optionsFromEnv', () => {
  it('reads the variables; unset or empty means the default', () => {
    expect(
      optionsFromEnv({ LOOPWATCH_THRESHOLD_MS: '250', LOOPWATCH_LOG: 'json', LOOPWATCH_EVENTS_FILE: '' }),
    ).toMatchObject({ thresholdMs: 250, log: 'json', eventsFile: undefined });
    expect(optionsFromEnv({}).thresholdMs).toBe(100);
  });

  it.each([
    ['abc', 'LOOPWATCH_THRESHOLD_MS must be a number of milliseconds from 1 to 3600000, got "abc"'],
    ['-5', 'LOOPWATCH_THRESHOLD_MS must be a number of milliseconds from 1 to 3600000, got "-5"'],
    ['0x10', 'LOOPWATCH_THRESHOLD_MS must be a number of milliseconds from 1 to 3600000, got "0x10"'],
    ['0', 'LOOPWATCH_THRESHOLD_MS must be a finite number from 1 to 3600000 (milliseconds), got "0"'],
  ])('LOOPWATCH_THRESHOLD_MS=%s', (value, message) => {
    const e = error(() => optionsFromEnv({ LOOPWATCH_THRESHOLD_MS: value }));
    expect(e.code).toBe('ERR_LOOPWATCH_INVALID_ENV');
    expect(e.message).toBe(message);
  });

  it('reads LOOPWATCH_PROFILER as on/off/all', () => {
    expect(optionsFromEnv({ LOOPWATCH_PROFILER: 'on' })).toMatchObject({ profiler: true, profilerThreads: false });
    expect(optionsFromEnv({ LOOPWATCH_PROFILER: 'off' })).toMatchObject({ profiler: false, profilerThreads: false });
    expect(optionsFromEnv({ LOOPWATCH_PROFILER: 'all' })).toMatchObject({ profiler: true, profilerThreads: true });
    expect(error(() => optionsFromEnv({ LOOPWATCH_PROFILER: 'yes' })).message).toBe(
      'LOOPWATCH_PROFILER must be "on", "off" or "all", got "yes"',
    );
    expect(resolveOptions({ profiler: 'all' }).profilerThreads).toBe(true);
    expect(error(() => resolveOptions({ profiler: 'workers' as 'all' })).message).toMatch(
      /`profiler` must be true, false or "all", got "workers"/,
    );
  });

  it('reads the hang, shutdown and health variables', () => {
    expect(
      optionsFromEnv({
        LOOPWATCH_HANG_MS: '2000',
        LOOPWATCH_HANG_ACTION: 'kill',
        LOOPWATCH_SHUTDOWN_TIMEOUT_MS: '5000',
        LOOPWATCH_HEALTH_PORT: '9464',
        LOOPWATCH_HEALTH_HOST: '0.0.0.0',
        LOOPWATCH_READY_MAX_LAG_MS: '250',
        LOOPWATCH_WARMUP: 'on',
        LOOPWATCH_THREADS: 'main',
      }),
    ).toMatchObject({
      hangMs: 2000,
      hangAction: 'kill',
      shutdownTimeoutMs: 5000,
      healthPort: 9464,
      healthHost: '0.0.0.0',
      livenessMs: 2000,
      readyMaxLagMs: 250,
      warmup: true,
      threads: 'main',
    });
    // Liveness follows the hang limit unless it is set itself.
    expect(optionsFromEnv({ LOOPWATCH_HANG_MS: '3000', LOOPWATCH_LIVENESS_MS: '1500' }).livenessMs).toBe(1500);
  });

  it.each([
    [
      { LOOPWATCH_HANG_ACTION: 'kill' },
      'LOOPWATCH_HANG_ACTION must be "none" unless LOOPWATCH_HANG_MS is set (the action needs a limit), got "kill"',
    ],
    [
      { LOOPWATCH_HANG_MS: '1000', LOOPWATCH_HANG_ACTION: 'restart' },
      'LOOPWATCH_HANG_ACTION must be one of "none", "kill", "abort", got "restart"',
    ],
    [{ LOOPWATCH_HANG_MS: '1s' }, 'LOOPWATCH_HANG_MS must be a whole number of milliseconds, got "1s"'],
    [{ LOOPWATCH_HANG_MS: '50' }, 'LOOPWATCH_HANG_MS must be an integer from 100 to 86400000 (milliseconds), got "50"'],
    [{ LOOPWATCH_HEALTH_PORT: 'http' }, 'LOOPWATCH_HEALTH_PORT must be a TCP port number from 0 to 65535, got "http"'],
    [{ LOOPWATCH_HEALTH_PORT: '65536' }, 'LOOPWATCH_HEALTH_PORT must be an integer from 0 to 65535, got "65536"'],
    [{ LOOPWATCH_WARMUP: 'true' }, 'LOOPWATCH_WARMUP must be "on" or "off", got "true"'],
    [{ LOOPWATCH_THREADS: 'none' }, 'LOOPWATCH_THREADS must be one of "all", "main", got "none"'],
  ])('%j', (variables, message) => {
    const e = error(() => optionsFromEnv(variables));
    expect(e.code).toBe('ERR_LOOPWATCH_INVALID_ENV');
    expect(e.message).toBe(message);
  });

  it('reads the pressure limits; unset or empty leaves them off', () => {
    expect(
      optionsFromEnv({
        LOOPWATCH_PRESSURE_MAX_UTILIZATION: '0.9',
        LOOPWATCH_PRESSURE_MAX_HEAP_USED_BYTES: '1610612736',
        LOOPWATCH_PRESSURE_MAX_RSS_BYTES: ' 3221225472 ',
        LOOPWATCH_READY_MAX_LAG_MS: '250',
      }).pressure,
    ).toEqual({
      maxLagMs: 250,
      maxUtilization: 0.9,
      maxHeapUsedBytes: 1_610_612_736,
      maxRssBytes: 3_221_225_472,
      healthCheck: undefined,
      healthCheckIntervalMs: 1000,
      healthCheckTimeoutMs: 1000,
    });
    expect(optionsFromEnv({ LOOPWATCH_PRESSURE_MAX_UTILIZATION: '1' }).pressure.maxUtilization).toBe(1);
    expect(optionsFromEnv({ LOOPWATCH_PRESSURE_MAX_RSS_BYTES: '' }).pressure).toEqual(resolveOptions({}).pressure);
  });

  it('start() takes its options from code only: the variables are loopwatch/register’s', () => {
    const env = {
      LOOPWATCH_THRESHOLD_MS: '5',
      LOOPWATCH_PRESSURE_MAX_UTILIZATION: '0.5',
      LOOPWATCH_PRESSURE_MAX_RSS_BYTES: '1000',
    };
    const options = resolveOptions({ pressure: { maxRssBytes: 5e9 } }, env);
    expect(options.thresholdMs).toBe(100);
    expect(options.pressure).toMatchObject({ maxRssBytes: 5e9, maxUtilization: undefined });
  });

  it.each([
    [
      'LOOPWATCH_PRESSURE_MAX_UTILIZATION',
      'high',
      'LOOPWATCH_PRESSURE_MAX_UTILIZATION must be a number above 0 and at most 1 (0.9 is 90 % busy), got "high"',
    ],
    [
      'LOOPWATCH_PRESSURE_MAX_UTILIZATION',
      '90%',
      'LOOPWATCH_PRESSURE_MAX_UTILIZATION must be a number above 0 and at most 1 (0.9 is 90 % busy), got "90%"',
    ],
    [
      'LOOPWATCH_PRESSURE_MAX_UTILIZATION',
      '0',
      'LOOPWATCH_PRESSURE_MAX_UTILIZATION must be a number above 0 and at most 1 (0.9 is 90 % busy), got "0"',
    ],
    [
      'LOOPWATCH_PRESSURE_MAX_UTILIZATION',
      '90',
      'LOOPWATCH_PRESSURE_MAX_UTILIZATION must be a number above 0 and at most 1 (0.9 is 90 % busy), got "90"',
    ],
    [
      'LOOPWATCH_PRESSURE_MAX_HEAP_USED_BYTES',
      '1.5GB',
      'LOOPWATCH_PRESSURE_MAX_HEAP_USED_BYTES must be a whole number of bytes, got "1.5GB"',
    ],
    [
      'LOOPWATCH_PRESSURE_MAX_HEAP_USED_BYTES',
      '1e9',
      'LOOPWATCH_PRESSURE_MAX_HEAP_USED_BYTES must be a whole number of bytes, got "1e9"',
    ],
    [
      'LOOPWATCH_PRESSURE_MAX_HEAP_USED_BYTES',
      '1.5',
      'LOOPWATCH_PRESSURE_MAX_HEAP_USED_BYTES must be an integer from 1 to 9007199254740991, got "1.5"',
    ],
    [
      'LOOPWATCH_PRESSURE_MAX_RSS_BYTES',
      '-1',
      'LOOPWATCH_PRESSURE_MAX_RSS_BYTES must be a whole number of bytes, got "-1"',
    ],
    [
      'LOOPWATCH_PRESSURE_MAX_RSS_BYTES',
      '0',
      'LOOPWATCH_PRESSURE_MAX_RSS_BYTES must be an integer from 1 to 9007199254740991, got "0"',
    ],
    [
      'LOOPWATCH_PRESSURE_MAX_RSS_BYTES',
      '99999999999999999999',
      'LOOPWATCH_PRESSURE_MAX_RSS_BYTES must be an integer from 1 to 9007199254740991, got "99999999999999999999"',
    ],
  ])('%s=%s', (variable, value, message) => {
    const e = error(() => optionsFromEnv({ [variable]: value }));
    expect(e.code).toBe('ERR_LOOPWATCH_INVALID_ENV');
    expect(e.message).toBe(message);
  });

  it('names the variable for a bad log format', () => {
    expect(error(() => optionsFromEnv({ LOOPWATCH_LOG: 'loud' })).message).toBe(
      'LOOPWATCH_LOG must be one of "pretty", "json", "off", got "loud"',
    );
  });
});

describe('LoopwatchError', () => {
  it('is recognised across copies through a shared brand', () => {
    const foreign = Object.assign(new Error('x'), { [Symbol.for('loopwatch.error')]: true });
    expect(foreign).toBeInstanceOf(LoopwatchError);
    expect(new Error('x')).not.toBeInstanceOf(LoopwatchError);
  });
});

describe('scrubNodeOptions', () => {
  it.each([
    [undefined, ''],
    ['--import loopwatch/register', ''],
    ['-r loopwatch/register --max-old-space-size=100', '--max-old-space-size=100'],
    ['--require=./x.js --enable-source-maps --import=tsx', '--enable-source-maps'],
    ['--loader ts-node/esm --experimental-loader=x --trace-warnings', '--trace-warnings'],
    ['--require "./a b.js" --inspect', '--inspect'],
  ])('%s → %s', (input, output) => {
    expect(scrubNodeOptions(input)).toBe(output);
  });
});

describe('beatPeriodMs', () => {
  it('is an eighth of the threshold, from 1 to 250 ms', () => {
    expect(beatPeriodMs(100)).toBe(12);
    expect(beatPeriodMs(4)).toBe(1);
    expect(beatPeriodMs(60_000)).toBe(250);
  });
});
