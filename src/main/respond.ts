/**
 * What `loopwatch/fastify` and `loopwatch/express` share: their options, validated once when
 * the plugin or middleware is set up, and the answer they send while the app is under pressure.
 * The decision itself is the monitor's (`isUnderPressure()`), so every shed point and `/readyz`
 * agree.
 */
import { STATUS_CODES } from 'node:http';
import { isObject } from '../common/guards.js';
import { NO_PRESSURE } from '../common/pressure.js';
import { messageOf, mustBe } from '../common/text.js';
import { LoopwatchError } from '../errors.js';
import type { Monitor, PressureState, ShedOptions } from '../types.js';
import { start } from './monitor.js';

export const DEFAULT_SHED_STATUS = 503;
export const DEFAULT_RETRY_AFTER_S = 1;
const SHED_OPTIONS = new Set(['monitor', 'statusCode', 'retryAfterS', 'headers', 'body', 'onPressure']);
/** Headers the answer sets itself; `headers` may override them. */
const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

export interface ShedAnswer {
  readonly status: number;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string;
}

export interface Shed {
  /** The monitor's decision now; never throws. */
  state(): PressureState;
  /** The answer to send for this decision; never throws (a throwing `body` function gives the default body). */
  answer(state: PressureState): ShedAnswer;
  /** Says once, as a process warning, that the app's `onPressure` failed. */
  warnOnce(error: unknown): void;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return typeof value === 'function' ? 'a function' : String(value);
}

function invalid(entry: string, name: string, expected: string, value: unknown): LoopwatchError {
  return new LoopwatchError(
    'ERR_LOOPWATCH_INVALID_OPTION',
    `${entry}: ${mustBe(`\`${name}\``, expected, describe(value))}`,
  );
}

/**
 * Validates the options (throws `ERR_LOOPWATCH_INVALID_OPTION` naming the entry point, the
 * option, the value and what is expected). `strict`: unknown keys are errors too (not for
 * Fastify, whose `register` passes its own options, such as `prefix`, along).
 */
export function resolveShed(options: ShedOptions | undefined, entry: string, strict: boolean): Shed {
  if (options !== undefined && (!isObject(options) || Array.isArray(options)))
    throw invalid(entry, 'options', 'an object', options);
  const input: ShedOptions = options ?? {};
  if (strict) {
    for (const key of Object.keys(input)) {
      if (!SHED_OPTIONS.has(key)) {
        throw new LoopwatchError(
          'ERR_LOOPWATCH_INVALID_OPTION',
          `${entry}: unknown option \`${key}\`; known options are ${[...SHED_OPTIONS].join(', ')}`,
        );
      }
    }
  }
  const status = input.statusCode ?? DEFAULT_SHED_STATUS;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 400 || status > 599)
    throw invalid(entry, 'statusCode', 'an integer from 400 to 599', status);
  const retryAfterS = input.retryAfterS ?? DEFAULT_RETRY_AFTER_S;
  if (typeof retryAfterS !== 'number' || !Number.isInteger(retryAfterS) || retryAfterS < 0 || retryAfterS > 86_400)
    throw invalid(entry, 'retryAfterS', 'an integer from 0 to 86400 (seconds)', retryAfterS);
  const extra = input.headers ?? {};
  if (!isObject(extra) || Array.isArray(extra))
    throw invalid(entry, 'headers', 'an object of header names to strings', extra);
  const headers: Record<string, string> = { 'retry-after': String(retryAfterS), 'cache-control': 'no-store' };
  for (const [name, value] of Object.entries(extra)) {
    if (typeof value !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
      throw invalid(entry, `headers.${name}`, 'a string, under a valid header name', value);
    headers[name.toLowerCase()] = value;
  }
  const body = input.body;
  if (body !== undefined && typeof body !== 'string' && typeof body !== 'function' && !isObject(body))
    throw invalid(entry, 'body', 'a string, an object (sent as JSON) or a function of the pressure state', body);
  const onPressure = (input as { onPressure?: unknown }).onPressure;
  if (onPressure !== undefined && typeof onPressure !== 'function')
    throw invalid(entry, 'onPressure', 'a function', onPressure);
  const monitor = input.monitor ?? start();
  if (!isObject(monitor) || typeof (monitor as Partial<Monitor>).isUnderPressure !== 'function')
    throw invalid(entry, 'monitor', "loopwatch's monitor (the value start() returns)", monitor);

  const error = STATUS_CODES[status] ?? 'Service Unavailable';
  const fallback = { statusCode: status, code: 'LOOPWATCH_UNDER_PRESSURE', error, message: error };
  const render = (content: unknown): ShedAnswer => {
    const text = typeof content === 'string' ? content : JSON.stringify(content);
    const type = typeof content === 'string' ? TEXT : JSON_TYPE;
    return { status, headers: { 'content-type': type, ...headers }, text };
  };
  const preset = typeof body === 'function' ? undefined : render(body ?? fallback);
  let warned = false;
  return {
    state: () => {
      try {
        return monitor.isUnderPressure();
      } catch {
        // Fail open: a shedder must never take the app down.
        return NO_PRESSURE;
      }
    },
    answer: (state) => {
      if (preset !== undefined) return preset;
      try {
        const content: unknown = (body as (state: PressureState) => unknown)(state);
        if (typeof content === 'string' || isObject(content)) return render(content);
      } catch {
        // the default body below
      }
      return render(fallback);
    },
    warnOnce: (thrown) => {
      if (warned) return;
      warned = true;
      try {
        process.emitWarning(`${entry}: onPressure failed: ${messageOf(thrown)}; the default answer was sent`, {
          type: 'LoopwatchWarning',
          code: 'LOOPWATCH_ON_PRESSURE',
        });
      } catch {
        // A warning must never become the app's problem.
      }
    },
  };
}

/**
 * Runs the app's `onPressure` hook: then `after` once it returned (or its promise resolved),
 * `failed` if it threw or rejected. The Fastify plugin and the Express middleware share it, so
 * a hook behaves the same in both.
 */
export function runHook(hook: () => unknown, after: () => void, failed: (error: unknown) => void): void {
  let result: unknown;
  try {
    result = hook();
  } catch (error) {
    failed(error);
    return;
  }
  if (typeof (result as { then?: unknown } | null | undefined)?.then === 'function')
    Promise.resolve(result).then(after, failed);
  else after();
}
