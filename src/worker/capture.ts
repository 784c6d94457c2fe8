/**
 * Captures the main thread's JavaScript stack from the worker without a native addon and
 * without the Debugger domain: `Runtime.evaluate` through an inspector session connected to
 * the main thread (`connectToMainThread()` opens no port). V8 serves the evaluation through an
 * interrupt, on top of whatever the blocked thread is running, so `Error.captureStackTrace`
 * inside it sees the blocked frames. Nothing stays paused or enabled afterwards; the globals
 * the expression touches (`Error.stackTraceLimit`, `Error.prepareStackTrace`) are restored
 * in a `finally`.
 */
import type { Session } from 'node:inspector';
import { nowMs } from '../protocol/shared.js';

/** A frame as V8's CallSite describes it, before source mapping. */
export interface RawFrame {
  readonly function: string;
  /** Script name or URL; undefined for builtins such as `JSON.parse`. */
  readonly file: string | undefined;
  readonly line: number;
  readonly column: number;
  readonly async: boolean;
}

export interface CaptureResult {
  readonly frames: readonly RawFrame[];
  /** More frames existed than were kept. */
  readonly truncated: boolean;
  /** Epoch ms at which the main thread ran the capture. */
  readonly servedAt: number;
}

/** The expression evaluated on the main thread. Built once; `limit` bounds its cost. */
export function captureExpression(limit: number): string {
  // Frames come back as arrays (cheaper to serialise than objects). The named function is
  // passed to captureStackTrace so the capture's own frame is left out; the first site left
  // is the evaluated script itself (i = 1 skips it). One site beyond the limit tells
  // whether the stack was truncated.
  return `(function loopwatchCapture() {
  var E = Error, limit = E.stackTraceLimit, prepare = E.prepareStackTrace, holder = {};
  try {
    E.stackTraceLimit = ${limit + 2};
    E.prepareStackTrace = function (_, sites) {
      var out = [];
      for (var i = 1; i < sites.length; i++) {
        var s = sites[i];
        out.push([s.getFunctionName(), s.getTypeName(), s.getMethodName(), s.getScriptNameOrSourceURL() || s.getFileName(),
          s.getLineNumber(), s.getColumnNumber(), s.isAsync ? s.isAsync() : false, s.isConstructor(), s.isEval() ? s.getEvalOrigin() : null, s.isToplevel()]);
      }
      return out;
    };
    E.captureStackTrace(holder, loopwatchCapture);
    return { t: performance.timeOrigin + performance.now(), f: holder.stack };
  } finally {
    E.stackTraceLimit = limit;
    E.prepareStackTrace = prepare;
  }
})()`;
}

type WireFrame = [string | null, string | null, string | null, string | null | undefined, number | null, number | null, boolean, boolean, string | null, boolean];

export function decodeFrames(wire: unknown, limit: number): { frames: RawFrame[]; truncated: boolean } {
  if (!Array.isArray(wire)) return { frames: [], truncated: false };
  const frames: RawFrame[] = [];
  for (const item of (wire as WireFrame[]).slice(0, limit)) {
    const [fn, type, method, file, line, column, isAsync, isConstructor, evalOrigin, topLevel] = item;
    frames.push({
      function: functionName(fn, type, method, isConstructor, topLevel, file === null || file === undefined),
      file: file ?? (evalOrigin === null ? undefined : `eval at ${evalOrigin}`),
      line: line ?? 0,
      column: column ?? 0,
      async: isAsync,
    });
  }
  return { frames, truncated: wire.length > limit };
}

/**
 * Names a frame: the function's own name when it has one (`waitForLock`, not V8's
 * `Timeout.waitForLock [as _onTimeout]`), otherwise the receiver's type and the method
 * (`Server.<anonymous>`, `Timeout._onTimeout`), `new X` for constructors, `JSON.parse` for
 * builtins.
 */
function functionName(fn: string | null, type: string | null, method: string | null, isConstructor: boolean, topLevel: boolean, builtin: boolean): string {
  if (isConstructor) return `new ${fn ?? '<anonymous>'}`;
  if (fn !== null && fn !== '') return builtin && type !== null && !topLevel ? `${type}.${fn}` : fn;
  if (topLevel || type === null) return method ?? '<anonymous>';
  return `${type}.${method ?? '<anonymous>'}`;
}

export class StackCapturer {
  readonly available: boolean;
  readonly reason: string | undefined;
  readonly #session: Session | undefined;
  readonly #expression: string;
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
    this.#expression = captureExpression(limit);
    let session: Session | undefined;
    let reason: string | undefined;
    try {
      // Loaded lazily: a Node built without the inspector still gets detection, without stacks.
      const inspector = require('node:inspector') as typeof import('node:inspector');
      session = new inspector.Session();
      session.connectToMainThread();
    } catch (error) {
      session = undefined;
      reason = `the inspector is not available here: ${error instanceof Error ? error.message : String(error)}`;
    }
    this.#session = session;
    this.available = session !== undefined;
    this.reason = reason;
  }

  /**
   * Asks the main thread for its stack. Resolves with the frames, or `undefined` if the
   * session failed. The caller bounds the wait: the answer only comes once the main thread
   * serves the interrupt, which a long native call delays until it returns.
   */
  capture(): Promise<CaptureResult | undefined> {
    const session = this.#session;
    if (session === undefined) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      try {
        session.post(
          'Runtime.evaluate',
          { expression: this.#expression, returnByValue: true, silent: true, includeCommandLineAPI: false, generatePreview: false },
          (error, result) => {
            if (error !== null || result.exceptionDetails !== undefined) {
              resolve(undefined);
              return;
            }
            const value = result.result.value as { t?: unknown; f?: unknown } | undefined;
            const { frames, truncated } = decodeFrames(value?.f, this.#limit);
            resolve({ frames, truncated, servedAt: typeof value?.t === 'number' ? value.t : nowMs() });
          },
        );
      } catch {
        resolve(undefined);
      }
    });
  }

  close(): void {
    try {
      this.#session?.disconnect();
    } catch {
      // already gone
    }
  }
}
