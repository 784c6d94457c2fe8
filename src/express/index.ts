/**
 * `loopwatch/express`: Express or Connect middleware (any `(req, res, next)` stack on
 * `node:http`) that answers 503 with `Retry-After` while the app is under pressure, decided by
 * the monitor worker's view of the loop (right on the first request after a block) and with the
 * limits of `start({ pressure })`.
 * @example
 *   const express = require('express');
 *   const app = express();
 *   app.use(require('loopwatch/express').expressLoopwatch());
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolveShed, runHook, type ShedAnswer } from '../main/respond.js';
import type { PressureState, ShedOptions } from '../types.js';

export interface LoopwatchExpressOptions extends ShedOptions {
  /**
   * Called instead of the 503 while under pressure, with the reasons. When it has answered
   * (or its promise resolves after answering), that is the answer; when it has not, `next()` is
   * called and the request goes on. A throw or a rejection sends the 503 and is reported once as
   * a process warning.
   */
  readonly onPressure?: ((req: IncomingMessage, res: ServerResponse, state: PressureState) => unknown) | undefined;
}

/** Express / Connect middleware; the `req` and `res` of both are `node:http`'s, extended. */
export type LoopwatchMiddleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

const ENTRY = 'loopwatch/express';

function send(req: IncomingMessage, res: ServerResponse, answer: ShedAnswer): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(answer.status, { ...answer.headers, 'content-length': String(Buffer.byteLength(answer.text)) });
  res.end(req.method === 'HEAD' ? undefined : answer.text);
}

/** Validates the options now (throws `ERR_LOOPWATCH_INVALID_OPTION`) and returns the middleware. */
export function expressLoopwatch(options?: LoopwatchExpressOptions): LoopwatchMiddleware {
  const shed = resolveShed(options, ENTRY, true);
  const onPressure = options?.onPressure;
  const answered = (res: ServerResponse): boolean => res.headersSent || res.writableEnded;
  return (req, res, next) => {
    const state = shed.state();
    if (!state.underPressure) {
      next();
      return;
    }
    if (onPressure === undefined) {
      send(req, res, shed.answer(state));
      return;
    }
    const failed = (error: unknown): void => {
      shed.warnOnce(error);
      if (!answered(res)) send(req, res, shed.answer(state));
    };
    const after = (): void => {
      if (!answered(res)) next();
    };
    runHook(() => onPressure(req, res, state), after, failed);
  };
}

export default expressLoopwatch;
export type { PressureReason, PressureState, ShedOptions } from '../types.js';
