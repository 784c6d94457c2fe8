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
import { debuglog } from 'node:util';
import { evaluateParams } from '../common/evaluate.js';
import { CONTEXT_HOOK, nowMs, type WorkerInit } from '../protocol/shared.js';
import type { BlockContext } from '../types.js';

/** A frame as V8's CallSite describes it, before source mapping. */
export interface RawFrame {
  readonly function: string;
  /** Script name or URL; undefined for builtins such as `JSON.parse`. */
  readonly file: string | undefined;
  readonly line: number;
  readonly column: number;
  readonly async: boolean;
  /** Frames left out between the previous frame and this one (see StackFrame.skipped). */
  readonly skipped?: number;
  /**
   * 0-based offset of the position in the script's source as V8 ran it (`CallSite.getPosition()`):
   * compared with the file on disk, it tells whether the code that ran is that file.
   */
  readonly position?: number;
}

export interface CaptureResult {
  readonly frames: readonly RawFrame[];
  /** More frames existed than were kept. */
  readonly truncated: boolean;
  /** The request context of the blocked code (active span, tracked AsyncLocalStorage stores). */
  readonly context: BlockContext | undefined;
  /** Epoch ms at which the main thread ran the capture. */
  readonly servedAt: number;
  /**
   * Epoch ms at which the request left for the thread, when later than it was asked for (a
   * worker thread's capture first connects and finds the thread): lateness counts from here.
   */
  readonly sentAt?: number | undefined;
  /**
   * Why the answer holds no usable stack at all (neither CallSites nor a stack string): then
   * an empty `frames` says nothing about the thread being idle.
   */
  readonly unusable?: string | undefined;
  /**
   * The frames came from V8's default stack string because `Error.prepareStackTrace` and
   * `Error.stackTraceLimit` could not be set (`--frozen-intrinsics`): at most this many frames.
   */
  readonly cutAt?: number | undefined;
}

/**
 * How far out a capture looks for the app's own frame when the innermost `maxFrames` are all
 * a library's: V8 walks at most this many frames, by file name only past `maxFrames`.
 */
export const DEEP_SCAN_FRAMES = 1024;

/** The expression evaluated on the main thread. Built once; `limit` bounds its cost. */
export function captureExpression(limit: number): string {
  // Frames come back as arrays (cheaper to serialise than objects). The named function is
  // passed to captureStackTrace so the capture's own frame is left out; the first site left
  // is the evaluated script itself (i = 1 skips it). One site beyond the limit tells
  // whether the stack was truncated.
  // The context is read in the blocked code's own async context (the interrupt runs on top of
  // it): OpenTelemetry's active span through the api's global registry, and the stores the app
  // registered with trackContext() through loopwatch's hook. Either may be absent; neither may
  // break the capture.
  return `(function loopwatchCapture() {
  function context() {
    var c;
    try {
      var otel = globalThis[Symbol.for('opentelemetry.js.api.1')];
      var active = otel && otel.context && typeof otel.context.active === 'function' ? otel.context.active() : undefined;
      var span = active && typeof active.getValue === 'function' ? active.getValue(Symbol.for('OpenTelemetry Context Key SPAN')) : undefined;
      if (span && typeof span.spanContext === 'function') {
        var sc = span.spanContext() || {}, a = span.attributes || {};
        c = { s: [sc.traceId, sc.spanId, sc.traceFlags, span.name, a['http.route'], a['http.request.method'] || a['http.method'], a['url.path'] || a['http.target']] };
      }
    } catch (e) {}
    try {
      var hook = globalThis[Symbol.for('${CONTEXT_HOOK}')];
      if (typeof hook === 'function') {
        var u = hook();
        if (u) { c = c || {}; c.u = u.attributes; c.e = u.error; }
      }
    } catch (e) {}
    return c;
  }
  // The app's own code: not Node's, not a package's. When the kept frames hold none (a deep
  // recursion inside a library, lodash's cloneDeep), a second capture scans further out, by
  // file name only, for the first that is, which comes back with how many frames were skipped.
  // Only then: an ordinary stack, deep or not, costs what it did.
  function own(f) {
    return typeof f === 'string' && f !== '' && f.indexOf('node:') !== 0 && f.indexOf('/node_modules/') < 0 && f.indexOf('\\\\node_modules\\\\') < 0;
  }
  function row(s) {
    return [s.getFunctionName(), s.getTypeName(), s.getMethodName(), s.getScriptNameOrSourceURL() || s.getFileName(),
      s.getLineNumber(), s.getColumnNumber(), s.isAsync ? s.isAsync() : false, s.isConstructor(), s.isEval() ? s.getEvalOrigin() : null, s.isToplevel(),
      s.getPosition ? s.getPosition() : null];
  }
  var E = Error, limit = E.stackTraceLimit, prepare = E.prepareStackTrace, holder = {}, app = false;
  try {
    E.stackTraceLimit = ${limit + 2};
    E.prepareStackTrace = function (_, sites) {
      var out = [];
      for (var i = 1; i < sites.length; i++) {
        var r = row(sites[i]);
        out.push(r);
        if (i <= ${limit} && own(r[3])) app = true;
      }
      return out;
    };
    E.captureStackTrace(holder, loopwatchCapture);
    var f = holder.stack;
    if (!app && Array.isArray(f) && f.length > ${limit}) {
      E.stackTraceLimit = ${DEEP_SCAN_FRAMES};
      E.prepareStackTrace = function (_, sites) {
        for (var j = ${limit + 1}; j < sites.length; j++) {
          if (own(sites[j].getScriptNameOrSourceURL() || sites[j].getFileName())) {
            var deep = row(sites[j]);
            deep.push(j - ${limit + 1});
            return [deep];
          }
        }
        return [];
      };
      var further = {};
      E.captureStackTrace(further, loopwatchCapture);
      if (Array.isArray(further.stack)) f = f.concat(further.stack);
    }
    // Frozen intrinsics (--frozen-intrinsics) ignore both assignments: the stack is then V8's
    // default string, at most the unchanged limit long; the worker parses it.
    return { t: performance.timeOrigin + performance.now(), f: f, l: E.stackTraceLimit, c: context() };
  } finally {
    E.stackTraceLimit = limit;
    E.prepareStackTrace = prepare;
  }
})()`;
}

/** The name of the one script a debugger client attached to the app sees per captured block. */
export const CAPTURE_SCRIPT = 'loopwatch-capture.js';

/** A generated position to map on the watched thread: file, 1-based line and column. */
export type RemapRequest = readonly [file: string, line: number, column: number];
/** What the watched thread's own source maps say of it: file, 1-based line and column; null if nothing. */
export type RemapAnswer = readonly [file: string, line: number, column: number] | null;

/**
 * The expression that maps positions of code transformed in memory (vitest's module runner,
 * tsx, ts-node…) on the watched thread, where the maps are: through Node's source-map cache
 * (`module.findSourceMap`, filled when source maps are enabled, as tsx does) or else through
 * the stack-trace hook the tool installed as `Error.prepareStackTrace` (vitest, ts-node,
 * source-map-support), handed objects with the CallSite methods it reads. Only asked for
 * frames whose code differs from the file on disk, so an app that runs its files as they are
 * never pays for it. Any failure leaves the frame unmapped (null).
 */
export function remapExpression(requests: readonly RemapRequest[]): string {
  return `(function loopwatchRemap(requests) {
  var find;
  try {
    var mod = process.sourceMapsEnabled && typeof process.getBuiltinModule === 'function' ? process.getBuiltinModule('node:module') : undefined;
    find = mod && typeof mod.findSourceMap === 'function' ? mod.findSourceMap : undefined;
  } catch (e) {}
  var hook = Error.prepareStackTrace;
  // The methods sit on a prototype, as on a real CallSite: hooks copy them from there (vite's does).
  var f = function () { return null; }, no = function () { return false; };
  var proto = { getFileName: function () { return this.r[0]; }, getScriptNameOrSourceURL: function () { return this.r[0]; },
    getLineNumber: function () { return this.r[1]; }, getColumnNumber: function () { return this.r[2]; },
    getFunctionName: f, getTypeName: f, getMethodName: f, getThis: f, getFunction: f, getEvalOrigin: f,
    getPosition: function () { return 0; }, getPromiseIndex: f, getScriptHash: function () { return ''; },
    getEnclosingLineNumber: f, getEnclosingColumnNumber: f, isNative: no, isEval: no,
    isToplevel: function () { return true; }, isConstructor: no, isAsync: no, isPromiseAll: no,
    toString: function () { return this.r[0] + ':' + this.r[1] + ':' + this.r[2]; } };
  function site(r) {
    var s = Object.create(proto);
    s.r = r;
    return s;
  }
  var out = [];
  for (var i = 0; i < requests.length; i++) {
    var r = requests[i], answer = null;
    try {
      var map = find ? find(r[0]) : undefined;
      var entry = map ? map.findEntry(r[1] - 1, r[2] - 1) : undefined;
      if (entry && typeof entry.originalSource === 'string' && typeof entry.originalLine === 'number') {
        answer = [entry.originalSource, entry.originalLine + 1, entry.originalColumn + 1];
      }
    } catch (e) {}
    if (answer === null && typeof hook === 'function') {
      try {
        var printed = hook(new Error(''), [site(r)]);
        var line = typeof printed === 'string' ? printed.split('\\n').filter(function (l) { return /^\\s*at /.test(l); })[0] : undefined;
        var m = line ? /\\(?((?:file:\\/\\/)?[^()]+):(\\d+):(\\d+)\\)?\\s*$/.exec(line.trim().replace(/^at\\s+/, '')) : null;
        // A hook that knows no map for the file prints the position it was given.
        if (m && !(m[1] === r[0] && Number(m[2]) === r[1] && Number(m[3]) === r[2])) answer = [m[1], Number(m[2]), Number(m[3])];
      } catch (e) {}
    }
    out.push(answer);
  }
  return out;
})(${JSON.stringify(requests)})
//# sourceURL=loopwatch-remap.js`;
}

/** The remap expression's value, checked (it comes from app-controlled code). */
export function decodeRemap(wire: unknown, count: number): RemapAnswer[] {
  const answers: RemapAnswer[] = [];
  for (let i = 0; i < count; i++) {
    const item: unknown = Array.isArray(wire) ? (wire as unknown[])[i] : undefined;
    const [file, line, column] = Array.isArray(item) ? (item as unknown[]) : [];
    const valid =
      typeof file === 'string' &&
      file !== '' &&
      Number.isInteger(line) &&
      (line as number) >= 1 &&
      Number.isInteger(column) &&
      (column as number) >= 1;
    answers.push(valid ? [file, line as number, column as number] : null);
  }
  return answers;
}

/**
 * The expression as sent: the one script a debugger client attached to the app sees per
 * captured block has a name that says whose it is.
 */
function captureScript(limit: number): string {
  return `${captureExpression(limit)}\n//# sourceURL=${CAPTURE_SCRIPT}`;
}

/** The capture expression as sent to any watched thread (see captureScript). */
export const captureScriptFor = captureScript;

/**
 * The start-up self-check's capture: the same expression called from a function, so that a
 * capture that works returns the script's own frame (named CAPTURE_SCRIPT) on top of whatever
 * the thread was running.
 */
function selfCheckScript(limit: number): string {
  return `(function loopwatchSelfCheck() { return ${captureExpression(limit)}; })()\n//# sourceURL=${CAPTURE_SCRIPT}`;
}

const MAX_ATTRIBUTES = 16;
const MAX_KEY = 64;
const MAX_VALUE = 256;

function boundedValue(value: unknown): string | number | boolean | undefined {
  if (typeof value === 'string') return value.slice(0, MAX_VALUE);
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') return value;
  return undefined;
}

/**
 * The context as it came over the wire, checked again here (the main thread's side is app code
 * and other libraries): ids in W3C form, at most 16 attributes of strings (≤ 256 characters),
 * numbers or booleans.
 */
export function decodeContext(wire: unknown): BlockContext | undefined {
  if (wire === null || typeof wire !== 'object') return undefined;
  const { s, u, e } = wire as { s?: unknown; u?: unknown; e?: unknown };
  const attributes: Record<string, string | number | boolean> = {};
  let count = 0;
  const put = (key: string, value: unknown): void => {
    const bounded = boundedValue(value);
    if (
      bounded === undefined ||
      count >= MAX_ATTRIBUTES ||
      key.length === 0 ||
      key.length > MAX_KEY ||
      key in attributes
    )
      return;
    attributes[key] = bounded;
    count++;
  };
  let span: { traceId?: string; spanId?: string; traceFlags?: number; spanName?: string } = {};
  if (Array.isArray(s)) {
    const [traceId, spanId, traceFlags, name, route, method, path] = s as unknown[];
    if (
      typeof traceId === 'string' &&
      /^[0-9a-f]{32}$/.test(traceId) &&
      !/^0+$/.test(traceId) &&
      typeof spanId === 'string' &&
      /^[0-9a-f]{16}$/.test(spanId) &&
      !/^0+$/.test(spanId)
    ) {
      span = {
        traceId,
        spanId,
        ...(typeof traceFlags === 'number' ? { traceFlags } : {}),
        ...(typeof name === 'string' ? { spanName: name.slice(0, MAX_VALUE) } : {}),
      };
      put('http.route', route);
      put('http.request.method', method);
      put('url.path', path);
    }
  }
  if (u !== null && typeof u === 'object')
    for (const [key, value] of Object.entries(u as Record<string, unknown>)) put(key, value);
  const error = typeof e === 'string' ? e.slice(0, MAX_VALUE) : undefined;
  if (span.traceId === undefined && count === 0 && error === undefined) return undefined;
  return { ...span, ...(count > 0 ? { attributes } : {}), ...(error === undefined ? {} : { error }) };
}

type WireFrame = [
  string | null,
  string | null,
  string | null,
  string | null | undefined,
  number | null,
  number | null,
  boolean,
  boolean,
  string | null,
  boolean,
  number | null | undefined,
  (number | undefined)?,
];

export function decodeFrames(wire: unknown, limit: number): { frames: RawFrame[]; truncated: boolean } {
  if (!Array.isArray(wire)) return { frames: [], truncated: false };
  const rows = wire as WireFrame[];
  // A 12th element marks the app's frame found beyond the kept ones: how many were skipped.
  const isDeep = (item: WireFrame): boolean => typeof item[11] === 'number';
  const kept = rows.filter((item) => !isDeep(item));
  const deep = rows.find(isDeep);
  const frames = kept.slice(0, limit).map((item) => decodeFrame(item));
  // Counted from the last frame kept here (site `limit`) to the app's (site j): j - limit - 1.
  if (deep !== undefined && kept.length > limit)
    frames.push({ ...decodeFrame(deep), skipped: Math.max(0, Math.round(deep[11] ?? 0)) });
  return { frames, truncated: kept.length > limit };
}

function decodeFrame(item: WireFrame): RawFrame {
  const [fn, type, method, file, line, column, isAsync, isConstructor, evalOrigin, topLevel, position] = item;
  return {
    function: functionName(fn, type, method, isConstructor, topLevel, file === null || file === undefined),
    file: file ?? (evalOrigin === null ? undefined : `eval at ${evalOrigin}`),
    line: line ?? 0,
    column: column ?? 0,
    async: isAsync,
    ...(typeof position === 'number' && position >= 0 ? { position } : {}),
  };
}

/**
 * Names a frame: the function's own name when it has one (`waitForLock`, not V8's
 * `Timeout.waitForLock [as _onTimeout]`), otherwise the receiver's type and the method
 * (`Server.<anonymous>`, `Timeout._onTimeout`), `new X` for constructors, `JSON.parse` for
 * builtins.
 */
function functionName(
  fn: string | null,
  type: string | null,
  method: string | null,
  isConstructor: boolean,
  topLevel: boolean,
  builtin: boolean,
): string {
  if (isConstructor) return `new ${fn ?? '<anonymous>'}`;
  if (fn !== null && fn !== '') return builtin && type !== null && !topLevel ? `${type}.${fn}` : fn;
  if (topLevel || type === null) return method ?? '<anonymous>';
  return `${type}.${method ?? '<anonymous>'}`;
}

const NOT_PAUSED = /only perform operation while paused/i;
const PAUSED = /invalid call frame id|could not find call frame/i;

/**
 * What the pause probe found. `unknown`: V8's wording changed; the probe is then unusable.
 * `closed`: the session was closed under the probe (the monitor detaching at exit): the thread
 * did not say what it was doing.
 */
export type PauseState = 'paused' | 'running' | 'no-answer' | 'closed' | 'unknown';

/** node:inspector's errors for a session closed under a command, or never connected. */
const SESSION_GONE = new Set(['ERR_INSPECTOR_CLOSED', 'ERR_INSPECTOR_NOT_CONNECTED']);
const debug = debuglog('loopwatch');

/**
 * An inspector session to the main thread, connected only while a block is handled: a
 * session left connected makes `process.exit()` print "Waiting for the debugger to
 * disconnect...", and the app's own debugger client would see our scripts.
 */
export class MainThreadInspector implements StackSource {
  readonly available: boolean;
  readonly reason: string | undefined;
  readonly #Session: typeof import('node:inspector').Session | undefined;
  readonly #expression: string;
  readonly #limit: number;
  #session: Session | undefined;

  constructor(limit: number) {
    this.#limit = limit;
    this.#expression = captureScript(limit);
    let reason: string | undefined;
    let SessionClass: typeof import('node:inspector').Session | undefined;
    try {
      // Loaded lazily: a Node built without the inspector still gets detection, without stacks.
      SessionClass = (require('node:inspector') as typeof import('node:inspector')).Session;
      const probe = new SessionClass();
      probe.connectToMainThread();
      probe.disconnect();
    } catch (error) {
      SessionClass = undefined;
      reason = `the inspector is not available here: ${error instanceof Error ? error.message : String(error)}`;
    }
    this.#Session = SessionClass;
    this.available = SessionClass !== undefined;
    this.reason = reason;
  }

  /** Connects (cheap, works while the main thread is blocked). False if it cannot. */
  open(): boolean {
    if (this.#session !== undefined) return true;
    if (this.#Session === undefined) return false;
    try {
      const session = new this.#Session();
      session.connectToMainThread();
      this.#session = session;
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    const session = this.#session;
    this.#session = undefined;
    try {
      session?.disconnect();
    } catch {
      // already gone
    }
  }

  #post(method: string, params: object): Promise<{ error: Error | null; result: unknown }> {
    const session = this.#session;
    if (session === undefined) return Promise.resolve({ error: new Error('not connected'), result: undefined });
    return new Promise((resolve) => {
      try {
        session.post(method, params, (error: Error | null, result: unknown) => resolve({ error, result }));
      } catch (error) {
        resolve({ error: error instanceof Error ? error : new Error(String(error)), result: undefined });
      }
    });
  }

  /**
   * Is the main thread paused by a debugger (a breakpoint, a `debugger;` statement, a client's
   * pause)? Asks V8 to evaluate on a call frame that does not exist, without enabling the
   * Debugger domain: the error says "only while paused" when running, "invalid call frame"
   * when paused. It compiles nothing and a debugger client sees nothing of it. A thread inside
   * a long native call answers only when the call returns: the caller bounds the wait.
   */
  async pauseState(): Promise<PauseState> {
    const { error } = await this.#post('Debugger.evaluateOnCallFrame', {
      callFrameId: 'loopwatch-probe',
      expression: '0',
    });
    const message = error?.message ?? '';
    if (NOT_PAUSED.test(message)) return 'running';
    if (PAUSED.test(message)) return 'paused';
    if (SESSION_GONE.has((error as { code?: unknown } | null)?.code as string)) return 'closed';
    debug('pause probe: unrecognised answer %s', error === null ? '(no error)' : message);
    return 'unknown';
  }

  /**
   * One capture through a session of its own (a block's session is left alone), for the
   * start-up self-check: see selfcheck.ts. Undefined when it fails or does not answer in time.
   */
  async selfCheck(timeoutMs: number): Promise<CaptureResult | undefined> {
    if (this.#Session === undefined) return undefined;
    let session: Session | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      const opened = new this.#Session();
      opened.connectToMainThread();
      session = opened;
      const value = await new Promise<unknown>((resolve) => {
        timer = setTimeout(() => resolve(undefined), timeoutMs);
        const params = {
          expression: selfCheckScript(this.#limit),
          returnByValue: true,
          silent: true,
          includeCommandLineAPI: false,
          generatePreview: false,
          disableBreaks: true,
        };
        opened.post('Runtime.evaluate', params, (error: Error | null, result: unknown) => {
          const evaluated = result as { result?: { value?: unknown }; exceptionDetails?: unknown } | undefined;
          resolve(
            error !== null || evaluated === undefined || evaluated.exceptionDetails !== undefined
              ? undefined
              : (evaluated.result?.value ?? null),
          );
        });
      });
      return value === undefined ? undefined : decodeCapture(value, this.#limit);
    } catch {
      return undefined;
    } finally {
      clearTimeout(timer);
      try {
        session?.disconnect();
      } catch {
        // already gone
      }
    }
  }

  /**
   * Asks the main thread for its stack. Resolves with the frames, or `undefined` if the
   * session failed. The caller bounds the wait: the answer only comes once the main thread
   * serves the interrupt, which a long native call delays until it returns.
   */
  async capture(): Promise<CaptureResult | undefined> {
    const evaluated = await this.#evaluate(this.#expression);
    return evaluated.ok ? decodeCapture(evaluated.value, this.#limit) : undefined;
  }

  async remap(requests: readonly RemapRequest[]): Promise<RemapAnswer[] | undefined> {
    const evaluated = await this.#evaluate(remapExpression(requests));
    return evaluated.ok ? decodeRemap(evaluated.value, requests.length) : undefined;
  }

  async #evaluate(expression: string): Promise<{ ok: true; value: unknown } | { ok: false }> {
    const { error, result } = await this.#post('Runtime.evaluate', evaluateParams(expression));
    const evaluated = result as { result?: { value?: unknown }; exceptionDetails?: unknown } | undefined;
    if (error !== null || evaluated === undefined || evaluated.exceptionDetails !== undefined) return { ok: false };
    return { ok: true, value: evaluated.result?.value };
  }
}

/** The capture expression's value, checked (it comes from app-controlled code). */
export function decodeCapture(wire: unknown, limit: number): CaptureResult {
  const value = wire as { t?: unknown; f?: unknown; l?: unknown; c?: unknown } | undefined;
  const servedAt = typeof value?.t === 'number' ? value.t : nowMs();
  const context = decodeContext(value?.c);
  if (typeof value?.f === 'string') {
    const { frames, truncated, cutAt } = parseStackString(
      value.f,
      limit,
      typeof value.l === 'number' ? value.l : undefined,
    );
    return { frames, truncated, servedAt, context, cutAt };
  }
  if (!Array.isArray(value?.f)) {
    const unusable = `the stack capture got no stack from V8 (Error.prepareStackTrace made unwritable by the app?, got ${value?.f === null ? 'null' : typeof value?.f})`;
    return { frames: [], truncated: false, servedAt, context, unusable };
  }
  const { frames, truncated } = decodeFrames(value.f, limit);
  return { frames, truncated, servedAt, context };
}

/** One line of V8's stack string: `at [async ]name (location)` or `at location`. */
const STACK_LINE = /^\s*at (?:(async) )?(?:(.*?) \((.*)\)|(.*))$/;
const POSITION = /^(.*):(\d+):(\d+)$/;

/**
 * Frames from V8's default stack string (`    at fn (file:line:col)`), used when the capture's
 * `Error.prepareStackTrace` did not take. The first frame is the evaluated script's own, as
 * with CallSites. Names are V8's (`Timeout.onTick`, `new Cart`) without its `[as alias]`.
 * @param stackLimit `Error.stackTraceLimit` as the capture found it: that many frames or more
 *   means the stack was cut.
 */
export function parseStackString(
  text: string,
  limit: number,
  stackLimit: number | undefined,
): { frames: RawFrame[]; truncated: boolean; cutAt: number | undefined } {
  const sites: RawFrame[] = [];
  for (const line of text.split('\n')) {
    const match = STACK_LINE.exec(line);
    if (match === null) continue;
    const [, isAsync, name, inParens, bare] = match;
    const location = inParens ?? bare ?? '';
    const position = POSITION.exec(location);
    sites.push({
      function: name === undefined || name === '' ? '<anonymous>' : name.replace(/ \[as [^\]]*\]$/, ''),
      file: position?.[1],
      line: position === null ? 0 : Number(position[2]),
      column: position === null ? 0 : Number(position[3]),
      async: isAsync !== undefined,
    });
  }
  const frames = sites.slice(1);
  const cut = stackLimit !== undefined && sites.length >= stackLimit;
  return {
    frames: frames.slice(0, limit),
    truncated: cut || frames.length > limit,
    cutAt: stackLimit === undefined ? undefined : Math.max(0, stackLimit - 1),
  };
}

/** Where the watchdog gets the watched thread's stack from. */
export interface StackSource {
  readonly available: boolean;
  readonly reason: string | undefined;
  open(): boolean;
  close(): void;
  pauseState(): Promise<PauseState>;
  capture(): Promise<CaptureResult | undefined>;
  /**
   * Maps positions of code transformed in memory through the watched thread's own source maps
   * (see remapExpression). Resolves with one answer per request, or undefined if it could not ask.
   */
  remap(requests: readonly RemapRequest[]): Promise<RemapAnswer[] | undefined>;
}

/**
 * The watched thread has no inspector agent to connect to (see main/inspector.ts): blocks are
 * reported without a stack, and no session is ever opened — trying would abort the process.
 */
export class NoInspector implements StackSource {
  readonly available = false;
  readonly reason: string;

  constructor(reason: string) {
    this.reason = reason;
  }

  open(): boolean {
    return false;
  }

  close(): void {
    // nothing was opened
  }

  pauseState(): Promise<PauseState> {
    return Promise.resolve('no-answer');
  }

  capture(): Promise<CaptureResult | undefined> {
    return Promise.resolve(undefined);
  }

  remap(): Promise<RemapAnswer[] | undefined> {
    return Promise.resolve(undefined);
  }
}

/**
 * The stack source of the main thread: none with `captureStack: false` or when this monitor
 * does not watch it; otherwise its inspector, or one that says why there is none.
 */
export function stackSourceFor(
  init: Pick<WorkerInit, 'options' | 'watchMain' | 'noInspector'>,
): StackSource | undefined {
  const { options, watchMain, noInspector } = init;
  if (!options.captureStack || watchMain === false) return undefined;
  return noInspector === undefined ? new MainThreadInspector(options.maxFrames) : new NoInspector(noInspector);
}
