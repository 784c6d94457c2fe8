/** Public types of loopwatch. Everything here is part of the documented contract. */

/** How loopwatch writes its human report to stderr. */
export type LogFormat = 'pretty' | 'json' | 'off';

/** Options of {@link start}. Every field is optional; see `ResolvedOptions` for defaults. */
export interface StartOptions {
  /**
   * A block is reported once the loop has not turned for this long, in milliseconds.
   * Must be a finite number ≥ 1.
   * @default 100 (env `LOOPWATCH_THRESHOLD_MS`)
   */
  readonly thresholdMs?: number | undefined;
  /**
   * Append every block event as one JSON line to this file, written from the monitor
   * worker so it survives a process that dies during the block. The folder must exist.
   * @default undefined — no file (env `LOOPWATCH_EVENTS_FILE`)
   */
  readonly eventsFile?: string | undefined;
  /**
   * The report written to stderr from the worker while the loop is blocked:
   * `pretty` (a short human report), `json` (one JSON line per event) or `off`.
   * @default 'pretty' (env `LOOPWATCH_LOG`)
   */
  readonly log?: LogFormat | undefined;
  /**
   * Capture the main thread's JavaScript stack when a block is detected.
   * @default true
   */
  readonly captureStack?: boolean | undefined;
  /**
   * How many frames a captured stack keeps at most (the innermost ones). Bounds the cost of
   * a capture on the blocked thread, whatever the depth of its stack. An integer 1–1000.
   * @default 64
   */
  readonly maxFrames?: number | undefined;
  /**
   * How long, in milliseconds, the worker waits for the blocked thread to answer a stack
   * capture before it reports the block without a stack. JavaScript answers within a
   * millisecond or two; a thread inside one long native call answers only when the call
   * returns, and that answer goes into the `ended` event, marked `stackTiming: "late"`.
   * This delays the alert of such blocks by at most this long. An integer 10–60000.
   * @default 50
   */
  readonly captureTimeoutMs?: number | undefined;
  /**
   * Keep a V8 sampling profiler (10 ms) running on the main thread, so that a block inside one
   * long native call (a huge `JSON.parse`, `pbkdf2Sync`, `execSync`), whose stack can only be
   * taken after the call returns, is still attributed: the `ended` event gets a `profile`
   * field with the stack seen most during the block. Costs ~0.15% CPU, and 5–30 ms of the
   * main thread once at start (more when started with a large heap: start it early, with
   * `loopwatch/register`). Not started while an inspector port is open.
   * @default false (env `LOOPWATCH_PROFILER=on|off`)
   */
  readonly profiler?: boolean | undefined;
}

/** Options after validation: every field present, frozen. */
export interface ResolvedOptions {
  readonly thresholdMs: number;
  readonly eventsFile: string | undefined;
  readonly log: LogFormat;
  readonly captureStack: boolean;
  readonly maxFrames: number;
  readonly captureTimeoutMs: number;
  readonly profiler: boolean;
}

/** One frame of a captured stack, innermost first. Positions are 1-based and source-mapped. */
export interface StackFrame {
  /** Function name as V8 reports it (`Class.method`, `<anonymous>` for top-level code). */
  readonly function: string;
  /** A file system path (ESM `file://` URLs converted), or `node:…` for Node's internals. */
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Where the frame was mapped from when a source map applied (the generated position). */
  readonly generated?: { readonly file: string; readonly line: number; readonly column: number };
  /** True for a frame reached through `await` (V8's async stack trace). */
  readonly async?: boolean;
}

/**
 * How the stack relates to the block:
 * - `during`: captured while the loop was blocked, answered promptly — the culprit's stack;
 * - `late`: the blocked thread answered only after a delay or after the loop had moved on
 *   (typical of one long native call, such as a huge `JSON.parse`): the frames show where the
 *   thread was when it answered, which may be after the culprit returned;
 * - `none`: no stack (capture disabled, unavailable, or no answer).
 */
export type StackTiming = 'during' | 'late' | 'none';

/**
 * What the blocked thread was doing in the kernel when it could not answer a stack capture
 * (Linux only, read from /proc): `running` on the CPU inside native code (a huge JSON.parse, a
 * sync hash), `sleeping` in a wait (`waitingIn` is the kernel function, e.g. `do_epoll_wait`
 * for execSync, with the `children` it waits for), `disk` in uninterruptible I/O.
 */
export interface ThreadState {
  readonly state: 'running' | 'sleeping' | 'disk' | 'other';
  readonly waitingIn?: string;
  /** Command lines of the thread's child processes (execSync, spawnSync). */
  readonly children?: readonly string[];
}

/** The phase of the process a block happened in. */
export type Phase = 'startup' | 'running';

/**
 * A block event, as written to the events file (one JSON object per line) and delivered to
 * `monitor.on('block')`. An `ongoing` event is emitted once when the threshold is crossed
 * (with the stack captured then); an `ended` event with the same `id` when the loop recovers.
 */
export interface BlockEvent {
  readonly type: 'block';
  /** Sequence number of the block in this process, from 1. */
  readonly id: number;
  readonly state: 'ongoing' | 'ended';
  readonly phase: Phase;
  readonly thresholdMs: number;
  /**
   * `ongoing`: how long the loop had not turned when the block was detected.
   * `ended`: the full duration of the block (time the loop spent away from idle between the
   * last heartbeat before the block and the first one after it).
   */
  readonly durationMs: number;
  /** ISO-8601 time the block started (refined in the `ended` event). */
  readonly startedAt: string;
  readonly pid: number;
  readonly thread: 'main';
  readonly stack: readonly StackFrame[];
  readonly stackTiming: StackTiming;
  /** `ended` only: the process was exiting when the block ended. */
  readonly exiting?: boolean;
  /** Present (true) when the stack had more frames than `maxFrames` kept. */
  readonly truncated?: boolean;
  /** `ongoing` only, when the thread did not answer the capture in time (Linux). */
  readonly threadState?: ThreadState;
  /**
   * `ended` only, with the `profiler` option: what the sampling profiler saw during the block —
   * the samples taken, the share of them in the culprit's frame, and the most frequent stack
   * there. Names the culprit even of a block inside one long native call.
   */
  readonly profile?: { readonly samples: number; readonly share: number; readonly stack: readonly StackFrame[] };
}

/** A running monitor. There is one per process; `start()` returns the same one. */
export interface Monitor {
  /** Resolves once the watchdog is armed in the worker. Never rejects unless awaited. */
  readonly ready: Promise<MonitorStatus>;
  /** The validated options in force. */
  readonly options: ResolvedOptions;
  /**
   * Listen to block events on the main thread. They are delivered after the loop recovers
   * (the main thread cannot run JavaScript while blocked). A throwing listener is reported as
   * a process warning; it never breaks the monitor.
   */
  on(event: 'block', listener: (event: BlockEvent) => void): this;
  off(event: 'block', listener: (event: BlockEvent) => void): this;
  /** Stop watching, end the worker. Resolves when the worker is gone. */
  stop(): Promise<void>;
}

/** What the worker found when it armed. */
export interface MonitorStatus {
  /** Whether the main thread's stack can be captured (needs Node's inspector module). */
  readonly stackCapture: boolean;
  /** Why stack capture is unavailable, when it is. */
  readonly reason: string | undefined;
  /** Whether the sampling profiler runs (the `profiler` option, and it could start). */
  readonly profiler: boolean;
}
