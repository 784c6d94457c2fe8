/** Public types of loopwatch. Everything here is part of the documented contract. */

/** How loopwatch writes its human report to stderr. */
export type LogFormat = 'pretty' | 'json' | 'off';

/**
 * What the worker does when a block lasts `hangMs`: `none` reports it (a `hang` event);
 * `kill` reports it and ends the process with SIGKILL (exit status 137); `abort` with
 * SIGABRT (exit status 134, and a core dump where the system keeps them).
 */
export type HangAction = 'none' | 'kill' | 'abort';

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
   * taken after the call returns, is still named (`culprit.source: "profile"`), and the `ended`
   * event says where the block's time went (`profile.top`, `profile.gc`). Measured under
   * callgrind: ~48 M main-thread instructions once at start (5–16 ms; more with a large heap:
   * start it early, with `loopwatch/register`), then ~400 instructions a sample (≈ 0.001 % of a
   * core). Not started while an inspector port is open.
   *
   * `'all'`: on every watched worker thread too, so that a lone native call there is named as
   * well. Not the default: each worker thread's profiler costs ~2.7 MB of RSS and a sampling
   * thread (measured with 16 idle workers, bench/apps/pool.cjs).
   * @default true (env `LOOPWATCH_PROFILER=on|off|all`)
   */
  readonly profiler?: boolean | 'all' | undefined;
  /**
   * A folder to write each block's samples to, as a Chrome DevTools `.cpuprofile`
   * (`loopwatch-<pid>-<thread>-<id>.cpuprofile`, created with the folder if missing), named in
   * the `ended` event's `profileFile`. Open it in Chrome DevTools (Performance panel, "Load
   * profile") or speedscope. Needs the profiler.
   * @default undefined — no files (env `LOOPWATCH_PROFILE_DIR`)
   */
  readonly profileDir?: string | undefined;
  /**
   * Only blocks at least this long get a file, ms.
   * @default thresholdMs (env `LOOPWATCH_PROFILE_MIN_MS`)
   */
  readonly profileMinMs?: number | undefined;
  /**
   * At most this many files per process; the first ones are kept, later blocks get none (one
   * warning says so). An integer 1–10000.
   * @default 20 (env `LOOPWATCH_PROFILE_MAX_FILES`)
   */
  readonly profileMaxFiles?: number | undefined;
  /**
   * At most this many megabytes of files per process (same policy). 1–10000.
   * @default 50 (env `LOOPWATCH_PROFILE_MAX_MB`)
   */
  readonly profileMaxMb?: number | undefined;
  /**
   * A block that lasts this long is a hang: the worker writes a `hang` event (with the stack)
   * and applies `hangAction`. At least `thresholdMs`.
   * @default undefined — no hang watchdog (env `LOOPWATCH_HANG_MS`)
   */
  readonly hangMs?: number | undefined;
  /**
   * What to do with a hang: see {@link HangAction}. Needs `hangMs`.
   * @default 'none' (env `LOOPWATCH_HANG_ACTION`)
   */
  readonly hangAction?: HangAction | undefined;
  /**
   * After SIGTERM or SIGINT, when the app handles the signal itself (graceful shutdown), the
   * process must exit within this many milliseconds: otherwise the worker reports what kept
   * it (the blocked stack, or the open handles) and ends it, as `monitor.exitWithin()` does.
   * A signal the app does not handle keeps its default effect.
   * @default undefined — off (env `LOOPWATCH_SHUTDOWN_TIMEOUT_MS`)
   */
  readonly shutdownTimeoutMs?: number | undefined;
  /**
   * Serve `GET /livez` and `GET /readyz` from the worker on this TCP port (0: any free port,
   * see `ready`'s `health`). They answer while the main thread is frozen.
   * @default undefined — no port is opened (env `LOOPWATCH_HEALTH_PORT`)
   */
  readonly healthPort?: number | undefined;
  /**
   * The address the health endpoints listen on.
   * @default '127.0.0.1' (env `LOOPWATCH_HEALTH_HOST`)
   */
  readonly healthHost?: string | undefined;
  /**
   * `/livez` answers 503 once the loop has not turned for this long, in milliseconds.
   * @default `hangMs` when set, else 10000 (env `LOOPWATCH_LIVENESS_MS`)
   */
  readonly livenessMs?: number | undefined;
  /**
   * `/readyz` answers 503 while the p99 of the loop's lag over the last 10 s is above this,
   * in milliseconds.
   * @default `thresholdMs` (env `LOOPWATCH_READY_MAX_LAG_MS`)
   */
  readonly readyMaxLagMs?: number | undefined;
  /**
   * The app warms up after it has loaded (caches, connections, a first request): `/readyz`
   * answers 503 and blocks are in the `startup` phase until it calls `monitor.markReady()`.
   * Without it the process is ready once its loop first turns.
   * @default false (env `LOOPWATCH_WARMUP=on|off`)
   */
  readonly warmup?: boolean | undefined;
  /**
   * Which threads are watched: `all` — the main thread and every worker thread the app starts
   * (registered by `loopwatch/register` running in each of them, or by the monitor in one that
   * did not run it; see the README's "Worker threads"), or `main` — the main thread only.
   * @default 'all' (env `LOOPWATCH_THREADS=all|main`)
   */
  readonly threads?: ThreadsOption | undefined;
  /**
   * When the app is under pressure: the limits `monitor.isUnderPressure()`, `/readyz`,
   * `monitor.loadShedder()`, `loopwatch/fastify` and `loopwatch/express` all decide by. Each
   * limit but the lag is off unless set. Under `loopwatch/register`, the limits come from
   * `LOOPWATCH_PRESSURE_MAX_UTILIZATION`, `_MAX_HEAP_USED_BYTES` and `_MAX_RSS_BYTES`.
   */
  readonly pressure?: PressureOptions | undefined;
  /**
   * OpenTelemetry export from the monitor worker (metrics and block alerts as log records).
   * Every field defaults to the standard `OTEL_*` variable (read by `start()` too), so an app
   * whose OpenTelemetry is configured through the environment needs nothing here.
   */
  readonly otel?: OtelOptions | undefined;
}

/**
 * Option `pressure` of `start()`. The names follow loopwatch's own (`maxLagMs`, as in
 * `loadShedder()`); the README maps them to `@fastify/under-pressure`'s.
 */
export interface PressureOptions {
  /**
   * Under pressure while the loop lags more than this, in ms: a block in progress or just
   * ended, the largest lag of one heartbeat over the last second, or the p99 over the last 10 s.
   * @default `readyMaxLagMs` (which defaults to `thresholdMs`; env `LOOPWATCH_READY_MAX_LAG_MS`)
   */
  readonly maxLagMs?: number | undefined;
  /**
   * Under pressure while the event loop's utilization over the last second (0–1, a block in
   * progress counted as busy) is above this. A number above 0, at most 1.
   * @default undefined — off (env `LOOPWATCH_PRESSURE_MAX_UTILIZATION`)
   */
  readonly maxUtilization?: number | undefined;
  /**
   * Under pressure while the main thread's V8 heap in use is above this many bytes (sampled
   * every 250 ms).
   * @default undefined — off (env `LOOPWATCH_PRESSURE_MAX_HEAP_USED_BYTES`)
   */
  readonly maxHeapUsedBytes?: number | undefined;
  /**
   * Under pressure while the process's resident set size is above this many bytes (read by the
   * monitor worker every 250 ms, during a block too).
   * @default undefined — off (env `LOOPWATCH_PRESSURE_MAX_RSS_BYTES`)
   */
  readonly maxRssBytes?: number | undefined;
  /**
   * The app's own check (a database ping, a queue's depth), run on the main thread at start
   * and every `healthCheckIntervalMs`. Under pressure until it first returns, and whenever it
   * returns (or resolves to) a falsy value, throws, rejects, or takes longer than
   * `healthCheckTimeoutMs`. Its errors never reach the app.
   * @default undefined — none
   */
  readonly healthCheck?: (() => unknown) | undefined;
  /** How often the health check runs, ms. @default 1000 */
  readonly healthCheckIntervalMs?: number | undefined;
  /** A health check still pending after this long counts as failed (timed out), ms. @default 1000 */
  readonly healthCheckTimeoutMs?: number | undefined;
}

/** `pressure` after validation. */
export interface ResolvedPressure {
  readonly maxLagMs: number;
  readonly maxUtilization: number | undefined;
  readonly maxHeapUsedBytes: number | undefined;
  readonly maxRssBytes: number | undefined;
  /** Runs on the main thread only (never sent to the monitor worker). */
  readonly healthCheck: (() => unknown) | undefined;
  readonly healthCheckIntervalMs: number;
  readonly healthCheckTimeoutMs: number;
}

/** How the lag that crossed `maxLagMs` was measured. */
export type LagMeasure =
  /** The loop has not turned for this long past its heartbeat period: a block in progress or just over. */
  | 'blocked'
  /** The largest lag of one heartbeat over the last second (a block that ended, a stall). */
  | 'recent'
  /** The p99 of the heartbeats' lag over the last 10 s (a loop that keeps lagging). */
  | 'p99';

/** What the health check's last run said, when it said "under pressure". */
export type HealthCheckOutcome = 'pending' | 'failed' | 'threw' | 'timed-out';

/** One limit crossed: which one, the value measured, and the limit. */
export type PressureReason =
  | {
      readonly limit: 'maxLagMs';
      /** ms */
      readonly value: number;
      readonly max: number;
      readonly measure: LagMeasure;
    }
  | {
      readonly limit: 'maxUtilization' | 'maxHeapUsedBytes' | 'maxRssBytes';
      /** 0–1 for utilization, bytes for the others. */
      readonly value: number;
      readonly max: number;
    }
  | {
      readonly limit: 'healthCheck';
      readonly value: HealthCheckOutcome;
      /** What it returned or threw, or how long it was given. */
      readonly message: string;
    };

/** The answer of `monitor.isUnderPressure()`. */
export interface PressureState {
  readonly underPressure: boolean;
  /** Every limit crossed, in the order lag, utilization, heap, RSS, health check. Empty when not under pressure. */
  readonly reasons: readonly PressureReason[];
}

/**
 * The options `loopwatch/fastify` and `loopwatch/express` share: which monitor decides, and what
 * a request gets while the app is under pressure. The limits are the monitor's (`pressure`), so
 * that every shed point and `/readyz` agree.
 */
export interface ShedOptions {
  /** The monitor whose `isUnderPressure()` decides. @default the running monitor, or `start()`'s */
  readonly monitor?: Monitor | undefined;
  /** The status of the answer, 400–599. @default 503 */
  readonly statusCode?: number | undefined;
  /** The `Retry-After` header, in seconds (0–86400). @default 1 */
  readonly retryAfterS?: number | undefined;
  /** More headers (or ones that replace loopwatch's: `content-type`, `cache-control`, `retry-after`). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /**
   * The body: a string (sent as text/plain), an object (as JSON), or a function of the pressure
   * state returning either (a throwing function gives the default body).
   * @default `{"statusCode":503,"code":"LOOPWATCH_UNDER_PRESSURE","error":"Service Unavailable","message":"Service Unavailable"}`
   */
  readonly body?: string | Readonly<Record<string, unknown>> | ((state: PressureState) => unknown) | undefined;
}

/** Which threads the monitor watches (option `threads`). */
export type ThreadsOption = 'all' | 'main';

export type MetricsExporterKind = 'otlp' | 'prometheus' | 'console';
export type LogsExporterKind = 'otlp' | 'console';
export type OtlpProtocol = 'http/protobuf' | 'http/json';

/** `start({ otel })`: each field overrides its `OTEL_*` variable. */
export interface OtelOptions {
  /** `OTEL_SDK_DISABLED`: export nothing. */
  readonly disabled?: boolean | undefined;
  /** `OTEL_SERVICE_NAME`. */
  readonly serviceName?: string | undefined;
  /** `OTEL_RESOURCE_ATTRIBUTES`, added to the resource. */
  readonly resourceAttributes?: Readonly<Record<string, string>> | undefined;
  /** `OTEL_METRICS_EXPORTER`: default `none`, or `otlp` when an OTLP endpoint is set. */
  readonly metricsExporter?: MetricsExporterKind | 'none' | readonly (MetricsExporterKind | 'none')[] | undefined;
  /** `OTEL_LOGS_EXPORTER`: default `none`, or `otlp` when an OTLP endpoint is set. */
  readonly logsExporter?: LogsExporterKind | 'none' | readonly (LogsExporterKind | 'none')[] | undefined;
  /** `OTEL_EXPORTER_OTLP_ENDPOINT`: the base URL (`/v1/metrics`, `/v1/logs` are appended). */
  readonly endpoint?: string | undefined;
  /** `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`: the full URL. */
  readonly metricsEndpoint?: string | undefined;
  /** `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`: the full URL. */
  readonly logsEndpoint?: string | undefined;
  /** `OTEL_EXPORTER_OTLP_PROTOCOL`: `http/protobuf` (default) or `http/json`. */
  readonly protocol?: OtlpProtocol | undefined;
  /** `OTEL_EXPORTER_OTLP_HEADERS`, added to each request. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** `OTEL_METRIC_EXPORT_INTERVAL`, ms. Default 60000. */
  readonly exportIntervalMs?: number | undefined;
  /** `OTEL_EXPORTER_PROMETHEUS_HOST`. Default `localhost`. */
  readonly prometheusHost?: string | undefined;
  /** `OTEL_EXPORTER_PROMETHEUS_PORT`. Default 9464. */
  readonly prometheusPort?: number | undefined;
  /**
   * `LOOPWATCH_MAX_ALERTS_PER_MINUTE`: the most block and hang alert log records this process
   * exports per minute (a rolling budget: it refills continuously). Over it, alerts are not
   * exported but counted in `loopwatch.alerts.suppressed`, and one `loopwatch.alerts.suppressed`
   * log record sums them up when the storm is over. Block events, stderr, the events file and
   * the metrics are not capped. `0` exports no alert records. Default 60.
   */
  readonly maxAlertsPerMinute?: number | undefined;
}

/** `OTEL_LOG_LEVEL`: how much of the OpenTelemetry SDK's own diagnostics loopwatch writes. */
export type OtelLogLevel = 'NONE' | 'ERROR' | 'WARN' | 'INFO' | 'DEBUG' | 'VERBOSE' | 'ALL';

/** The batch log record processor's settings (`OTEL_BLRP_*`). */
export interface LogBatchSettings {
  readonly scheduleDelayMs: number;
  readonly exportTimeoutMs: number;
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
}

/** The OpenTelemetry settings in force (undefined in `ResolvedOptions` when nothing is exported). */
export interface TelemetrySettings {
  readonly metricsExporters: readonly MetricsExporterKind[];
  readonly logsExporters: readonly LogsExporterKind[];
  readonly metricsEndpoint: string;
  readonly logsEndpoint: string;
  readonly metricsProtocol: OtlpProtocol;
  readonly logsProtocol: OtlpProtocol;
  readonly metricsHeaders: Readonly<Record<string, string>>;
  readonly logsHeaders: Readonly<Record<string, string>>;
  readonly exportIntervalMs: number;
  readonly prometheusHost: string;
  readonly prometheusPort: number;
  readonly serviceName: string | undefined;
  readonly resourceAttributes: Readonly<Record<string, string>>;
  /** One OTLP request's timeout, ms (`OTEL_EXPORTER_OTLP_[METRICS_]TIMEOUT`). */
  readonly metricsTimeoutMs: number;
  /** One OTLP request's timeout, ms (`OTEL_EXPORTER_OTLP_[LOGS_]TIMEOUT`). */
  readonly logsTimeoutMs: number;
  /** A whole metric export's timeout, ms (`OTEL_METRIC_EXPORT_TIMEOUT`), at most the interval. */
  readonly metricExportTimeoutMs: number;
  readonly logBatch: LogBatchSettings;
  /** Undefined when `OTEL_LOG_LEVEL` is not set: SDK problems are summed up in one warning. */
  readonly logLevel: OtelLogLevel | undefined;
  readonly maxAlertsPerMinute: number;
}

/** Options after validation: every field present, frozen. */
export interface ResolvedOptions {
  readonly thresholdMs: number;
  readonly eventsFile: string | undefined;
  readonly log: LogFormat;
  readonly captureStack: boolean;
  readonly maxFrames: number;
  readonly captureTimeoutMs: number;
  /** The main thread's profiler. */
  readonly profiler: boolean;
  /** The watched worker threads' profilers too (`profiler: 'all'`). */
  readonly profilerThreads: boolean;
  /** Where blocks' `.cpuprofile` files go, and their bounds; undefined: no files. */
  readonly profileFiles: ProfileFilesOptions | undefined;
  readonly hangMs: number | undefined;
  readonly hangAction: HangAction;
  readonly shutdownTimeoutMs: number | undefined;
  readonly healthPort: number | undefined;
  readonly healthHost: string;
  readonly livenessMs: number;
  readonly readyMaxLagMs: number;
  readonly warmup: boolean;
  readonly threads: ThreadsOption;
  readonly pressure: ResolvedPressure;
  readonly telemetry: TelemetrySettings | undefined;
}

export interface ProfileFilesOptions {
  /** Absolute path of the folder. */
  readonly dir: string;
  readonly minMs: number;
  readonly maxFiles: number;
  readonly maxBytes: number;
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
  /**
   * `false` when the code that ran was transformed in memory (by vitest, tsx, ts-node…) and no
   * source map for it could be read: `line` and `column` are then positions in the generated
   * code, not in `file` as it is on disk. Absent when the position is the file's own.
   */
  readonly mapped?: false;
  /**
   * Frames left out between the previous frame of the stack and this one. Set on the app's own
   * frame when the innermost `maxFrames` were all a library's or Node's (a deep recursion in
   * lodash's `cloneDeep`): the capture looked further out, up to 1,024 frames, so that the
   * stack still shows the app's code that called into it.
   */
  readonly skipped?: number;
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
 * for execSync, with the `children` it waits for), `disk` in uninterruptible I/O. `running` and
 * `sleeping` are judged over the time since the block was detected (runnable at least half of
 * it, from /proc's schedstat), not from one instant's state letter.
 */
export interface ThreadState {
  readonly state: 'running' | 'sleeping' | 'disk' | 'other';
  readonly waitingIn?: string;
  /** Command lines of the thread's child processes (execSync, spawnSync). */
  readonly children?: readonly string[];
}

/**
 * Which request was blocking: read on the blocked thread at capture time. The active
 * OpenTelemetry span (when the app uses `@opentelemetry/api` with a context manager) and the
 * attributes of the AsyncLocalStorage stores the app tracks with `monitor.trackContext()`.
 */
export interface BlockContext {
  /** W3C trace id (32 hex) of the active span. */
  readonly traceId?: string;
  /** W3C span id (16 hex) of the active span. */
  readonly spanId?: string;
  readonly traceFlags?: number;
  readonly spanName?: string;
  /**
   * At most 16: the span's `http.route`, `http.request.method`, `url.path` when present, then
   * what the app's `toAttributes` callbacks returned (strings ≤ 256 characters, numbers, booleans).
   */
  readonly attributes?: Readonly<Record<string, string | number | boolean>>;
  /** A `toAttributes` callback threw: its message. The block is reported all the same. */
  readonly error?: string;
}

/**
 * The innermost frame of the app's own code (Node's internals, a test runner's glue and
 * node_modules skipped; a library frame only when the stack holds nothing else), and where it
 * was read:
 * - `stack`: the stack captured during the block (`stackTiming: "during"`);
 * - `profile`: the sampling profiler's samples inside the block (`ended` only) — how a block
 *   inside one long native call (a huge `JSON.parse`, `pbkdf2Sync`) is named;
 * - `late`: a stack taken after the thread answered late; it may name code that ran after the
 *   culprit returned.
 */
export interface Culprit {
  readonly function: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly source: 'stack' | 'profile' | 'late';
  /** As on {@link StackFrame}: the position is one of generated code. */
  readonly mapped?: false;
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
  /** The thread whose loop is blocked: `main`, or `worker <threadId>` for a worker thread. */
  readonly thread: 'main' | `worker ${number}`;
  /** A worker thread's name (the Worker's `name` option), where it has one. */
  readonly threadName?: string;
  readonly stack: readonly StackFrame[];
  readonly stackTiming: StackTiming;
  /**
   * Who blocked the loop (see {@link Culprit}). Absent when nothing names it: no stack and no
   * profile (an `ongoing` event of a block inside one native call, whose `ended` event gets it
   * from the profiler; the profiler off or not running), or only Node's internals on the stack.
   */
  readonly culprit?: Culprit;
  /** `ended` only: the process was exiting when the block ended. */
  readonly exiting?: boolean;
  /**
   * `ended` only: the block was over before the monitor was armed (tens of milliseconds after
   * `start()`), and was found in the heartbeat's history. It has no `ongoing` event and no stack
   * (`stackTiming: "none"`); its duration is real.
   */
  readonly beforeArmed?: boolean;
  /** Present (true) when the stack had more frames than `maxFrames` kept. */
  readonly truncated?: boolean;
  /** `ongoing` only, when the thread did not answer the capture in time (Linux). */
  readonly threadState?: ThreadState;
  /** The request the blocked code was serving, when the capture could read one (see {@link BlockContext}). */
  readonly context?: BlockContext;
  /**
   * `ended` only, with the `profiler` option: what the sampling profiler saw during the block —
   * the samples taken, the share of them in the culprit's frame, and the most frequent stack
   * there. Names the culprit even of a block inside one long native call.
   */
  readonly profile?: BlockProfile;
  /** `ended` only, with `profileDir`: the `.cpuprofile` file holding the block's samples. */
  readonly profileFile?: string;
}

/**
 * What the sampling profiler saw during a block (`ended` events): the samples taken, the share
 * of them in the culprit's frame and the stack seen most there, and where the block's time
 * went.
 */
export interface BlockProfile {
  readonly samples: number;
  readonly share: number;
  readonly stack: readonly StackFrame[];
  /**
   * The block's time grouped by culprit frame (the app's innermost, as {@link Culprit}),
   * heaviest first, at most 10: a block that spent half its time in each of two functions
   * lists both. Source-mapped; `line` is where the function is declared.
   */
  readonly top?: readonly ProfileEntry[];
  /**
   * Time the samples spent in V8's garbage collector, and the main thread's V8 heap in use
   * just after the block (MB, `Runtime.getHeapUsage`), when it could be read.
   */
  readonly gc?: { readonly ms: number; readonly share: number; readonly heapUsedMb?: number };
  /**
   * Where the block's sampled time went, as a call tree: the root is V8's `(root)`, each node's
   * `ms` includes its callees', children heaviest first. Calls under 1 % of the block are left
   * out (their time stays in the caller's), at most 100 nodes; loopwatch's own frames are
   * skipped. `(garbage collector)` and `(program)` have no file. What the HTML report draws.
   */
  readonly flame?: ProfileFlame;
}

/** A node of {@link BlockProfile.flame}. Source-mapped like every frame; `line` is where the function is declared. */
export interface ProfileFlame {
  readonly function: string;
  readonly file?: string;
  readonly line?: number;
  readonly ms: number;
  readonly children?: readonly ProfileFlame[];
}

export interface ProfileEntry {
  readonly function: string;
  readonly file: string;
  readonly line: number;
  readonly ms: number;
  /** Of the block's sampled time, 0–1. */
  readonly share: number;
}

/**
 * What keeps the event loop alive, gathered on the main thread while it still answers:
 * `process.getActiveResourcesInfo()` counted by kind, and a description of each handle that
 * says which one it is (a server's address, a socket's peer, a child's command).
 */
export interface ActiveResources {
  /** ISO-8601 time of the snapshot. */
  readonly at: string;
  /** Resource kinds and how many of each (`TCPServerWrap`, `Timeout`, `FSReqCallback`…). */
  readonly counts: Readonly<Record<string, number>>;
  /** One line per handle, at most 50. */
  readonly handles: readonly string[];
}

/**
 * A `hang` event: a block outlived `hangMs`, or the process outlived an exit deadline. Written
 * synchronously to stderr and the events file *before* loopwatch acts, so the reason survives
 * the process.
 */
export interface HangEvent {
  readonly type: 'hang';
  /** `block`: a block reached `hangMs`. `exit-deadline`: the process did not exit in time. */
  readonly reason: 'block' | 'exit-deadline';
  /**
   * What loopwatch does now: `none` (report only), `kill` (SIGKILL, exit status 137),
   * `abort` (SIGABRT, 134, core dump), `exit` (the loop still runs: `process.exit(1)` on the
   * main thread, so its exit handlers run; SIGKILL if that has not ended it within 1 s).
   */
  readonly action: HangAction | 'exit';
  /** `hangMs`, or the exit deadline's length, ms. */
  readonly limitMs: number;
  /** ISO-8601 time of the report. */
  readonly at: string;
  readonly pid: number;
  /**
   * A worker thread's hang (reported only, whatever `hangAction` says): `worker <threadId>`.
   * Absent for the main thread.
   */
  readonly thread?: `worker ${number}`;
  /** The worker thread's name, where it has one. */
  readonly threadName?: string;
  /** The block in progress (the `id` of its `block` events), if the loop is blocked. */
  readonly blockId?: number;
  /** How long the loop has not turned, ms (0 when it is running). */
  readonly blockedMs: number;
  /** The blocked thread's stack, when the loop is blocked and it could be taken. */
  readonly stack: readonly StackFrame[];
  readonly stackTiming: StackTiming;
  readonly threadState?: ThreadState;
  /** `exit-deadline` with a running loop: what keeps it alive. */
  readonly resources?: ActiveResources;
  /** The request the blocked code was serving. */
  readonly context?: BlockContext;
  /** For `exit-deadline`: what armed it (`SIGTERM`, `exitWithin()`). */
  readonly cause?: string;
}

/** Everything the worker writes to the events file and delivers to listeners. */
export type LoopwatchEvent = BlockEvent | HangEvent;

/**
 * A block still going on: how long it has lasted so far. Written to the events file only
 * (not to stderr, telemetry or listeners), while the block lasts: at twice its detection time,
 * then at each doubling, then every second. A process can be killed in the middle of a block
 * (a test runner ending its worker, an orchestrator's SIGKILL) before any `ended` event: the
 * last of these records is then its duration as far as anyone knows — readers take it over the
 * `ongoing` event's detection-time figure.
 */
export interface BlockProgress {
  readonly type: 'progress';
  /** The block's `id` (with `pid`, the block). */
  readonly id: number;
  readonly pid: number;
  readonly thread: BlockEvent['thread'];
  /** How long the loop has been blocked so far, ms. */
  readonly durationMs: number;
  /** When this was written, ISO-8601. */
  readonly at: string;
}

/** Where the health endpoints listen. */
export interface HealthAddress {
  readonly host: string;
  readonly port: number;
  /** `http://host:port`, for the probes. */
  readonly url: string;
}

/** Options of {@link Monitor.loadShedder}. */
export interface LoadShedderOptions {
  /**
   * Answer 503 while the loop lags more than this, in milliseconds (see `pressure.maxLagMs`;
   * the monitor's other `pressure` limits apply too).
   * @default the monitor's `pressure.maxLagMs`
   */
  readonly maxLagMs?: number | undefined;
  /** The `Retry-After` header of a 503, in seconds. @default 1 */
  readonly retryAfterS?: number | undefined;
}

/**
 * A `node:http`-compatible request handler: answers 503 (and returns true) while the app is
 * under pressure; otherwise calls `next` when given (connect / Express style) and returns false.
 */
export type LoadShedder = (
  request: import('node:http').IncomingMessage,
  response: import('node:http').ServerResponse,
  next?: (error?: unknown) => void,
) => boolean;

/**
 * The part of an OpenTelemetry `MeterProvider` (from `@opentelemetry/api`) that loopwatch uses;
 * the app's own provider fits it.
 */
export interface MeterProviderLike {
  getMeter(
    name: string,
    version?: string,
  ): {
    createCounter(
      name: string,
      options?: { unit?: string; description?: string },
    ): { add(value: number, attributes?: Record<string, string | number>): void };
    createHistogram(
      name: string,
      options?: { unit?: string; description?: string; advice?: { explicitBucketBoundaries?: number[] } },
    ): { record(value: number, attributes?: Record<string, string | number>): void };
  };
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
  /** A hang (delivered after the loop recovers, so only with `hangAction: 'none'`). */
  on(event: 'hang', listener: (event: HangEvent) => void): this;
  off(event: 'block', listener: (event: BlockEvent) => void): this;
  off(event: 'hang', listener: (event: HangEvent) => void): this;
  /**
   * The app has warmed up: `/readyz` may answer 200, and later blocks are in the `running`
   * phase. Only meaningful with the `warmup` option; harmless otherwise.
   */
  markReady(): void;
  /**
   * Call when graceful shutdown starts: if the process has not exited `ms` milliseconds from
   * now, the worker reports what kept it — the blocked thread's stack, or the handles that keep
   * the loop alive — and ends it (see {@link HangEvent.action}). A later call replaces the
   * deadline. `ms`: an integer from 1 to 86400000.
   */
  exitWithin(ms: number): void;
  /**
   * Also record blocks with the app's own MeterProvider, on the main thread: `loopwatch.blocks`,
   * `loopwatch.block.duration` and `loopwatch.hangs`, with the same names, units and
   * attributes as the worker's export. They are recorded when the main thread gets the events —
   * after each block has ended — so they cannot show a block while it lasts; the worker's export
   * (`OTEL_*`) can. Returns a function that stops recording.
   */
  useMeterProvider(provider: MeterProviderLike): () => void;
  /**
   * Read this AsyncLocalStorage's store when a block is captured, and attach
   * `toAttributes(store)` to the block (event, alert log record, report, health body). Called
   * on the blocked thread only when a block is captured; return a few strings or numbers (at
   * most 16 are kept, strings cut at 256 characters) — never more than you want in your logs.
   * A callback that throws loses the context, never the report. Returns a function that stops
   * tracking. Installs one non-enumerable `Symbol.for('loopwatch.context.v1')` function on
   * `globalThis` (the capture reaches it from there).
   */
  trackContext<T>(
    storage: { getStore(): T | undefined },
    toAttributes: (store: T) => Record<string, unknown> | undefined,
  ): () => void;
  /**
   * Resolves once every block that has ended by now has been delivered to the `block`
   * listeners (a block still being reported when this is called included). Test integrations
   * call it between tests to attribute each block to the test that ran it. Never rejects; gives
   * up after 3 s if the worker does not answer.
   */
  settle(): Promise<void>;
  /** A request handler that sheds load while the loop lags (see {@link LoadShedder}). */
  loadShedder(options?: LoadShedderOptions): LoadShedder;
  /**
   * Whether the app is under pressure now, and why: the limits of the `pressure` option, read
   * from the monitor's shared buffer (a few reads, no I/O), so the answer is right on the first
   * request served after a block. Never throws. A monitor that is not watching (stopped, or its
   * worker lost) answers "not under pressure": shedding fails open.
   */
  isUnderPressure(): PressureState;
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
  /** Where `/livez` and `/readyz` are served (undefined: not asked for, or the port was taken). */
  readonly health: HealthAddress | undefined;
  /**
   * OpenTelemetry export: the exporters running, and the Prometheus scrape URL when one
   * serves. Undefined when nothing is exported, or the SDK could not be loaded (see the warning).
   */
  readonly telemetry:
    | {
        readonly metrics: readonly MetricsExporterKind[];
        readonly logs: readonly LogsExporterKind[];
        readonly prometheusUrl: string | undefined;
      }
    | undefined;
}
