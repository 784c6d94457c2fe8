/**
 * `monitor.loadShedder()`: load shedding fed by the monitor's view of the loop (see
 * main/pressure.ts), so deciding costs the request a few reads of the shared buffer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoopwatchError } from '../errors.js';
import type { LoadShedder, LoadShedderOptions, PressureState } from '../types.js';
import { mustBe } from '../common/text.js';
import { isObject } from '../common/guards.js';

/** @param pressure the monitor's decision with this shedder's lag limit. */
export function loadShedder(
  pressure: (maxLagMs: number) => PressureState,
  defaultMaxLagMs: number,
  options: LoadShedderOptions | undefined,
): LoadShedder {
  if (options !== undefined && !isObject(options)) {
    throw new LoopwatchError('ERR_LOOPWATCH_INVALID_OPTION', 'loadShedder options must be an object');
  }
  const maxLagMs = options?.maxLagMs ?? defaultMaxLagMs;
  if (typeof maxLagMs !== 'number' || !Number.isFinite(maxLagMs) || maxLagMs <= 0) {
    throw new LoopwatchError(
      'ERR_LOOPWATCH_INVALID_OPTION',
      mustBe('`maxLagMs`', 'a positive number of milliseconds', String(maxLagMs)),
    );
  }
  const retryAfterS = options?.retryAfterS ?? 1;
  if (typeof retryAfterS !== 'number' || !Number.isInteger(retryAfterS) || retryAfterS < 0 || retryAfterS > 86_400) {
    throw new LoopwatchError(
      'ERR_LOOPWATCH_INVALID_OPTION',
      mustBe('`retryAfterS`', 'an integer from 0 to 86400', String(retryAfterS)),
    );
  }
  const retryAfter = String(retryAfterS);
  return (request: IncomingMessage, response: ServerResponse, next?: (error?: unknown) => void): boolean => {
    const state = pressure(maxLagMs);
    if (!state.underPressure) {
      next?.();
      return false;
    }
    const lag = state.reasons.find((reason) => reason.limit === 'maxLagMs');
    const body = `${JSON.stringify({ status: 'overloaded', lagMs: lag?.value ?? 0, maxLagMs, reasons: state.reasons })}\n`;
    response.writeHead(503, {
      'content-type': 'application/json',
      'retry-after': retryAfter,
      'cache-control': 'no-store',
      'content-length': Buffer.byteLength(body),
    });
    response.end(request.method === 'HEAD' ? undefined : body);
    return true;
  };
}
