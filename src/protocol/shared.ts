/**
 * The only module both threads import: the layout of the shared heartbeat buffer and the
 * closed set of messages the worker and the main thread exchange.
 *
 * The buffer is one SharedArrayBuffer read through an Int32Array (counters and flags,
 * touched with Atomics) and a Float64Array (times in epoch milliseconds). Float slots are
 * written before the sequence counter is bumped with `Atomics.add`, which orders them.
 */
import type { ActiveResources, HealthAddress, LoopwatchEvent, MonitorStatus, ResolvedOptions } from '../types.js';

/** Int32 slots. */
export const I32 = {
  /** Main: bumped by every heartbeat. */
  SEQ: 0,
  /** Worker: 1 while a reported block is in progress (main waits at exit for its `ended`). */
  BLOCKED: 1,
  /**
   * Main: 1 once the process is exiting ('beforeExit', 'exit'); a silent loop is then not a
   * block, and the worker finishes any block in progress and acknowledges. A beat clears it.
   */
  EXITING: 2,
  /** Worker: bumped after it has written an `ended` event (main waits on it at exit). */
  ACK: 3,
  /** Main: 0 until the first heartbeat ran, then 1. */
  LOOP_TURNED: 4,
  /** Main: 1 while an inspector port is open (`--inspect`, SIGUSR1, `inspector.open()`). */
  INSPECTOR: 5,
  /** Main: set to 1 and notified in the 'exit' handler (wakes the worker's Atomics.waitAsync). */
  EXIT_NOTIFY: 6,
  /** Worker: 1 once it has closed every inspector session at exit (main waits on it). */
  DETACHED: 7,
  /** Worker: 1 while the sampling profiler's session is connected. */
  PROFILING: 8,
  /** Main: 1 once the app called `monitor.markReady()` (warm-up done). */
  READY: 9,
  /** Main: the heartbeat sequence number when `markReady()` was called (warm-up lag ends there). */
  READY_SEQ: 10,
  /** Worker: 1 while telemetry exporters run (main waits at exit for their last flush). */
  TELEMETRY: 11,
  /**
   * Watched thread (worker threads only): 1 while the thread sits in `Atomics.wait` — parked,
   * as an idle piscina thread is, not blocked. A silent loop is then not a block. Set after a
   * beat and cleared after another (see main/waits.ts), so the silence counted never includes
   * the wait.
   */
  PARKED: 12,
  /**
   * Worker: the heartbeat sequence number up to which `F64.LAG_RECENT` counts the beats, stored
   * after it. The main thread's pressure check reads the ring's later beats itself, so a beat
   * the worker has not drained yet (the one right after a block) is never missed.
   */
  LAG_RECENT_SEQ: 13,
  /** Main: the outcome of the app's last health check (`CHECK` codes; 0 while there is none). */
  CHECK: 14,
  /**
   * Worker: 1 while the session to the app's worker threads stays connected (it adopts the
   * threads that did not run the preload; the vitest pool's monitor holds it for its pool
   * threads): at exit, main waits for DETACHED as for PROFILING.
   */
  THREADS_SESSION: 15,
} as const;
/** A multiple of 2, so that the Float64 slots after them are 8-byte aligned. */
export const I32_SLOTS = 16;

/** Values of `I32.CHECK`, written by the main thread's health-check runner (main/pressure.ts). */
export const CHECK = {
  NONE: 0,
  /** The first check has not settled yet. */
  PENDING: 1,
  OK: 2,
  /** It returned (or resolved to) a falsy value. */
  FAILED: 3,
  /** It threw or rejected. */
  THREW: 4,
  /** It did not settle within `healthCheckTimeoutMs`. */
  TIMED_OUT: 5,
} as const;

/** Float64 slots (indexes into a Float64Array over the same buffer, after the Int32 slots). */
export const F64 = {
  /** Main: epoch ms (`performance.timeOrigin + performance.now()`) of the last heartbeat. */
  BEAT_TIME: 0,
  /** Main: `performance.nodeTiming.idleTime` at the last heartbeat (ms the loop spent idle). */
  BEAT_IDLE: 1,
  /**
   * Worker: the p99 of the loop's lag over the recent window, ms (read by the main thread's
   * load shedder, which must not compute anything itself).
   */
  LAG_P99: 2,
  /**
   * Worker: the largest lag of one beat over the last second or so (`RECENT_LAG_MS`), ms, warm-up
   * beats left out. Written before `I32.LAG_RECENT_SEQ`.
   */
  LAG_RECENT: 3,
  /** Worker: the loop's utilization (0–1) over the last second or so, a block in progress counted busy. */
  UTILIZATION: 4,
  /** Worker: the process's resident set size, bytes (process-wide, so the worker can read it). */
  RSS: 5,
  /**
   * Main: the main thread's V8 heap in use, bytes. Only this thread can read its own isolate's
   * heap (`process.memoryUsage()` in the worker gives the worker's), so the main thread samples
   * it on an unref'd timer, and only when a heap limit is set.
   */
  HEAP_USED: 6,
  /**
   * Worker: the rest of the lag's figures over the metrics' window, ms, written with LAG_P99
   * (every drain, ~250 ms) for the prom-client bridge, which reads them at scrape time.
   */
  LAG_MIN: 7,
  LAG_MAX: 8,
  LAG_MEAN: 9,
  LAG_STDDEV: 10,
  LAG_P50: 11,
  LAG_P90: 12,
  /**
   * Worker: the loop's utilization over the metrics' window, 0–1 (written with the lag): what
   * `nodejs.eventloop.utilization` exports, where UTILIZATION is the pressure decision's last second.
   */
  METRIC_UTILIZATION: 13,
  /** Worker: seconds the loop spent busy since the monitor started (written with the lag). */
  LOOP_ACTIVE_S: 14,
  /** Worker: seconds the loop spent idle since the monitor started (written with the lag). */
  LOOP_IDLE_S: 15,
} as const;
export const F64_SLOTS = 16;

/**
 * The window of `F64.LAG_RECENT` and `F64.UTILIZATION`, ms: the pressure decision's "recent".
 * Long enough that the first requests after a block are shed, short enough that the app takes
 * traffic again a second after the loop recovered (under-pressure samples every second too).
 */
export const RECENT_WINDOW_MS = 1000;

/**
 * The lag ring: beat number `seq` writes how late it ran (µs past its period, ≥ 0) at
 * `seq & (LAG_RING_SIZE - 1)` (a power of two, so a wrapped, negative seq indexes right too) before bumping SEQ; the worker drains the entries since its last
 * visit. 1024 entries last ≥ 1 s at the fastest beat (1 ms), and the worker drains every
 * 250 ms.
 */
export const LAG_RING_SIZE = 1024;

export const F64_BYTE_OFFSET = I32_SLOTS * Int32Array.BYTES_PER_ELEMENT;
export const RING_BYTE_OFFSET = F64_BYTE_OFFSET + F64_SLOTS * Float64Array.BYTES_PER_ELEMENT;
export const BUSY_RING_BYTE_OFFSET = RING_BYTE_OFFSET + LAG_RING_SIZE * Int32Array.BYTES_PER_ELEMENT;
export const SHARED_BYTES = BUSY_RING_BYTE_OFFSET + LAG_RING_SIZE * Int32Array.BYTES_PER_ELEMENT;

export interface SharedViews {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly lagRing: Int32Array;
  /**
   * Main: the busy ring, indexed as the lag ring: beat number `seq` writes how long the loop was
   * busy since the beat before it (µs, its idle time subtracted) before bumping SEQ. The worker
   * reads it once, when it arms, to find blocks that were over before it watched (see
   * worker/history.ts).
   */
  readonly busyRing: Int32Array;
}

/**
 * The views of one watched thread's heartbeat region: the main thread's buffer at offset 0, or
 * one slot of the worker-thread table (see protocol/threads.ts), laid out the same way.
 */
export function viewsOf(buffer: SharedArrayBuffer, byteOffset = 0): SharedViews {
  return {
    i32: new Int32Array(buffer, byteOffset, I32_SLOTS),
    f64: new Float64Array(buffer, byteOffset + F64_BYTE_OFFSET, F64_SLOTS),
    lagRing: new Int32Array(buffer, byteOffset + RING_BYTE_OFFSET, LAG_RING_SIZE),
    busyRing: new Int32Array(buffer, byteOffset + BUSY_RING_BYTE_OFFSET, LAG_RING_SIZE),
  };
}

/** Epoch milliseconds with sub-millisecond resolution, comparable across threads. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * `Symbol.for()` key of the function `monitor.trackContext()` installs on `globalThis`, which
 * the capture expression calls on the main thread to read the app's AsyncLocalStorage stores.
 */
export const CONTEXT_HOOK = 'loopwatch.context.v1';

/** Worker → main message codes: a closed set; anything else is a bug and is reported. */
export const FROM_WORKER = {
  /** The watchdog is armed; says whether stacks can be captured and where health is served. */
  READY: 'ready',
  /** An event (block ongoing/ended, hang) for the main thread's listeners. */
  EVENT: 'event',
  /** Something went wrong in the worker; becomes a process warning, never an exception. */
  WARNING: 'warning',
  /**
   * The exit deadline passed while the loop still runs (open handles keep the process alive):
   * the main thread ends the process itself, so its exit handlers run.
   */
  EXIT: 'exit',
  /** The answer to SETTLE: every event before this message has been sent. */
  SETTLED: 'settled',
} as const;

/** Main → worker message codes. */
export const TO_WORKER = {
  /** Stop watching and close everything; the worker answers with nothing and exits. */
  STOP: 'stop',
  /** The process must have exited by `deadline` (epoch ms), or the worker reports and ends it. */
  EXIT_WITHIN: 'exit-within',
  /** The latest view of what keeps the loop alive, gathered while an exit deadline runs. */
  RESOURCES: 'resources',
  /** Answer SETTLED once every block that ended before this message has been sent as an event. */
  SETTLE: 'settle',
} as const;

export type FromWorker =
  | {
      readonly code: typeof FROM_WORKER.READY;
      readonly stackCapture: boolean;
      readonly reason: string | undefined;
      readonly profiler: boolean;
      readonly health: HealthAddress | undefined;
      readonly telemetry: MonitorStatus['telemetry'];
    }
  | { readonly code: typeof FROM_WORKER.EVENT; readonly event: LoopwatchEvent }
  | {
      readonly code: typeof FROM_WORKER.WARNING;
      readonly message: string;
      readonly warningCode: string;
      readonly printed: boolean;
    }
  | { readonly code: typeof FROM_WORKER.EXIT; readonly exitCode: number }
  | { readonly code: typeof FROM_WORKER.SETTLED; readonly seq: number };

export type ToWorker =
  | { readonly code: typeof TO_WORKER.STOP }
  | {
      readonly code: typeof TO_WORKER.EXIT_WITHIN;
      readonly deadline: number;
      readonly limitMs: number;
      readonly reason: string;
    }
  | { readonly code: typeof TO_WORKER.RESOURCES; readonly resources: ActiveResources }
  | { readonly code: typeof TO_WORKER.SETTLE; readonly seq: number };

/** What the main thread hands the worker at spawn time (`workerData`). */
export interface WorkerInit {
  readonly buffer: SharedArrayBuffer;
  /** Where the worker sends its messages (`FromWorker`). */
  readonly port: import('node:worker_threads').MessagePort;
  readonly options: ResolvedOptions;
  readonly pid: number;
  /**
   * The app's command line: in the worker, `process.argv` is the worker's script and
   * `execArgv` is empty (the OpenTelemetry resource's `process.command_args` is the app's).
   */
  readonly command?: { readonly argv: readonly string[]; readonly execArgv: readonly string[] };
  /** Absolute path of loopwatch's own `dist` folder: frames inside it are dropped. */
  readonly ownDir: string;
  /** The beat period the main thread uses, in ms. */
  readonly beatMs: number;
  /** Epoch ms the monitor started (the main thread's first stamp), for NODE_DEBUG=loopwatch. */
  readonly startedAt: number;
  /**
   * Why the watched thread's inspector cannot be reached (see main/inspector.ts), if it cannot:
   * the worker then never opens a session to it, since `connectToMainThread()` would abort the
   * process instead of throwing.
   */
  readonly noInspector?: string;
  /**
   * False for the vitest `threads` pool's monitor (main/monitor.ts, startPoolMonitor): it watches
   * no main thread — the one it was started from does not beat — only the pool threads that
   * join its table (`threads`, a feed table).
   */
  readonly watchMain?: false;
  /** The app's worker threads, each in its slot of this table (see protocol/threads.ts), when watched. */
  readonly threads?: import('./threads.js').ThreadsInit;
  /** Where the worker publishes its block counts for readers on the app's thread (see protocol/tally.ts). */
  readonly tally?: SharedArrayBuffer;
}
