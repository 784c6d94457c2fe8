/**
 * The main-thread side: a heartbeat that costs one timer callback per beat and no
 * allocation, the worker that watches it, and delivery of block events to listeners.
 * Nothing here may throw into the host application after `start()` has returned.
 */
import { isMainThread, MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { url as inspectorUrl } from 'node:inspector';
import { debuglog } from 'node:util';
import { LoopwatchError } from '../errors.js';
import { resolveOptions } from '../options.js';
import {
  F64,
  FROM_WORKER,
  I32,
  SHARED_BYTES,
  TO_WORKER,
  viewsOf,
  type FromWorker,
  type WorkerInit,
} from '../protocol/shared.js';
import type { BlockEvent, Monitor, MonitorStatus, ResolvedOptions, StartOptions } from '../types.js';

const debug = debuglog('loopwatch');

/** One monitor per process, even when both the CJS and the ESM build are loaded. */
const SINGLETON = Symbol.for('loopwatch.monitor.v1');
type Global = typeof globalThis & { [SINGLETON]?: MonitorImpl };

/** How long stop() lets the worker end by itself before terminating it. */
const STOP_GRACE_MS = 1000;
/** Every how many beats the main thread looks whether an inspector port has been opened. */
const INSPECTOR_CHECK_EVERY = 64;

/** How long the exiting main thread waits for the worker to write a pending `ended` event. */
const EXIT_FLUSH_MS = 1000;

/**
 * The beat period: short enough that a block's start is known to within an eighth of the
 * threshold, long enough to cost nothing (at the default 100 ms threshold, 80 beats a second
 * of a few microseconds each).
 */
export function beatPeriodMs(thresholdMs: number): number {
  return Math.min(Math.max(Math.floor(thresholdMs / 8), 1), 250);
}

class MonitorImpl implements Monitor {
  readonly options: ResolvedOptions;
  readonly #ready: Promise<MonitorStatus>;
  #readySettled = false;
  readonly #port: MessagePort;
  readonly #listeners = new Set<(event: BlockEvent) => void>();
  readonly #worker: Worker;
  readonly #timer: NodeJS.Timeout;
  readonly #i32: Int32Array;
  readonly #stamp: () => void;
  readonly #onExit: () => void;
  readonly #onBeforeExit: () => void;
  #stopped: Promise<void> | undefined;

  constructor(options: ResolvedOptions) {
    this.options = options;
    const buffer = new SharedArrayBuffer(SHARED_BYTES);
    const { i32, f64 } = viewsOf(buffer);
    this.#i32 = i32;
    const origin = performance.timeOrigin;
    const timing = performance.nodeTiming;
    /** The beat's payload: when, and how long the loop has been idle in all. */
    const stamp = (): void => {
      f64[F64.BEAT_TIME] = origin + performance.now();
      f64[F64.BEAT_IDLE] = timing.idleTime;
    };
    this.#stamp = stamp;
    // No allocation per beat: three stores and an atomic add. The first timed beat marks the
    // first turn of the loop; every INSPECTOR_CHECK_EVERY beats, whether a debugger may be
    // attached (the worker then gives a paused thread longer to say so).
    let untilCheck = 1;
    const beat = (): void => {
      stamp();
      if (--untilCheck === 0) {
        untilCheck = INSPECTOR_CHECK_EVERY;
        i32[I32.LOOP_TURNED] = 1;
        i32[I32.INSPECTOR] = inspectorUrl() === undefined ? 0 : 1;
      }
      i32[I32.EXITING] = 0;
      Atomics.add(i32, I32.SEQ, 1);
    };
    stamp();
    i32[I32.INSPECTOR] = inspectorUrl() === undefined ? 0 : 1;
    const beatMs = beatPeriodMs(options.thresholdMs);
    this.#timer = setInterval(beat, beatMs);
    this.#timer.unref();

    // Messages come on a port of their own so that the exit handler can still receive them
    // synchronously (receiveMessageOnPort) when the process ends before they were delivered.
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    const init: WorkerInit = {
      buffer,
      port: port2,
      options,
      pid: process.pid,
      ownDir: resolve(__dirname, '..'),
      beatMs,
    };
    this.#worker = new Worker(join(__dirname, '..', 'worker', 'index.js'), {
      workerData: init,
      // Never re-run the app's preloads (-r / --import, also from NODE_OPTIONS) in the worker.
      execArgv: [],
      env: { ...process.env, NODE_OPTIONS: scrubNodeOptions(process.env['NODE_OPTIONS']) },
      stdout: false,
      stderr: false,
      name: 'loopwatch',
      transferList: [port2],
    });

    let settle: { resolve: (s: MonitorStatus) => void; reject: (e: Error) => void } | undefined;
    this.#ready = new Promise<MonitorStatus>((resolvePromise, rejectPromise) => {
      settle = { resolve: resolvePromise, reject: rejectPromise };
    });
    // A rejected `ready` that nobody awaits must not crash the host with an unhandled rejection.
    this.#ready.catch(() => undefined);
    void this.#ready.finally(() => {
      this.#readySettled = true;
      this.#worker.unref();
    }).catch(() => undefined);

    // Listeners go on before unref(): a 'message' listener added later would ref them again.
    port1.on('message', (message: FromWorker) => this.#receive(message, settle));
    port1.unref();
    this.#worker.on('error', (error) => {
      warn(`the monitor worker failed: ${error.stack ?? String(error)}`, 'LOOPWATCH_WORKER_FAILED');
      settle?.reject(error);
    });
    this.#worker.on('exit', (code) => {
      debug('worker exited with code %d', code);
      settle?.reject(new Error(`the loopwatch worker exited (code ${code}) before it was ready`));
    });
    this.#worker.unref();

    this.#onExit = () => this.#flushAtExit();
    process.on('exit', this.#onExit);
    // The loop is empty and the process is about to end: Node may now wait, outside any
    // JavaScript, for an attached debugger client to disconnect. That wait is not a block.
    // The next beat clears the flag if a 'beforeExit' listener scheduled more work.
    this.#onBeforeExit = () => Atomics.store(i32, I32.EXITING, 1);
    process.on('beforeExit', this.#onBeforeExit);
    debug('started: threshold %d ms, beat every %d ms', options.thresholdMs, beatMs);
  }

  /**
   * Reading `ready` means someone waits for it: keep the process alive until the worker has
   * armed (tens of milliseconds), so `await monitor.ready` at the top level of an otherwise
   * idle module does not end the process with an unsettled promise.
   */
  get ready(): Promise<MonitorStatus> {
    if (!this.#readySettled && this.#stopped === undefined) this.#worker.ref();
    return this.#ready;
  }

  #receive(message: FromWorker, settle: { resolve: (s: MonitorStatus) => void } | undefined): void {
    switch (message.code) {
      case FROM_WORKER.READY:
        settle?.resolve({ stackCapture: message.stackCapture, reason: message.reason, profiler: message.profiler });
        return;
      case FROM_WORKER.EVENT:
        this.#deliver(message.event);
        return;
      case FROM_WORKER.WARNING:
        warn(message.message, message.warningCode);
        return;
      default:
        warn(`unknown message from the monitor worker: ${JSON.stringify(message)}`, 'LOOPWATCH_PROTOCOL');
    }
  }

  on(event: 'block', listener: (event: BlockEvent) => void): this {
    checkListener(event, listener);
    this.#listeners.add(listener);
    return this;
  }

  off(event: 'block', listener: (event: BlockEvent) => void): this {
    checkListener(event, listener);
    this.#listeners.delete(listener);
    return this;
  }

  stop(): Promise<void> {
    if (this.#stopped !== undefined) return this.#stopped;
    clearInterval(this.#timer);
    process.off('exit', this.#onExit);
    process.off('beforeExit', this.#onBeforeExit);
    const global = globalThis as Global;
    if (global[SINGLETON] === this) delete global[SINGLETON];
    this.#port.close();
    // The worker closes its inspector session and ends itself; terminate() only if it does not.
    const worker = this.#worker;
    this.#stopped = new Promise<void>((resolveStop) => {
      const fallback = setTimeout(() => void worker.terminate().finally(resolveStop), STOP_GRACE_MS);
      fallback.unref();
      worker.once('exit', () => {
        clearTimeout(fallback);
        resolveStop();
      });
      worker.postMessage({ code: TO_WORKER.STOP });
    });
    return this.#stopped;
  }

  #deliver(event: BlockEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        warn(`a 'block' listener threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, 'LOOPWATCH_LISTENER');
      }
    }
  }

  /**
   * At exit, a block may just have ended (or be ending now, if the blocking code called
   * process.exit). Beat once more and give the worker a bounded moment to write `ended`.
   */
  #flushAtExit(): void {
    const i32 = this.#i32;
    Atomics.store(i32, I32.EXITING, 1);
    Atomics.store(i32, I32.EXIT_NOTIFY, 1);
    Atomics.notify(i32, I32.EXIT_NOTIFY);
    if (Atomics.load(i32, I32.BLOCKED) === 1) {
      const ack = Atomics.load(i32, I32.ACK);
      clearInterval(this.#timer);
      // The last beat: the block is over (the loop is running the exit handlers).
      this.#stamp();
      Atomics.add(i32, I32.SEQ, 1);
      Atomics.wait(i32, I32.ACK, ack, EXIT_FLUSH_MS);
    }
    // The profiler's session stays connected all along; a connected session makes
    // process.exit() print "Waiting for the debugger to disconnect...". Let the worker close it.
    if (Atomics.load(i32, I32.PROFILING) === 1) Atomics.wait(i32, I32.DETACHED, 0, EXIT_FLUSH_MS);
    // Events the loop had no chance to deliver still reach the listeners.
    for (let entry = receiveMessageOnPort(this.#port); entry !== undefined; entry = receiveMessageOnPort(this.#port)) {
      const message = entry.message as FromWorker;
      if (message.code === FROM_WORKER.EVENT) this.#deliver(message.event);
    }
  }
}

function checkListener(event: unknown, listener: unknown): void {
  if (event !== 'block') {
    throw new LoopwatchError('ERR_LOOPWATCH_INVALID_OPTION', `unknown event ${JSON.stringify(event)}; the monitor emits "block"`);
  }
  if (typeof listener !== 'function') {
    throw new LoopwatchError('ERR_LOOPWATCH_INVALID_OPTION', `the 'block' listener must be a function, got ${typeof listener}`);
  }
}

function warn(message: string, code: string): void {
  try {
    process.emitWarning(message, { type: 'LoopwatchWarning', code });
  } catch {
    // A warning must never become the host's problem.
  }
}

/** NODE_OPTIONS without the preload flags (`-r`, `--require`, `--import`, `--loader`, …). */
export function scrubNodeOptions(value: string | undefined): string {
  if (value === undefined || value === '') return '';
  const preload = /^(?:-r|--require|--import|--loader|--experimental-loader)(?:=|$)/;
  const tokens = value.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) ?? [];
  const kept: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] ?? '';
    if (preload.test(token)) {
      if (!token.includes('=')) i++; // the flag's value is the next token
      continue;
    }
    kept.push(token);
  }
  return kept.join(' ');
}

/**
 * Starts the monitor (or returns the one already running in this process).
 * Throws `LoopwatchError` for invalid options; never throws after it has returned.
 */
export function start(options?: StartOptions): Monitor {
  if (!isMainThread) {
    throw new LoopwatchError('ERR_LOOPWATCH_UNSUPPORTED', 'loopwatch monitors the main thread; start() cannot be called from a worker thread');
  }
  const resolved = resolveOptions(options);
  const global = globalThis as Global;
  const running = global[SINGLETON];
  if (running !== undefined) {
    if (options !== undefined && JSON.stringify(running.options) !== JSON.stringify(resolved)) {
      warn(
        `loopwatch is already running with ${JSON.stringify(running.options)}; the options of this start() call are ignored`,
        'LOOPWATCH_ALREADY_STARTED',
      );
    }
    return running;
  }
  const monitor = new MonitorImpl(resolved);
  global[SINGLETON] = monitor;
  return monitor;
}

/** Starts with already-validated options (used by `loopwatch/register`). */
export function startResolved(resolved: ResolvedOptions): Monitor {
  const global = globalThis as Global;
  return (global[SINGLETON] ??= new MonitorImpl(resolved));
}
