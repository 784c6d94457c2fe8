/**
 * The part of the test-runner integrations that runs in each test process (or thread): starts
 * the monitor (in a vitest pool thread: joins the pool's, see main/feed.ts), proves it works
 * (the canary), collects the blocks between two points of the run, decides which are allowed,
 * and turns the others into an error a developer can act on.
 * Framework-neutral: `loopwatch/vitest` and `loopwatch/node-test` drive it from their hooks.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { debuglog } from 'node:util';
import { runInThisContext } from 'node:vm';
import { isMainThread, threadId } from 'node:worker_threads';
import { CANARY_ATTRIBUTE } from '../canary.js';
import { LoopwatchError } from '../errors.js';
import { poolTable, ThreadFeed } from '../main/feed.js';
import { start } from '../main/monitor.js';
import { preloaded } from '../main/preload.js';
import { leaveThreadTable } from '../main/thread.js';
import { culpritFrame, displayPath, formatFrame, isInternal, ms } from '../common/frames.js';
import type { BlockEvent, Monitor, StackFrame } from '../types.js';
import type { ResolvedAllowRule, ResolvedTestingOptions } from './options.js';
import { remapFrames } from './remap.js';
import { mustBe } from '../common/text.js';

/** What the runners record per test and per file, and the summary reads. */
export interface BlockRecord {
  readonly durationMs: number;
  readonly startedAt: string;
  /** The culprit frame, source-mapped (`renderPage (src/pages.ts:12:5)`), or why there is none. */
  readonly culprit: string;
  readonly culpritFunction: string | undefined;
  readonly stackTiming: BlockEvent['stackTiming'];
  /** Why the block did not fail its test (`allowBlocking()`, `allow: renderPage`…). */
  readonly allowed?: string;
  /** Where it ran when not in a test: `imports`, `beforeAll`, `afterAll`, `between tests`. */
  readonly where?: string;
}

export interface Verdict {
  readonly records: BlockRecord[];
  /** The error to fail the test (or file) with; undefined when nothing must fail. */
  readonly error: Error | undefined;
}

/** Where a window of the run is, for the failure message. */
export type Where =
  | { kind: 'test'; name: string }
  | { kind: 'file'; what: 'imports' | 'beforeAll' | 'afterAll' | 'between tests'; file: string };

/**
 * Where a watch gets its thread's blocks: the process's monitor (a test process's main
 * thread), or, in a vitest `threads` pool thread, the pool's monitor in vitest's own process
 * through the thread feed (main/feed.ts).
 */
interface BlockSource {
  /** Resolves once the thread is watched: whether stacks are captured, and at what threshold. */
  ready(): Promise<{ readonly stackCapture: boolean; readonly thresholdMs: number }>;
  onBlock(listener: (event: BlockEvent) => void): void;
  /** Resolves once every block of this thread that has ended has reached the listeners. */
  settle(): Promise<void>;
  trackContext: Monitor['trackContext'];
}

/** A block with its frames mapped on this thread (see remap.ts). */
interface Mapped {
  readonly event: BlockEvent;
  readonly frames: readonly StackFrame[];
}

interface Window {
  readonly from: number;
  to: number;
}

const debug = debuglog('loopwatch');

const CANARY_FUNCTION = 'loopwatchCanary';
/** The context of the canary's block, in place of a test. */
const CANARY = { name: '', file: '' } as const;
/** Context attributes naming the test that was running (OpenTelemetry's test.* names). */
export const TEST_NAME = 'test.case.name';
export const TEST_FILE = 'test.suite.name';
/** Frames shown in a failure message. */
const SHOWN_FRAMES = 6;

export class BlockingError extends Error {
  constructor(message: string, frames: readonly StackFrame[]) {
    super(message);
    this.name = 'BlockingError';
    // The culprit's frames as the stack: runners show a code frame of the first one in the
    // user's files, as for a failed assertion.
    const lines = frames.map((f) => `    at ${f.function} (${f.file}:${f.line}:${f.column})`);
    this.stack = `${this.name}: ${message}${lines.length > 0 ? `\n${lines.join('\n')}` : ''}`;
  }
}

function matches(pattern: RegExp | string | undefined, value: string, exact: boolean): boolean {
  if (pattern === undefined) return true;
  if (pattern instanceof RegExp) {
    pattern.lastIndex = 0;
    return pattern.test(value);
  }
  return exact ? value === pattern : value.includes(pattern);
}

function describeRule(rule: ResolvedAllowRule): string {
  const parts: string[] = [];
  if (rule.function !== undefined) parts.push(`function ${String(rule.function)}`);
  if (rule.file !== undefined) parts.push(`file ${String(rule.file)}`);
  return `allow: ${parts.join(', ')}`;
}

export class TestWatch {
  readonly options: ResolvedTestingOptions;
  readonly #source: BlockSource;
  /** The source watches with this watch's settings: a monitor it started itself, or the pool's. */
  readonly #own: boolean;
  readonly #cwd: string;
  readonly #pending: BlockEvent[] = [];
  #scopes: Window[] = [];
  #testAllowed = false;
  #current: { readonly name: string; readonly file: string } | undefined;
  /** Between a file's first test and its afterAll: what ran outside tests is "between tests". */
  #inTests = false;
  #armed = false;
  /** The canary is blocking: its block carries CANARY_ATTRIBUTE, for whoever reads the events. */
  #inCanary = false;
  /** The run's folder, shared by its test processes (undefined: this process is on its own). */
  readonly #runDir: string | undefined;
  readonly #eventsFile: string | undefined;

  /**
   * @param hangMs resolved hang deadline (undefined: none)
   * @param runDir where this process writes its events (for the runner's process to report a
   *   hang after this process is gone)
   */
  constructor(options: ResolvedTestingOptions, hangMs: number | undefined, runDir: string | undefined, cwd: string) {
    this.options = options;
    this.#cwd = cwd;
    this.#runDir = runDir;
    this.#eventsFile = runDir === undefined ? undefined : resolve(runDir, `events-${process.pid}-${threadId}.ndjson`);
    const { source, own } = isMainThread ? this.#startMonitor(options, hangMs) : joinPool(hangMs);
    this.#source = source;
    this.#own = own;
    this.#source.onBlock((event) => {
      if (event.state === 'ended') this.#pending.push(event);
    });
    // The running test goes with every block's context, read on the blocked thread when the
    // stack is: a hang report names its test even after its process is gone, and nothing is
    // written per test.
    this.#source.trackContext({ getStore: () => (this.#inCanary ? CANARY : this.#current) }, (test) =>
      test === CANARY ? { [CANARY_ATTRIBUTE]: true } : { [TEST_NAME]: test.name, [TEST_FILE]: test.file },
    );
  }

  /** A test process's main thread: the process's monitor, with the integration's settings. */
  #startMonitor(
    options: ResolvedTestingOptions,
    hangMs: number | undefined,
  ): { readonly source: BlockSource; readonly own: boolean } {
    // A monitor the preload started (`loopwatch run`, -r loopwatch/register) watches with the
    // run's settings; the tests are this integration's, watched with its own.
    const preload = preloaded();
    if (preload?.monitor !== undefined) {
      void preload.monitor.stop();
      preload.monitor = undefined;
    }
    const monitor = start({
      thresholdMs: options.thresholdMs,
      log: 'off',
      // The sampling profiler would start here, after the runner has loaded all its code: V8's
      // profiler start logs every compiled function and holds this thread meanwhile, a block of
      // loopwatch's own in the test file (seen: 84 ms in a vitest fork). Tests are named by
      // their stacks; a lone native call's culprit comes late, as before the profiler default.
      profiler: false,
      ...(this.#eventsFile === undefined ? {} : { eventsFile: this.#eventsFile }),
      ...(hangMs === undefined ? {} : { hangMs, hangAction: 'kill' as const }),
    });
    return {
      source: {
        ready: async () => ({
          stackCapture: (await monitor.ready).stackCapture,
          thresholdMs: monitor.options.thresholdMs,
        }),
        onBlock: (listener) => monitor.on('block', listener),
        settle: () => monitor.settle(),
        trackContext: (storage, toAttributes) => monitor.trackContext(storage, toAttributes),
      },
      // A monitor started before, by anyone else (start() in a preload of the user's), has
      // another events file, and its own settings.
      own: this.#eventsFile !== undefined && monitor.options.eventsFile === this.#eventsFile,
    };
  }

  /**
   * Blocks on purpose and checks that the monitor saw it with its stack, once per run where the
   * run's test processes share a folder (see #proofFile), otherwise once per process (or pool
   * thread). Throws when it did not: every test would pass unwatched otherwise.
   */
  async canary(): Promise<void> {
    if (this.#armed) return;
    // Ready before the file's own code runs: a worker still starting would miss its blocks.
    const status = await this.#source.ready();
    const proof = this.#proofFile(status.thresholdMs);
    const proven = proof === undefined ? undefined : readProof(proof);
    // Proven by another process of the run, with stacks as this one has them (or without, where
    // the proving one had none either); anything else proves itself here.
    if (proven !== undefined && (status.stackCapture || !proven.stackCapture)) {
      this.#armed = true;
      debug('canary: armed as proven by another test process of this run (%s)', proof);
      return;
    }
    debug('canary: blocking on purpose to prove loopwatch is armed');
    // Once more, longer, if the first one came without its stack: on a loaded machine the
    // first capture of a process can miss a short block.
    let event = await this.#canaryBlock(this.options.thresholdMs * 2 + 20);
    if (event !== undefined && status.stackCapture && !isCanary(event))
      event = await this.#canaryBlock(this.options.thresholdMs * 2 + 250);
    if (event === undefined) {
      const running = status.thresholdMs;
      const why =
        running === this.options.thresholdMs
          ? ''
          : ` loopwatch was already started in this process with thresholdMs ${running} (start() in a preload of your own: -r or --import), so the test integration's options do not apply.`;
      throw new Error(
        `loopwatch is not armed: a block made on purpose was not reported (threshold ${this.options.thresholdMs} ms). Blocks in tests would pass unnoticed.${why}`,
      );
    }
    if (status.stackCapture && !isCanary(event)) {
      throw new Error(
        'loopwatch is not armed: a block made on purpose was reported without its stack, so failures could not name their culprit.',
      );
    }
    this.#armed = true;
    if (proof !== undefined) {
      try {
        writeFileSync(proof, JSON.stringify({ stackCapture: status.stackCapture }));
      } catch {
        // the next process proves it again
      }
    }
  }

  /**
   * Where a canary that passed is recorded for the run's other test processes, or undefined
   * when this process must prove it itself. A test process (or pool thread) of the same run,
   * on the same Node, with the same flags, the same kind of thread and a monitor with the
   * integration's settings at the same threshold (one this watch started itself, or the pool's
   * that the plugin started), is armed the same way: the canary's block (a threshold and more,
   * per file) is paid once per run instead of once per file.
   * @param running the threshold the monitor watches at
   */
  #proofFile(running: number): string | undefined {
    if (this.#runDir === undefined || !this.#own) return undefined;
    const key = JSON.stringify([
      process.version,
      process.execPath,
      process.execArgv,
      isMainThread,
      running,
      this.options.thresholdMs,
    ]);
    return join(this.#runDir, `canary-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`);
  }

  /** Blocks for `spinMs` and returns the block reported for it, if any. */
  async #canaryBlock(spinMs: number): Promise<BlockEvent | undefined> {
    await this.#source.settle();
    const before = this.#pending.length;
    this.#inCanary = true;
    try {
      loopwatchCanary(spinMs);
      await this.#source.settle();
    } finally {
      this.#inCanary = false;
    }
    // The canary's own block must not be blamed on anything.
    const during = this.#pending.splice(before);
    const found = during.find((e) => isCanary(e) || (e.durationMs >= spinMs * 0.8 && e.stack.length === 0));
    this.#pending.push(...during.filter((e) => e !== found));
    return found;
  }

  /** Collects the blocks that ended since the last call. */
  async #take(): Promise<BlockEvent[]> {
    await this.#source.settle();
    return this.#pending.splice(0);
  }

  /*
   * The windows a file's run is cut into, driven by the runner's hooks. Each returns the
   * verdict on the window that just closed; the caller records it and throws its error.
   */

  /** A file's tests are about to start: what its imports and top-level code blocked. */
  async fileStart(file: string): Promise<Verdict> {
    this.#inTests = false;
    return this.judge(await this.#take(), { kind: 'file', what: 'imports', file });
  }

  /**
   * A test starts: what its file's beforeAll hooks (or the runner, between two tests) blocked;
   * from now on blocks are the test's own. Between tests the previous testEnd() has just
   * settled, so what was delivered is all there is: one round trip to the worker per test.
   */
  async testStart(name: string, file: string): Promise<Verdict> {
    const earlier = this.#inTests ? this.#pending.splice(0) : await this.#take();
    const verdict = this.judge(earlier, { kind: 'file', what: this.#inTests ? 'between tests' : 'beforeAll', file });
    if (verdict.error !== undefined) return verdict;
    this.#inTests = true;
    this.#testAllowed = false;
    this.#scopes = [];
    this.#current = { name, file };
    return verdict;
  }

  /** The test (with its beforeEach/afterEach hooks) has ended. */
  async testEnd(name: string): Promise<Verdict> {
    return this.judge(await this.#take(), { kind: 'test', name });
  }

  /** A file's afterAll hooks have run. */
  async fileEnd(file: string): Promise<Verdict> {
    this.#inTests = false;
    return this.judge(await this.#take(), { kind: 'file', what: 'afterAll', file });
  }

  /** The file of the test that ran last ('' before the first). */
  get currentFile(): string {
    return this.#current?.file ?? '';
  }

  /** `allowBlocking()` in a test: none of its blocks fail it. */
  allowTest(): void {
    this.#testAllowed = true;
  }

  /** `allowBlocking(fn)`: blocks while `fn` runs are allowed. */
  async allowWhile<T>(fn: () => T | Promise<T>): Promise<T> {
    const scope: Window = { from: Date.now(), to: Number.POSITIVE_INFINITY };
    this.#scopes.push(scope);
    try {
      return await fn();
    } finally {
      scope.to = Date.now();
    }
  }

  /**
   * `expectNoBlocking(fn)`: runs `fn`, then fails if the loop was blocked for `thresholdMs` or
   * more while it ran. The blocks it judged are not judged again at the end of the test.
   */
  async expectNoBlocking(fn: () => unknown, thresholdMs: number): Promise<void> {
    if (thresholdMs < this.options.thresholdMs) {
      throw new RangeError(
        `expectNoBlocking: thresholdMs (${thresholdMs}) is below loopwatch's threshold (${this.options.thresholdMs} ms), so shorter blocks are not seen; lower the plugin's thresholdMs`,
      );
    }
    const from = Date.now();
    await fn();
    const to = Date.now();
    await this.#source.settle();
    const inside = this.#pending.filter((e) => overlaps(e, { from, to }));
    for (const e of inside) this.#pending.splice(this.#pending.indexOf(e), 1);
    const over = inside.filter((e) => e.durationMs >= thresholdMs);
    if (over.length > 0)
      throw this.#error(
        over.map((event) => ({ event, frames: remapFrames(event.stack) })),
        'expectNoBlocking()',
        thresholdMs,
      );
  }

  /** Judges the blocks of a test (or of a part of a file outside tests). */
  judge(events: readonly BlockEvent[], where: Where): Verdict {
    const records: BlockRecord[] = [];
    const failing: Mapped[] = [];
    for (const event of events) {
      const frames = remapFrames(event.stack);
      const culprit = culpritIn(event, frames);
      const allowed = this.#allowedBy(event, frames, where);
      records.push({
        durationMs: event.durationMs,
        startedAt: event.startedAt,
        culprit:
          culprit === undefined
            ? event.stackTiming === 'none'
              ? '(no stack)'
              : '(no user frame)'
            : formatFrame(culprit, this.#cwd),
        culpritFunction: culprit?.function,
        stackTiming: event.stackTiming,
        ...(allowed === undefined ? {} : { allowed }),
        ...(where.kind === 'file' ? { where: where.what } : {}),
      });
      if (allowed === undefined) failing.push({ event, frames });
    }
    const fails =
      this.options.mode === 'fail' &&
      failing.length > 0 &&
      (where.kind === 'test' || this.options.outsideTests === 'fail');
    return { records, error: fails ? this.#error(failing, where) : undefined };
  }

  #allowedBy(event: BlockEvent, frames: readonly StackFrame[], where: Where): string | undefined {
    if (where.kind === 'test' && this.#testAllowed) return 'allowBlocking()';
    if (this.#scopes.some((scope) => overlaps(event, scope))) return 'allowBlocking(fn)';
    for (const rule of this.options.allow) {
      if (frames.some((f) => matches(rule.function, f.function, true) && matches(rule.file, f.file, false)))
        return describeRule(rule);
    }
    return undefined;
  }

  #error(blocks: readonly Mapped[], where: Where | string, thresholdMs = this.options.thresholdMs): BlockingError {
    const { event: worst, frames } = blocks.reduce((a, b) => (b.event.durationMs > a.event.durationMs ? b : a));
    const shown = frames.filter((f) => !isInternal(f) && f.line > 0).slice(0, SHOWN_FRAMES);
    const culprit = culpritIn(worst, frames);
    const during =
      typeof where === 'string'
        ? `while ${where} ran`
        : where.kind === 'test'
          ? 'during this test'
          : `${describeWhere(where.what)} (${displayPath(where.file, this.#cwd)})`;
    const lines = [
      `the event loop was blocked for ${ms(worst.durationMs)} ${during} (threshold ${ms(thresholdMs)})${blocks.length > 1 ? `, ${blocks.length} blocks in all` : ''}`,
    ];
    if (culprit !== undefined) {
      // The frames themselves are the error's stack: the runner prints them, with a code frame.
      lines.push(
        `culprit: ${formatFrame(culprit, this.#cwd)}${worst.stackTiming === 'late' ? ' — taken late: the thread answered only after a long native call, this may be the code that ran after it' : ''}`,
      );
    } else if (worst.beforeArmed === true) {
      // Found in the heartbeat's history when the monitor armed (canary: false does not wait
      // for that): no capture was ever tried, so neither reason below applies.
      lines.push('no stack: the block was over before loopwatch was armed in this test process');
    } else if (worst.stackTiming === 'none') {
      lines.push(
        'no stack could be taken (the thread was inside one long native call, or capture is unavailable here)',
      );
    }
    const context = Object.entries(worst.context?.attributes ?? {}).filter(
      ([key]) => key !== TEST_NAME && key !== TEST_FILE,
    );
    if (context.length > 0) lines.push(`context: ${context.map(([k, v]) => `${k}=${String(v)}`).join(' ')}`);
    lines.push(
      'To allow it: allowBlocking() in the test, await allowBlocking(() => …) around the call, or the `allow` option.',
    );
    return new BlockingError(lines.join('\n'), shown);
  }
}

/**
 * A vitest pool thread: watched by the pool's monitor, which the plugin started in vitest's
 * process with the integration's settings, as a slot of its table (see main/feed.ts).
 */
function joinPool(hangMs: number | undefined): { readonly source: BlockSource; readonly own: boolean } {
  // The preload, if any, registered this thread in the process's table: give that slot up, or
  // its blocks would be reported twice.
  leaveThreadTable();
  const pool = poolTable();
  if (pool === undefined) {
    throw new LoopwatchError(
      'ERR_LOOPWATCH_UNSUPPORTED',
      "loopwatch watches tests in a worker thread only in vitest's threads and vmThreads pools, through the loopwatch/vitest plugin's monitor; none was started for this thread (use the plugin in the vitest config, or the forks pool)",
    );
  }
  const feed = new ThreadFeed(pool, hangMs);
  return {
    source: {
      ready: () => feed.ready,
      onBlock: (listener) => feed.onBlock(listener),
      settle: () => feed.settle(),
      trackContext: (storage, toAttributes) => feed.trackContext(storage, toAttributes),
    },
    own: true,
  };
}

function describeWhere(what: 'imports' | 'beforeAll' | 'afterAll' | 'between tests'): string {
  if (what === 'imports') return "while the file's imports and top-level code ran";
  if (what === 'between tests') return 'between two tests (in hooks of other setup files)';
  return `in a ${what} hook`;
}

/** A canary that passed in another process of the run (see TestWatch#proofFile). */
function readProof(file: string): { stackCapture: boolean } | undefined {
  try {
    const proof = JSON.parse(readFileSync(file, 'utf8')) as { stackCapture?: unknown };
    return typeof proof.stackCapture === 'boolean' ? { stackCapture: proof.stackCapture } : undefined;
  } catch {
    return undefined;
  }
}

function isCanary(event: BlockEvent): boolean {
  return event.stack.some((frame) => frame.function === CANARY_FUNCTION);
}

function overlaps(event: BlockEvent, window: Window): boolean {
  const from = Date.parse(event.startedAt);
  const to = from + event.durationMs;
  // The block's start is the last beat before it: up to a beat period early.
  return to > window.from && from <= window.to;
}

/**
 * Busy-waits: the canary's deliberate block, named so that its stack can be recognised. Compiled
 * as a script of its own because the monitor leaves loopwatch's own files out of the stacks it
 * reports.
 */
const loopwatchCanary = runInThisContext(
  `(function ${CANARY_FUNCTION}(ms) { var end = Date.now() + ms; while (Date.now() < end) {} })`,
  { filename: 'loopwatch-canary.js' },
) as (ms: number) => void;

const RUNTIME: unique symbol = Symbol.for('loopwatch.testing.v1');
type Global = typeof globalThis & { [RUNTIME]?: TestWatch | undefined };

/** The watch of this thread, shared by every copy of the package loaded in it. */
function currentWatch(): TestWatch | undefined {
  return (globalThis as Global)[RUNTIME];
}

export function installWatch(create: () => TestWatch): TestWatch {
  const global = globalThis as Global;
  return (global[RUNTIME] ??= create());
}

function requireWatch(what: string): TestWatch {
  const watch = currentWatch();
  if (watch === undefined) {
    throw new Error(
      `${what}: loopwatch is not watching this test run; add the plugin to the vitest config (plugins: [loopwatch()]) or run node --test with --import loopwatch/node-test`,
    );
  }
  return watch;
}

/**
 * Inside a test: its blocks do not fail it (they still appear in the summary). With a
 * function: blocks while it runs are allowed; returns what it returns.
 */
export function allowBlocking(): void;
export function allowBlocking<T>(fn: () => T | Promise<T>): Promise<T>;
export function allowBlocking<T>(fn?: () => T | Promise<T>): void | Promise<T> {
  const watch = requireWatch('allowBlocking()');
  if (fn === undefined) {
    watch.allowTest();
    return;
  }
  if (typeof fn !== 'function') throw new TypeError('allowBlocking(fn): fn must be a function');
  return watch.allowWhile(fn);
}

/**
 * Runs `fn` (sync or async) and rejects with a BlockingError naming the culprit if the event
 * loop was blocked for `thresholdMs` or more meanwhile (default: the plugin's threshold).
 */
export async function expectNoBlocking(fn: () => unknown, options?: { thresholdMs?: number }): Promise<void> {
  const watch = requireWatch('expectNoBlocking()');
  if (typeof fn !== 'function') throw new TypeError('expectNoBlocking(fn): fn must be a function');
  const thresholdMs = options?.thresholdMs ?? watch.options.thresholdMs;
  if (typeof thresholdMs !== 'number' || !Number.isFinite(thresholdMs) || thresholdMs < 1)
    throw new TypeError(`expectNoBlocking: ${mustBe('thresholdMs', 'a positive number', String(thresholdMs))}`);
  await watch.expectNoBlocking(fn, thresholdMs);
}

/**
 * The event's culprit (named by the monitor, see BlockEvent.culprit) at its position in the
 * test's own sources: read from the stack it was named from, mapped like the failure's frames.
 */
function culpritIn(event: BlockEvent, frames: readonly StackFrame[]): StackFrame | undefined {
  const named = event.culprit;
  if (named?.source === 'profile' && event.profile !== undefined) return culpritFrame(remapFrames(event.profile.stack));
  return culpritFrame(frames);
}
