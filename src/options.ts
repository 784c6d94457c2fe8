/** Validation of `start()` options and of the environment read by `loopwatch/register`. */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LoopwatchError } from './errors.js';
import { resolveTelemetry } from './telemetry-options.js';
import type {
  HangAction,
  LogFormat,
  PressureOptions,
  ProfileFilesOptions,
  ResolvedPressure,
  ResolvedOptions,
  StartOptions,
  ThreadsOption,
} from './types.js';
import { mustBe } from './common/text.js';
import { isObject } from './common/guards.js';

/**
 * 100 ms: the budget for a response to feel immediate (RAIL), well above ordinary
 * garbage-collection pauses, so every report is worth reading.
 */
export const DEFAULT_THRESHOLD_MS = 100;
export const DEFAULT_MAX_FRAMES = 64;
export const DEFAULT_CAPTURE_TIMEOUT_MS = 50;
/**
 * `/livez` fails after the loop has not turned for 10 s (when no `hangMs` says otherwise): far
 * above any block worth a report, well below the 30 s a Kubernetes liveness probe with its
 * defaults (period 10 s, failure threshold 3) takes to act.
 */
export const DEFAULT_LIVENESS_MS = 10_000;
export const DEFAULT_HEALTH_HOST = '127.0.0.1';
const DAY_MS = 86_400_000;

const LOG_FORMATS: readonly LogFormat[] = ['pretty', 'json', 'off'];
const HANG_ACTIONS: readonly HangAction[] = ['none', 'kill', 'abort'];
const THREADS: readonly ThreadsOption[] = ['all', 'main'];
const KNOWN_OPTIONS = new Set([
  'thresholdMs',
  'eventsFile',
  'log',
  'captureStack',
  'maxFrames',
  'captureTimeoutMs',
  'profiler',
  'profileDir',
  'profileMinMs',
  'profileMaxFiles',
  'profileMaxMb',
  'hangMs',
  'hangAction',
  'shutdownTimeoutMs',
  'healthPort',
  'healthHost',
  'livenessMs',
  'readyMaxLagMs',
  'warmup',
  'threads',
  'pressure',
  'otel',
]);

/** Where a bad value came from, so the message names what the user actually wrote. */
type Source = { kind: 'option' } | { kind: 'env'; variables: Readonly<Record<string, string>> };

/** An option by the name a message shows: `thresholdMs`, or a `pressure` limit as `pressure.maxRssBytes`. */
type OptionName = keyof StartOptions | `pressure.${keyof PressureOptions}`;

function fail(source: Source, option: OptionName, value: unknown, expected: string): never {
  if (source.kind === 'env') {
    const variable = ENV_NAMES[option] ?? option;
    throw new LoopwatchError(
      'ERR_LOOPWATCH_INVALID_ENV',
      mustBe(variable, expected, JSON.stringify(source.variables[variable] ?? value)),
    );
  }
  throw new LoopwatchError('ERR_LOOPWATCH_INVALID_OPTION', mustBe(`\`${option}\``, expected, describe(value)));
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined)
    return String(value);
  if (Array.isArray(value)) return 'an array';
  return `a value of type ${typeof value}`;
}

function number(
  source: Source,
  option: OptionName,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
  integer: boolean,
): number;
function number(
  source: Source,
  option: OptionName,
  value: unknown,
  fallback: undefined,
  min: number,
  max: number,
  integer: boolean,
): number | undefined;
function number(
  source: Source,
  option: OptionName,
  value: unknown,
  fallback: number | undefined,
  min: number,
  max: number,
  integer: boolean,
): number | undefined {
  if (value === undefined) return fallback;
  const expected = `${integer ? 'an integer' : 'a finite number'} from ${min} to ${max}${option.endsWith('Ms') ? ' (milliseconds)' : ''}`;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    fail(source, option, value, expected);
  }
  return value;
}

function eventsFile(source: Source, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') fail(source, 'eventsFile', value, 'a non-empty file path');
  const file = resolve(value);
  const folder = dirname(file);
  let isFolder = false;
  try {
    isFolder = statSync(folder).isDirectory();
  } catch {
    // reported below
  }
  if (!isFolder) fail(source, 'eventsFile', value, `a file in an existing folder (${folder} does not exist)`);
  try {
    accessSync(folder, constants.W_OK);
  } catch {
    fail(source, 'eventsFile', value, `a file in a folder this process can write to (${folder} is not writable)`);
  }
  try {
    if (statSync(file).isDirectory()) fail(source, 'eventsFile', value, 'a file path, not a folder');
  } catch (error) {
    if (error instanceof LoopwatchError) throw error;
    // Not there yet: the worker creates it.
  }
  return file;
}

function resolveWith(source: Source, input: StartOptions, env: NodeJS.ProcessEnv, warnings: string[]): ResolvedOptions {
  for (const key of Object.keys(input)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new LoopwatchError(
        'ERR_LOOPWATCH_INVALID_OPTION',
        `unknown option \`${key}\`; known options are ${[...KNOWN_OPTIONS].join(', ')}`,
      );
    }
  }
  const log = input.log ?? 'pretty';
  if (!LOG_FORMATS.includes(log)) fail(source, 'log', log, `one of ${LOG_FORMATS.map((f) => `"${f}"`).join(', ')}`);
  const captureStack = input.captureStack ?? true;
  if (typeof captureStack !== 'boolean') fail(source, 'captureStack', captureStack, 'true or false');
  const onOff = source.kind === 'env' ? '"on" or "off"' : 'true or false';
  // Typed, but from JavaScript or the environment it can be anything.
  const profilerInput: unknown = input.profiler ?? true;
  if (profilerInput !== true && profilerInput !== false && profilerInput !== 'all')
    fail(source, 'profiler', profilerInput, source.kind === 'env' ? '"on", "off" or "all"' : 'true, false or "all"');
  const profiler = profilerInput !== false;
  const warmup = input.warmup ?? false;
  if (typeof warmup !== 'boolean') fail(source, 'warmup', warmup, onOff);
  const threads = input.threads ?? 'all';
  if (!THREADS.includes(threads)) fail(source, 'threads', threads, `one of ${THREADS.map((t) => `"${t}"`).join(', ')}`);
  const thresholdMs = number(source, 'thresholdMs', input.thresholdMs, DEFAULT_THRESHOLD_MS, 1, 3_600_000, false);
  // A hang is a block that lasted long: it cannot be shorter than the threshold of a block.
  const hangMs = number(source, 'hangMs', input.hangMs, undefined, Math.ceil(thresholdMs), DAY_MS, true);
  const hangAction = input.hangAction ?? 'none';
  if (!HANG_ACTIONS.includes(hangAction))
    fail(source, 'hangAction', hangAction, `one of ${HANG_ACTIONS.map((a) => `"${a}"`).join(', ')}`);
  if (hangAction !== 'none' && hangMs === undefined) {
    fail(
      source,
      'hangAction',
      hangAction,
      `"none" unless ${source.kind === 'env' ? 'LOOPWATCH_HANG_MS' : '`hangMs`'} is set (the action needs a limit)`,
    );
  }
  const readyMaxLagMs = number(source, 'readyMaxLagMs', input.readyMaxLagMs, thresholdMs, 1, 3_600_000, false);
  return Object.freeze({
    thresholdMs,
    eventsFile: eventsFile(source, input.eventsFile),
    log,
    captureStack,
    maxFrames: number(source, 'maxFrames', input.maxFrames, DEFAULT_MAX_FRAMES, 1, 1000, true),
    captureTimeoutMs: number(
      source,
      'captureTimeoutMs',
      input.captureTimeoutMs,
      DEFAULT_CAPTURE_TIMEOUT_MS,
      10,
      60_000,
      true,
    ),
    profiler,
    profilerThreads: profilerInput === 'all',
    profileFiles: profileFiles(source, input, thresholdMs),
    hangMs,
    hangAction,
    shutdownTimeoutMs: number(source, 'shutdownTimeoutMs', input.shutdownTimeoutMs, undefined, 1, DAY_MS, true),
    healthPort: number(source, 'healthPort', input.healthPort, undefined, 0, 65_535, true),
    healthHost: healthHost(source, input.healthHost),
    livenessMs: number(source, 'livenessMs', input.livenessMs, hangMs ?? DEFAULT_LIVENESS_MS, 1, DAY_MS, true),
    readyMaxLagMs,
    warmup,
    threads,
    pressure: resolvePressure(source, input.pressure, readyMaxLagMs),
    telemetry: resolveTelemetry(env, input.otel, warnings),
  });
}

export const DEFAULT_HEALTH_CHECK_INTERVAL_MS = 1000;
export const DEFAULT_HEALTH_CHECK_TIMEOUT_MS = 1000;
const PRESSURE_OPTIONS = new Set([
  'maxLagMs',
  'maxUtilization',
  'maxHeapUsedBytes',
  'maxRssBytes',
  'healthCheck',
  'healthCheckIntervalMs',
  'healthCheckTimeoutMs',
]);

/**
 * `pressure`: every limit but the lag is off unless given; the lag limit defaults to `readyMaxLagMs`.
 * From the environment only the limits come (`LOOPWATCH_PRESSURE_*`); the check is a function.
 */
function resolvePressure(source: Source, input: PressureOptions | undefined, readyMaxLagMs: number): ResolvedPressure {
  if (input !== undefined && (!isObject(input) || Array.isArray(input))) {
    throw new LoopwatchError('ERR_LOOPWATCH_INVALID_OPTION', mustBe('`pressure`', 'an object', describe(input)));
  }
  const options: PressureOptions = input ?? {};
  for (const key of Object.keys(options)) {
    if (!PRESSURE_OPTIONS.has(key)) {
      throw new LoopwatchError(
        'ERR_LOOPWATCH_INVALID_OPTION',
        `unknown option \`pressure.${key}\`; known options are ${[...PRESSURE_OPTIONS].join(', ')}`,
      );
    }
  }
  const maxUtilization = options.maxUtilization;
  // Not number()'s closed range: 0 would mean "always under pressure", never what is meant.
  if (
    maxUtilization !== undefined &&
    (typeof maxUtilization !== 'number' || !(maxUtilization > 0 && maxUtilization <= 1))
  ) {
    fail(source, 'pressure.maxUtilization', maxUtilization, 'a number above 0 and at most 1 (0.9 is 90 % busy)');
  }
  const healthCheck = options.healthCheck;
  if (healthCheck !== undefined && typeof healthCheck !== 'function') {
    fail(
      source,
      'pressure.healthCheck',
      healthCheck,
      'a function (sync or async) that returns true while the app is healthy',
    );
  }
  const bytes = Number.MAX_SAFE_INTEGER;
  return Object.freeze({
    maxLagMs: number(source, 'pressure.maxLagMs', options.maxLagMs, readyMaxLagMs, 1, 3_600_000, false),
    maxUtilization,
    maxHeapUsedBytes: number(source, 'pressure.maxHeapUsedBytes', options.maxHeapUsedBytes, undefined, 1, bytes, true),
    maxRssBytes: number(source, 'pressure.maxRssBytes', options.maxRssBytes, undefined, 1, bytes, true),
    healthCheck,
    healthCheckIntervalMs: number(
      source,
      'pressure.healthCheckIntervalMs',
      options.healthCheckIntervalMs,
      DEFAULT_HEALTH_CHECK_INTERVAL_MS,
      10,
      DAY_MS,
      true,
    ),
    healthCheckTimeoutMs: number(
      source,
      'pressure.healthCheckTimeoutMs',
      options.healthCheckTimeoutMs,
      DEFAULT_HEALTH_CHECK_TIMEOUT_MS,
      1,
      DAY_MS,
      true,
    ),
  });
}

export const DEFAULT_PROFILE_MAX_FILES = 20;
export const DEFAULT_PROFILE_MAX_MB = 50;

/** `profileDir` and its bounds; the folder is created by the worker when the first file is written. */
function profileFiles(source: Source, input: StartOptions, thresholdMs: number): ProfileFilesOptions | undefined {
  const dir = input.profileDir;
  const minMs = number(source, 'profileMinMs', input.profileMinMs, thresholdMs, 1, DAY_MS, false);
  const maxFiles = number(source, 'profileMaxFiles', input.profileMaxFiles, DEFAULT_PROFILE_MAX_FILES, 1, 10_000, true);
  const maxMb = number(source, 'profileMaxMb', input.profileMaxMb, DEFAULT_PROFILE_MAX_MB, 1, 10_000, false);
  if (dir === undefined) return undefined;
  if (typeof dir !== 'string' || dir === '') fail(source, 'profileDir', dir, 'a folder path');
  const absolute = resolve(dir);
  try {
    if (!statSync(absolute).isDirectory()) fail(source, 'profileDir', dir, 'a folder, not a file');
  } catch (error) {
    if (error instanceof LoopwatchError) throw error;
    // Not there yet: the worker creates it.
  }
  return Object.freeze({ dir: absolute, minMs, maxFiles, maxBytes: Math.round(maxMb * 1024 * 1024) });
}

/** An IP address or a host name: no scheme, no port, no spaces. */
function healthHost(source: Source, value: unknown): string {
  if (value === undefined) return DEFAULT_HEALTH_HOST;
  // node:net only when a host is given: loading it (and the streams it brings) costs every app
  // ~1.6 MB of RSS on the main thread.
  const isIP = (host: string): number => (require('node:net') as typeof import('node:net')).isIP(host);
  if (typeof value !== 'string' || (isIP(value) === 0 && !/^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})$/.test(value))) {
    fail(source, 'healthHost', value, 'an IP address or a host name (such as 127.0.0.1, 0.0.0.0 or ::)');
  }
  return value;
}

/** Validates `start()` options once, eagerly. Throws `LoopwatchError` (`ERR_LOOPWATCH_INVALID_OPTION`). */
export function resolveOptions(
  input: StartOptions | undefined,
  env: NodeJS.ProcessEnv = process.env,
  warnings: string[] = [],
): ResolvedOptions {
  if (input === undefined) return resolveWith({ kind: 'option' }, {}, env, warnings);
  if (!isObject(input) || Array.isArray(input)) {
    throw new LoopwatchError('ERR_LOOPWATCH_INVALID_OPTION', mustBe('options', 'an object', describe(input)));
  }
  return resolveWith({ kind: 'option' }, input, env, warnings);
}

/** The environment variables `loopwatch/register` reads, by option. */
export const ENV_NAMES: Partial<Record<OptionName, string>> = {
  thresholdMs: 'LOOPWATCH_THRESHOLD_MS',
  eventsFile: 'LOOPWATCH_EVENTS_FILE',
  log: 'LOOPWATCH_LOG',
  profiler: 'LOOPWATCH_PROFILER',
  profileDir: 'LOOPWATCH_PROFILE_DIR',
  profileMinMs: 'LOOPWATCH_PROFILE_MIN_MS',
  profileMaxFiles: 'LOOPWATCH_PROFILE_MAX_FILES',
  profileMaxMb: 'LOOPWATCH_PROFILE_MAX_MB',
  hangMs: 'LOOPWATCH_HANG_MS',
  hangAction: 'LOOPWATCH_HANG_ACTION',
  shutdownTimeoutMs: 'LOOPWATCH_SHUTDOWN_TIMEOUT_MS',
  healthPort: 'LOOPWATCH_HEALTH_PORT',
  healthHost: 'LOOPWATCH_HEALTH_HOST',
  livenessMs: 'LOOPWATCH_LIVENESS_MS',
  readyMaxLagMs: 'LOOPWATCH_READY_MAX_LAG_MS',
  warmup: 'LOOPWATCH_WARMUP',
  threads: 'LOOPWATCH_THREADS',
  // The lag limit has no variable of its own: LOOPWATCH_READY_MAX_LAG_MS is its default, and
  // under loopwatch/register nothing else sets it. The health check's timing is code-only, with
  // the check itself.
  'pressure.maxUtilization': 'LOOPWATCH_PRESSURE_MAX_UTILIZATION',
  'pressure.maxHeapUsedBytes': 'LOOPWATCH_PRESSURE_MAX_HEAP_USED_BYTES',
  'pressure.maxRssBytes': 'LOOPWATCH_PRESSURE_MAX_RSS_BYTES',
};

/**
 * Reads the options from the environment. An unset or empty variable means the default.
 * Throws `LoopwatchError` (`ERR_LOOPWATCH_INVALID_ENV`) naming the variable and the value.
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv, warnings: string[] = []): ResolvedOptions {
  const variables: Record<string, string> = {};
  const read = (name: string): string | undefined => {
    const value = env[name];
    if (value === undefined || value.trim() === '') return undefined;
    variables[name] = value;
    return value.trim();
  };
  const source: Source = { kind: 'env', variables };
  // Number('') and Number(' ') are 0 and Number('0x10') is 16: accept plain decimals only.
  const decimal = (option: OptionName, expected: string): number | undefined => {
    const value = read(ENV_NAMES[option] ?? option);
    if (value === undefined) return undefined;
    if (!/^\d+(\.\d+)?$/.test(value)) fail(source, option, value, expected);
    return Number(value);
  };
  // Anything but on/off is passed through as is, so the check names it.
  const flag = (option: keyof StartOptions): boolean | undefined => {
    const value = read(ENV_NAMES[option] ?? option);
    return value === 'on' ? true : value === 'off' ? false : (value as unknown as boolean | undefined);
  };
  const ms = 'a number of milliseconds';
  const whole = 'a whole number of milliseconds';
  const options: StartOptions = {
    thresholdMs: decimal('thresholdMs', `${ms} from 1 to 3600000`),
    eventsFile: read('LOOPWATCH_EVENTS_FILE'),
    log: read('LOOPWATCH_LOG') as LogFormat | undefined,
    profiler: flag('profiler'),
    profileDir: read('LOOPWATCH_PROFILE_DIR'),
    profileMinMs: decimal('profileMinMs', ms),
    profileMaxFiles: decimal('profileMaxFiles', 'a whole number from 1 to 10000'),
    profileMaxMb: decimal('profileMaxMb', 'a number of megabytes from 1 to 10000'),
    hangMs: decimal('hangMs', whole),
    hangAction: read('LOOPWATCH_HANG_ACTION') as HangAction | undefined,
    shutdownTimeoutMs: decimal('shutdownTimeoutMs', whole),
    healthPort: decimal('healthPort', 'a TCP port number from 0 to 65535'),
    healthHost: read('LOOPWATCH_HEALTH_HOST'),
    livenessMs: decimal('livenessMs', whole),
    readyMaxLagMs: decimal('readyMaxLagMs', ms),
    warmup: flag('warmup'),
    threads: read('LOOPWATCH_THREADS') as ThreadsOption | undefined,
    pressure: {
      maxUtilization: decimal('pressure.maxUtilization', 'a number above 0 and at most 1 (0.9 is 90 % busy)'),
      maxHeapUsedBytes: decimal('pressure.maxHeapUsedBytes', 'a whole number of bytes'),
      maxRssBytes: decimal('pressure.maxRssBytes', 'a whole number of bytes'),
    },
  };
  return resolveWith(source, options, env, warnings);
}
