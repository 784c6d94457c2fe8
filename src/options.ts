/** Validation of `start()` options and of the environment read by `loopwatch/register`. */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LoopwatchError } from './errors.js';
import type { LogFormat, ResolvedOptions, StartOptions } from './types.js';

/**
 * 100 ms: the budget for a response to feel immediate (RAIL), well above ordinary
 * garbage-collection pauses, so every report is worth reading.
 */
export const DEFAULT_THRESHOLD_MS = 100;
export const DEFAULT_MAX_FRAMES = 64;
export const DEFAULT_CAPTURE_TIMEOUT_MS = 50;

const LOG_FORMATS: readonly LogFormat[] = ['pretty', 'json', 'off'];
const KNOWN_OPTIONS = new Set(['thresholdMs', 'eventsFile', 'log', 'captureStack', 'maxFrames', 'captureTimeoutMs', 'profiler']);

/** Where a bad value came from, so the message names what the user actually wrote. */
type Source = { kind: 'option' } | { kind: 'env'; variables: Readonly<Record<string, string>> };

function fail(source: Source, option: keyof StartOptions, value: unknown, expected: string): never {
  if (source.kind === 'env') {
    const variable = ENV_NAMES[option] ?? option;
    throw new LoopwatchError(
      'ERR_LOOPWATCH_INVALID_ENV',
      `${variable} must be ${expected}, got ${JSON.stringify(source.variables[variable] ?? value)}`,
    );
  }
  throw new LoopwatchError('ERR_LOOPWATCH_INVALID_OPTION', `\`${option}\` must be ${expected}, got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return `a value of type ${typeof value}`;
}

function number(source: Source, option: keyof StartOptions, value: unknown, fallback: number, min: number, max: number, integer: boolean): number {
  if (value === undefined) return fallback;
  const expected = `${integer ? 'an integer' : 'a finite number'} from ${min} to ${max}${option.endsWith('Ms') ? ' (milliseconds)' : ''}`;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
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

function resolveWith(source: Source, input: StartOptions): ResolvedOptions {
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
  const profiler = input.profiler ?? false;
  if (typeof profiler !== 'boolean') fail(source, 'profiler', profiler, source.kind === 'env' ? '"on" or "off"' : 'true or false');
  return Object.freeze({
    thresholdMs: number(source, 'thresholdMs', input.thresholdMs, DEFAULT_THRESHOLD_MS, 1, 3_600_000, false),
    eventsFile: eventsFile(source, input.eventsFile),
    log,
    captureStack,
    maxFrames: number(source, 'maxFrames', input.maxFrames, DEFAULT_MAX_FRAMES, 1, 1000, true),
    captureTimeoutMs: number(source, 'captureTimeoutMs', input.captureTimeoutMs, DEFAULT_CAPTURE_TIMEOUT_MS, 10, 60_000, true),
    profiler,
  });
}

/** Validates `start()` options once, eagerly. Throws `LoopwatchError` (`ERR_LOOPWATCH_INVALID_OPTION`). */
export function resolveOptions(input: StartOptions | undefined): ResolvedOptions {
  if (input === undefined) return resolveWith({ kind: 'option' }, {});
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new LoopwatchError('ERR_LOOPWATCH_INVALID_OPTION', `options must be an object, got ${describe(input)}`);
  }
  return resolveWith({ kind: 'option' }, input);
}

/** The environment variables `loopwatch/register` reads, by option. */
export const ENV_NAMES: Partial<Record<keyof StartOptions, string>> = {
  thresholdMs: 'LOOPWATCH_THRESHOLD_MS',
  eventsFile: 'LOOPWATCH_EVENTS_FILE',
  log: 'LOOPWATCH_LOG',
  profiler: 'LOOPWATCH_PROFILER',
};

/**
 * Reads the options from the environment. An unset or empty variable means the default.
 * Throws `LoopwatchError` (`ERR_LOOPWATCH_INVALID_ENV`) naming the variable and the value.
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv): ResolvedOptions {
  const variables: Record<string, string> = {};
  const read = (name: string): string | undefined => {
    const value = env[name];
    if (value === undefined || value.trim() === '') return undefined;
    variables[name] = value;
    return value.trim();
  };
  const source: Source = { kind: 'env', variables };
  const threshold = read('LOOPWATCH_THRESHOLD_MS');
  // Number('') and Number(' ') are 0 and Number('0x10') is 16: accept plain decimals only.
  if (threshold !== undefined && !/^\d+(\.\d+)?$/.test(threshold)) {
    fail(source, 'thresholdMs', threshold, 'a number of milliseconds from 1 to 3600000');
  }
  const profiler = read('LOOPWATCH_PROFILER');
  const options: StartOptions = {
    thresholdMs: threshold === undefined ? undefined : Number(threshold),
    eventsFile: read('LOOPWATCH_EVENTS_FILE'),
    log: read('LOOPWATCH_LOG') as LogFormat | undefined,
    // Anything but on/off is passed through as is, so the check above names it.
    profiler: profiler === 'on' ? true : profiler === 'off' ? false : (profiler as unknown as boolean | undefined),
  };
  return resolveWith(source, options);
}
