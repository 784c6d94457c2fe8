/**
 * The main-thread side: a heartbeat that costs one timer callback per beat and no
 * allocation, the worker that watches it, and delivery of block events to listeners.
 * Nothing here may throw into the host application after `start()` has returned.
 */
import { isMainThread, MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { debuglog } from 'node:util';
import { LoopwatchError } from '../errors.js';
import { isObject } from '../common/guards.js';
import { mustBe } from '../common/text.js';
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
import type {
  BlockEvent,
  HangEvent,
  LoadShedder,
  LoadShedderOptions,
  LoopwatchEvent,
  MeterProviderLike,
  Monitor,
  MonitorStatus,
  PressureState,
  ResolvedOptions,
  StartOptions,
} from '../types.js';
import { activeResources } from './resources.js';
import { PendingSettles } from './settles.js';
import { mainThreadInstruments } from './meter.js';
import { trackContext, untrackAll } from './context.js';
import { loadShedder } from './shed.js';
import { PressureGauge } from './pressure.js';
import { inspectorUnavailable, inspectorUrl } from './inspector.js';
import { heartbeat } from './heartbeat.js';
import { flushThreadsAtExit, publishTable, watchChildren } from './thread.js';
import { createTable, POOL_KEY, THREADS_KEY, type ThreadTable } from '../protocol/threads.js';
import { createTallyBuffer } from '../protocol/tally.js';

const debug = debuglog('loopwatch');

/** One monitor per process, even when both the CJS and the ESM build are loaded. */
const SINGLETON: unique symbol = Symbol.for('loopwatch.monitor.v1');
type Global = typeof globalThis & { [SINGLETON]?: MonitorImpl | undefined };

/**
 * `Symbol.for()` key of the monitor's shared state, for readers on this thread (the prom-client
 * bridge): a symbol rather than a private field, so a second loaded copy of loopwatch reads it too.
 */
const SHARED_STATE: unique symbol = Symbol.for('loopwatch.shared-state.v1');

/** What a reader on the app's thread sees of the monitor, without asking its worker. */
export interface SharedState {
  /** The heartbeat buffer (protocol/shared.ts), with the figures the worker writes into it. */
  readonly buffer: SharedArrayBuffer;
  /** The worker's block counts (protocol/tally.ts). */
  readonly tally: SharedArrayBuffer;
  /** False once the monitor stopped or cannot watch: its figures are no longer kept up. */
  readonly watching: boolean;
}

/** How long stop() lets the worker end by itself before terminating it. */
const STOP_GRACE_MS = 1000;
/** How long the exiting main thread waits for the worker to write a pending `ended` event. */
const EXIT_FLUSH_MS = 1000;

/** While an exit deadline runs, how often the main thread tells the worker what keeps it alive. */
const RESOURCES_EVERY_MS = 250;
const MAX_EXIT_WITHIN_MS = 86_400_000;
const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'] as const;
/**
 * The monitor worker's heap. V8 grows a young generation under allocation pressure, up to
 * 16 MB a semi-space, and never gives the pages back: a monitor reporting many short blocks
 * ended with 32 MB of new space, almost all of it empty, and the OpenTelemetry SDK's start-up
 * left 16 MB. 3 MB is the smallest young generation V8 honours (it rounds anything below up
 * to two 1 MB semi-spaces); the worker then scavenges more often, each time in well under a
 * millisecond, off the app's thread. Measured (Node 20, medians of 5 alternating runs): an idle
 * app with OTLP export, 33.5 → 27.5 MB extra RSS; the worker's heap after 6,000 blocks of 9 ms,
 * 40 → 17 MB. Figures of the last bench run: docs/benchmarks.md, "Memory".
 * The old generation keeps V8's limit: an out-of-memory worker ends with an 'error' event
 * (the app runs on and is told), never the process.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 3 } as const;

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
  readonly #listeners = { block: new Set<(event: BlockEvent) => void>(), hang: new Set<(event: HangEvent) => void>() };
  readonly #pressure: PressureGauge;
  readonly #onSignal: (signal: NodeJS.Signals) => void;
  #resourcesTimer: NodeJS.Timeout | undefined;
  /** Undefined when the environment refused to start it (then `#lost` says why). */
  readonly #worker: Worker | undefined;
  #timer: NodeJS.Timeout | undefined;
  /**
   * Set once this monitor cannot watch: its worker was refused, failed to load, or died. The
   * app runs on; every method stays safe (listeners are kept, nothing is delivered).
   */
  #lost: LoopwatchError | undefined;
  readonly #rejectReady: (error: Error) => void;
  readonly #i32: Int32Array;
  readonly #stamp: () => void;
  readonly #beat: () => void;
  readonly #settles = new PendingSettles();
  readonly #onExit: () => void;
  readonly #onBeforeExit: () => void;
  #stopped: Promise<void> | undefined;
  /** The app's worker threads' heartbeat slots, when they are watched. */
  #table: ThreadTable | undefined;
  readonly #buffer: SharedArrayBuffer;
  readonly #tally: SharedArrayBuffer;

  /**
   * @param pool set for the vitest `threads` pool's monitor (startPoolMonitor): it watches no
   *   main thread, only the pool threads that join its table, which it publishes under POOL_KEY
   *   with `feed` as the channel they ask it on.
   */
  constructor(options: ResolvedOptions, pool?: { readonly feed: string }) {
    this.options = options;
    // V8 can be told to have no SharedArrayBuffer (Node 20: --no-harmony-sharedarraybuffer).
    // The views then sit on a plain buffer nobody else reads, and the monitor does not start.
    const shared = typeof SharedArrayBuffer === 'function';
    const buffer = shared
      ? new SharedArrayBuffer(SHARED_BYTES)
      : (new ArrayBuffer(SHARED_BYTES) as unknown as SharedArrayBuffer);
    const { i32, f64 } = viewsOf(buffer);
    this.#buffer = buffer;
    this.#tally = shared ? createTallyBuffer() : (new ArrayBuffer(8) as unknown as SharedArrayBuffer);
    this.#i32 = i32;
    const beatMs = beatPeriodMs(options.thresholdMs);
    this.#pressure = new PressureGauge(viewsOf(buffer), beatMs, options.pressure, options.warmup);
    // The beat (see heartbeat.ts), with the check for an inspector port only this thread makes.
    const { stamp, beat } = heartbeat(viewsOf(buffer), beatMs, inspectorUrl);
    this.#stamp = stamp;
    // The pool's monitor does not watch this thread: a beat on settle() would tell nobody anything.
    this.#beat = pool === undefined ? beat : () => undefined;
    stamp();
    i32[I32.INSPECTOR] = inspectorUrl() === undefined ? 0 : 1;

    let settle: { resolve: (s: MonitorStatus) => void; reject: (e: Error) => void } | undefined;
    this.#ready = new Promise<MonitorStatus>((resolvePromise, rejectPromise) => {
      settle = { resolve: resolvePromise, reject: rejectPromise };
    });
    // A rejected `ready` that nobody awaits must not crash the host with an unhandled rejection.
    this.#ready.catch(() => undefined);
    this.#rejectReady = (error) => settle?.reject(error);
    this.#onExit = () => this.#flushAtExit();
    // The loop is empty and the process is about to end: Node may now wait, outside any
    // JavaScript, for an attached debugger client to disconnect. That wait is not a block.
    // The next beat clears the flag if a 'beforeExit' listener scheduled more work.
    this.#onBeforeExit = () => Atomics.store(i32, I32.EXITING, 1);
    // Graceful shutdown gets a deadline, but only when the app handles the signal: a signal
    // nobody else listens to keeps its default effect (the process ends at once).
    this.#onSignal = (signal) => {
      if (process.listenerCount(signal) > 1) {
        this.#armExitDeadline(options.shutdownTimeoutMs ?? 0, signal);
        return;
      }
      for (const name of SHUTDOWN_SIGNALS) process.off(name, this.#onSignal);
      process.kill(process.pid, signal);
    };

    // Messages come on a port of their own so that the exit handler can still receive them
    // synchronously (receiveMessageOnPort) when the process ends before they were delivered.
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    // Worker threads' stacks are asked through this thread's inspector too (NodeWorker domain).
    const needsInspector = options.captureStack || options.profiler;
    const noInspector = needsInspector ? inspectorUnavailable() : undefined;
    const deniedFile = eventsFileDenied(options.eventsFile);
    // The app's worker threads: a table of heartbeat slots they find in their environment data
    // and claim for themselves. The pool's monitor has one for the pool threads only.
    const table = shared && (pool !== undefined || options.threads === 'all') ? createTable() : undefined;
    const threads = table === undefined ? undefined : { buffer: table.buffer, beatMs, ...pool };
    const init: WorkerInit = {
      buffer,
      port: port2,
      // The app's health check runs here; a function cannot cross to the worker anyway.
      options: {
        ...options,
        ...(deniedFile === undefined ? {} : { eventsFile: undefined }),
        pressure: { ...options.pressure, healthCheck: undefined },
      },
      pid: process.pid,
      command: { argv: [...process.argv], execArgv: [...process.execArgv] },
      ownDir: resolve(__dirname, '..'),
      beatMs,
      startedAt: f64[F64.BEAT_TIME] ?? 0,
      ...(pool === undefined ? {} : { watchMain: false as const }),
      ...(noInspector === undefined ? {} : { noInspector }),
      ...(threads === undefined ? {} : { threads }),
      tally: this.#tally,
    };
    let worker: Worker;
    try {
      if (!shared)
        throw new Error(
          'SharedArrayBuffer is disabled in this process (--no-harmony-sharedarraybuffer?); remove that flag',
        );
      worker = new Worker(join(__dirname, '..', 'worker', 'index.js'), {
        workerData: init,
        // Never re-run the app's preloads (-r / --import, also from NODE_OPTIONS) in the worker.
        execArgv: [],
        env: { ...process.env, NODE_OPTIONS: scrubNodeOptions(process.env['NODE_OPTIONS']) },
        stdout: false,
        stderr: false,
        name: 'loopwatch',
        resourceLimits: WORKER_LIMITS,
        transferList: [port2],
      });
    } catch (error) {
      // The environment's refusal, not the user's request: the app runs on, unwatched. Nothing
      // was started yet (no timer, no process listeners), so there is nothing to undo but the port.
      this.#worker = undefined;
      port1.close();
      this.#readySettled = true;
      this.#lose(`not watching: ${refusal(error)}`);
      return;
    }
    this.#worker = worker;
    if (table !== undefined && threads !== undefined) {
      publishTable(threads, pool === undefined ? THREADS_KEY : POOL_KEY);
      watchChildren(table);
      this.#table = table;
    }
    if (deniedFile !== undefined) {
      const still = options.log === 'off' ? 'blocks still reach your listeners' : 'events are still written to stderr';
      say(
        `[pid ${process.pid}] the events file is not written: the permission model denies writing ${deniedFile} (add --allow-fs-write=${dirname(deniedFile)}); ${still}`,
        options,
        'LOOPWATCH_EVENTS_FILE',
      );
    }
    if (noInspector !== undefined) {
      const lost = options.profiler ? 'without their stack or profile' : 'without their stack';
      say(`[pid ${process.pid}] blocks are reported ${lost}: ${noInspector}`, options, 'LOOPWATCH_NO_INSPECTOR');
    }
    if (pool === undefined) {
      this.#timer = setInterval(beat, beatMs);
      this.#timer.unref();
      this.#pressure.start();
    }

    void this.#ready
      .finally(() => {
        this.#readySettled = true;
        worker.unref();
      })
      .catch(() => undefined);

    // Listeners go on before unref(): a 'message' listener added later would ref them again.
    port1.on('message', (message: FromWorker) => this.#receive(message, settle));
    port1.unref();
    // Whatever ends the worker other than stop() ends the watching: say so, once.
    worker.on('error', (error) => {
      debug('worker failed: %s', error.stack ?? String(error));
      this.#lose(
        this.#readySettled
          ? `stopped watching: the monitor worker failed: ${error.message}`
          : `not watching: the monitor worker failed to start: ${error.message}${loadHint(error)}`,
      );
    });
    worker.on('exit', (code) => {
      debug('worker exited with code %d', code);
      if (this.#stopped === undefined)
        this.#lose(
          this.#readySettled
            ? `stopped watching: the monitor worker exited (code ${code})`
            : `not watching: the monitor worker exited (code ${code}) before it was ready`,
        );
    });
    worker.unref();

    process.on('exit', this.#onExit);
    process.on('beforeExit', this.#onBeforeExit);
    if (options.shutdownTimeoutMs !== undefined) for (const name of SHUTDOWN_SIGNALS) process.on(name, this.#onSignal);
    debug('started: threshold %d ms, beat every %d ms', options.thresholdMs, beatMs);
  }

  /**
   * This monitor cannot watch (any more): stop the heartbeat and the process listeners, reject
   * `ready` with a coded error, answer waiting settle() calls, and say it in one line. Once.
   */
  #lose(message: string): void {
    if (this.#lost !== undefined || this.#stopped !== undefined) return;
    const error = new LoopwatchError('ERR_LOOPWATCH_NOT_WATCHING', message);
    this.#lost = error;
    this.#pressure.stop();
    if (this.#timer !== undefined) clearInterval(this.#timer);
    if (this.#resourcesTimer !== undefined) clearInterval(this.#resourcesTimer);
    process.off('exit', this.#onExit);
    process.off('beforeExit', this.#onBeforeExit);
    for (const name of SHUTDOWN_SIGNALS) process.off(name, this.#onSignal);
    this.#settles.releaseAll();
    this.#rejectReady(error);
    say(`[pid ${process.pid}] ${message}`, this.options, 'LOOPWATCH_NOT_WATCHING');
  }

  /**
   * Reading `ready` means someone waits for it: keep the process alive until the worker has
   * armed (tens of milliseconds), so `await monitor.ready` at the top level of an otherwise
   * idle module does not end the process with an unsettled promise.
   */
  get ready(): Promise<MonitorStatus> {
    if (!this.#readySettled && this.#stopped === undefined && this.#lost === undefined) this.#worker?.ref();
    return this.#ready;
  }

  #receive(message: FromWorker, settle: { resolve: (s: MonitorStatus) => void } | undefined): void {
    switch (message.code) {
      case FROM_WORKER.READY:
        settle?.resolve({
          stackCapture: message.stackCapture,
          reason: message.reason,
          profiler: message.profiler,
          health: message.health,
          telemetry: message.telemetry,
        });
        return;
      case FROM_WORKER.EXIT:
        // The worker has written its report; the exit handlers (the app's too) still run.
        process.exit(message.exitCode);
        return;
      case FROM_WORKER.EVENT:
        this.#deliver(message.event);
        return;
      case FROM_WORKER.SETTLED:
        this.#settles.answer(message.seq);
        return;
      case FROM_WORKER.WARNING:
        // Already on stderr (the worker writes it there itself, in case this thread is blocked).
        if (!message.printed) warn(message.message, message.warningCode);
        return;
      default:
        warn(`unknown message from the monitor worker: ${JSON.stringify(message)}`, 'LOOPWATCH_PROTOCOL');
    }
  }

  get [SHARED_STATE](): SharedState {
    return {
      buffer: this.#buffer,
      tally: this.#tally,
      watching: this.#worker !== undefined && this.#lost === undefined && this.#stopped === undefined,
    };
  }

  on(event: 'block', listener: (event: BlockEvent) => void): this;
  on(event: 'hang', listener: (event: HangEvent) => void): this;
  on(event: 'block' | 'hang', listener: ((event: BlockEvent) => void) | ((event: HangEvent) => void)): this {
    checkListener(event, listener);
    (this.#listeners[event] as Set<typeof listener>).add(listener);
    return this;
  }

  off(event: 'block', listener: (event: BlockEvent) => void): this;
  off(event: 'hang', listener: (event: HangEvent) => void): this;
  off(event: 'block' | 'hang', listener: ((event: BlockEvent) => void) | ((event: HangEvent) => void)): this {
    checkListener(event, listener);
    (this.#listeners[event] as Set<typeof listener>).delete(listener);
    return this;
  }

  markReady(): void {
    if (Atomics.load(this.#i32, I32.READY) === 1) return;
    Atomics.store(this.#i32, I32.READY_SEQ, Atomics.load(this.#i32, I32.SEQ));
    Atomics.store(this.#i32, I32.READY, 1);
  }

  exitWithin(ms: number): void {
    if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 1 || ms > MAX_EXIT_WITHIN_MS) {
      throw new LoopwatchError(
        'ERR_LOOPWATCH_INVALID_OPTION',
        `exitWithin(ms): ${mustBe('ms', `an integer from 1 to ${MAX_EXIT_WITHIN_MS}`, String(ms))}`,
      );
    }
    this.#armExitDeadline(ms, 'exitWithin()');
  }

  #armExitDeadline(ms: number, cause: string): void {
    const worker = this.#worker;
    // Not watching: there is no one to enforce a deadline (the line at start-up said so).
    if (this.#stopped !== undefined || this.#lost !== undefined || worker === undefined) return;
    try {
      worker.postMessage({ code: TO_WORKER.EXIT_WITHIN, deadline: Date.now() + ms, limitMs: ms, reason: cause });
      // What keeps the loop alive can only be seen from here, while the loop still turns:
      // tell the worker now and again until the end (a timer that keeps nothing alive).
      const tell = (): void => {
        try {
          worker.postMessage({ code: TO_WORKER.RESOURCES, resources: activeResources() });
        } catch (error) {
          debug('cannot gather the active resources: %s', String(error));
        }
      };
      tell();
      if (this.#resourcesTimer === undefined) {
        this.#resourcesTimer = setInterval(tell, RESOURCES_EVERY_MS);
        this.#resourcesTimer.unref();
      }
    } catch (error) {
      warn(
        `cannot arm the exit deadline: ${error instanceof Error ? error.message : String(error)}`,
        'LOOPWATCH_EXIT_DEADLINE',
      );
    }
  }

  settle(): Promise<void> {
    const worker = this.#worker;
    if (this.#stopped !== undefined || this.#lost !== undefined || worker === undefined) return Promise.resolve();
    // This thread runs, so any block has ended: say so now rather than at the next timer beat.
    this.#beat();
    return this.#settles.wait((seq) => {
      try {
        worker.postMessage({ code: TO_WORKER.SETTLE, seq });
        return true;
      } catch {
        return false;
      }
    });
  }

  useMeterProvider(provider: MeterProviderLike): () => void {
    if (!isObject(provider) || typeof (provider as { getMeter?: unknown }).getMeter !== 'function') {
      throw new LoopwatchError(
        'ERR_LOOPWATCH_INVALID_OPTION',
        'useMeterProvider(provider): provider must be an OpenTelemetry MeterProvider (with getMeter())',
      );
    }
    const record = mainThreadInstruments(provider);
    const onBlock = (event: BlockEvent): void => record.block(event);
    const onHang = (event: HangEvent): void => record.hang(event);
    this.on('block', onBlock);
    this.on('hang', onHang);
    return () => {
      this.off('block', onBlock);
      this.off('hang', onHang);
    };
  }

  trackContext<T>(
    storage: { getStore(): T | undefined },
    toAttributes: (store: T) => Record<string, unknown> | undefined,
  ): () => void {
    return trackContext(storage, toAttributes);
  }

  loadShedder(options?: LoadShedderOptions): LoadShedder {
    const pressure = this.#pressure;
    return loadShedder((maxLagMs) => pressure.state(maxLagMs), this.options.pressure.maxLagMs, options);
  }

  isUnderPressure(): PressureState {
    return this.#pressure.state();
  }

  stop(): Promise<void> {
    if (this.#stopped !== undefined) return this.#stopped;
    this.#pressure.stop();
    if (this.#timer !== undefined) clearInterval(this.#timer);
    if (this.#resourcesTimer !== undefined) clearInterval(this.#resourcesTimer);
    process.off('exit', this.#onExit);
    process.off('beforeExit', this.#onBeforeExit);
    for (const name of SHUTDOWN_SIGNALS) process.off(name, this.#onSignal);
    untrackAll();
    const global = globalThis as Global;
    if (global[SINGLETON] === this) Reflect.deleteProperty(global, SINGLETON);
    this.#port.close();
    this.#settles.releaseAll();
    // The worker closes its inspector session and ends itself; terminate() only if it does not.
    const worker = this.#worker;
    if (worker === undefined || this.#lost !== undefined) {
      // Never started, or already gone: nothing to wait for.
      this.#stopped = Promise.resolve();
      return this.#stopped;
    }
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

  #deliver(event: LoopwatchEvent): void {
    const listeners = (event.type === 'hang' ? this.#listeners.hang : this.#listeners.block) as Set<
      (event: LoopwatchEvent) => void
    >;
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        warn(
          `a '${event.type}' listener threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
          'LOOPWATCH_LISTENER',
        );
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
    if (this.#lost !== undefined) return;
    if (Atomics.load(i32, I32.BLOCKED) === 1) {
      const ack = Atomics.load(i32, I32.ACK);
      clearInterval(this.#timer);
      // The last beat: the block is over (the loop is running the exit handlers).
      this.#stamp();
      Atomics.add(i32, I32.SEQ, 1);
      Atomics.wait(i32, I32.ACK, ack, EXIT_FLUSH_MS);
    }
    // Worker threads' blocks end with the process: their `ended` events too.
    if (this.#table !== undefined) flushThreadsAtExit(this.#table, Date.now() + EXIT_FLUSH_MS);
    // The profiler's session, and the one that adopts worker threads, stay connected all along;
    // a connected session makes process.exit() print "Waiting for the debugger to
    // disconnect...". Let the worker close them, and hand its last telemetry (the block that
    // just ended, the final counts) to the exporters.
    if (
      Atomics.load(i32, I32.PROFILING) === 1 ||
      Atomics.load(i32, I32.TELEMETRY) === 1 ||
      Atomics.load(i32, I32.THREADS_SESSION) === 1
    )
      Atomics.wait(i32, I32.DETACHED, 0, EXIT_FLUSH_MS);
    // Events the loop had no chance to deliver still reach the listeners.
    for (let entry = receiveMessageOnPort(this.#port); entry !== undefined; entry = receiveMessageOnPort(this.#port)) {
      const message = entry.message as FromWorker;
      if (message.code === FROM_WORKER.EVENT) this.#deliver(message.event);
    }
  }
}

function checkListener(event: unknown, listener: unknown): asserts event is 'block' | 'hang' {
  if (event !== 'block' && event !== 'hang') {
    throw new LoopwatchError(
      'ERR_LOOPWATCH_INVALID_OPTION',
      `unknown event ${JSON.stringify(event)}; the monitor emits "block" and "hang"`,
    );
  }
  if (typeof listener !== 'function') {
    throw new LoopwatchError(
      'ERR_LOOPWATCH_INVALID_OPTION',
      mustBe(`the '${event}' listener`, 'a function', typeof listener),
    );
  }
}

/**
 * Tells the person what loopwatch cannot do here: one `loopwatch:` line on stderr, or a process
 * warning when its stderr report is off (as the worker's warnings are).
 */
function say(message: string, options: ResolvedOptions, code: string): void {
  if (options.log === 'off') {
    warn(message, code);
    return;
  }
  try {
    writeSync(2, `loopwatch: ${message}\n`);
  } catch {
    // stderr is gone
  }
}

/**
 * The events file, when the permission model denies this process writing it. The worker is
 * spawned with an execArgv of its own, and Node then lets it write anywhere (seen on Node 20-26):
 * loopwatch keeps to the app's permissions itself.
 */
function eventsFileDenied(file: string | undefined): string | undefined {
  const permission = (process as { permission?: { has(scope: string, reference?: string): boolean } }).permission;
  if (file === undefined || permission === undefined) return undefined;
  try {
    return permission.has('fs.write', file) ? undefined : file;
  } catch {
    return undefined;
  }
}

/** Why the monitor worker could not be created, and how to get it back. */
function refusal(error: unknown): string {
  if ((error as { code?: unknown } | null)?.code === 'ERR_ACCESS_DENIED')
    return 'the permission model denies worker threads (add --allow-worker)';
  return `the monitor worker could not be created: ${error instanceof Error ? error.message : String(error)}`;
}

/** A worker file that is not there is, in practice, loopwatch bundled without its worker. */
function loadHint(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') return '';
  return " (a bundle that left out loopwatch's worker file, dist/worker/index.js? keep loopwatch external to the bundle, installed in node_modules)";
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

/** The shared state of the monitor running in this thread, if one was started. */
export function sharedState(): SharedState | undefined {
  const running = (globalThis as Global)[SINGLETON] as { [SHARED_STATE]?: SharedState } | undefined;
  return running?.[SHARED_STATE];
}

/**
 * Starts the monitor (or returns the one already running in this process).
 * Throws `LoopwatchError` for invalid options; never throws after it has returned.
 */
export function start(options?: StartOptions): Monitor {
  if (!isMainThread) {
    throw new LoopwatchError(
      'ERR_LOOPWATCH_UNSUPPORTED',
      'loopwatch monitors the main thread; start() cannot be called from a worker thread',
    );
  }
  const warnings: string[] = [];
  const resolved = resolveOptions(options, process.env, warnings);
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
  for (const warning of warnings) warn(warning, 'LOOPWATCH_OTEL');
  return monitor;
}

/** The vitest `threads` pool's monitor in this process, if the plugin started one. */
const POOL: unique symbol = Symbol.for('loopwatch.pool-monitor.v1');
type PoolGlobal = typeof globalThis & { [POOL]?: MonitorImpl | undefined };

/**
 * Starts the monitor of a test runner's worker-thread pool (vitest's `threads` and `vmThreads`
 * pools), on the runner's main thread, before the pool starts: one monitor worker for every pool
 * thread, each one a slot of its table that the thread joins from the test integration's setup
 * (main/feed.ts) and gets its own events back through. It watches no main thread — the runner's
 * main thread is not the tests' — and is not the process's monitor: a preloaded one (`loopwatch
 * run`) keeps watching the runner with its own settings. Once per process: a second call returns
 * the first monitor.
 *
 * The events file is written; a hang is reported (`hang` event) and the thread left running, for
 * the caller to end the run: nothing can stop a thread spinning in JavaScript from outside it
 * without ending the process. No stderr report, profiler, health endpoint or telemetry: the
 * integration reports, and the process-wide figures would be about a thread nobody watches.
 */
export function startPoolMonitor(options: StartOptions): Monitor {
  const global = globalThis as PoolGlobal;
  const running = global[POOL];
  if (running !== undefined) return running;
  const resolved: ResolvedOptions = {
    ...resolveOptions({ ...options, log: 'off', profiler: false }, {}, []),
    hangAction: 'none',
  };
  const monitor = new MonitorImpl(resolved, { feed: `loopwatch.pool-feed.v1:${process.pid}` });
  global[POOL] = monitor;
  return monitor;
}

/** Starts with already-validated options (used by `loopwatch/register`). */
export function startResolved(resolved: ResolvedOptions): Monitor {
  const global = globalThis as Global;
  return (global[SINGLETON] ??= new MonitorImpl(resolved));
}
