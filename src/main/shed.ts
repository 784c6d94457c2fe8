/**
 * Load shedding fed by the worker's view of the loop: the worker keeps the p99 of the recent
 * lag in the shared buffer, so deciding costs the request one read of a float.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoopwatchError } from '../errors.js';
import type { LoadShedder, LoadShedderOptions } from '../types.js';
import { mustBe } from '../common/text.js';
import { isObject } from '../common/guards.js';

export function loadShedder(
  lagP99: () => number,
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
    const lag = lagP99();
    if (lag <= maxLagMs) {
      next?.();
      return false;
    }
    const body = `${JSON.stringify({ status: 'overloaded', lagP99Ms: Math.round(lag * 10) / 10, maxLagMs })}\n`;
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
