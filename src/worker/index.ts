/**
 * The monitor worker. It owns everything that must work while the main thread is frozen.
 *
 *   main thread (the app)                      this worker
 *   ─────────────────────                      ───────────
 *   heartbeat timer ──Atomics──► SAB ◄──────── step(): sleeps until the loop would have been
 *   (unref'd, no allocation)                   silent for `thresholdMs`, then
 *                                              ├─ block-start: connect an inspector session
 *   ◄── "paused by a debugger?" probe ─────────┤   (connectToMainThread, no port); paused: no block
 *   ◄── interrupt: Runtime.evaluate ───────────┤─ capture the stack on top of the blocked frames,
 *                                              │   source-map it, write `ongoing` to the sinks
 *                                              └─ block-end (next beat): write `ended`, disconnect
 *   monitor.on('block') ◄── MessagePort ───────   (delivered once the main loop runs again, or
 *                                                  received synchronously by the exit handler)
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { LoopwatchError } from '../errors.js';
import { F64, FROM_WORKER, I32, nowMs, TO_WORKER, viewsOf, type FromWorker, type ToWorker, type WorkerInit } from '../protocol/shared.js';
import type { ActiveResources, BlockContext, HangEvent, HealthAddress, LoopwatchEvent, StackFrame, StackTiming, ThreadState } from '../types.js';
import { BrokeredInspector, type CaptureResult, MainThreadInspector, NoInspector, type StackSource } from './capture.js';
import { type HealthServer, serveHealth } from './health.js';
import { LagWindow, UtilizationWindow } from './lag.js';
import { startTelemetry, type Telemetry } from './telemetry.js';
import { culpritFrame, formatPretty } from './report.js';
import { sinksFor, type Sink, writeFully } from './sinks.js';
import { SourceMapper } from './sourcemap.js';
import { phaseOf, resolveFrames } from './stack.js';
import { SamplingProfiler } from './profiler.js';
import { readThreadState } from './threadstate.js';
import { selfCheck } from './selfcheck.js';
import { freshWindow, initialState, type Sample, step, type WatchdogState } from './watchdog.js';

/**
 * A capture the main thread served later than this after the request was held up by native
 * code: JavaScript serves the interrupt within a millisecond or two (8–16 ms seen on a loaded
 * 2-core machine, when the OS had the thread off its core). The frames of a later answer show
 * where the thread was when it got free, which may be after the culprit returned.
 */
const LATE_AFTER_MS = 30;
/**
 * With an inspector port open a debugger client may have paused the thread; its answer to the
 * pause probe then crosses the inspector's I/O thread and, on a loaded machine, was seen to
 * take longer than the capture timeout. Wait this long for it before calling it a block.
 */
const PAUSE_PROBE_WITH_INSPECTOR_MS = 1000;
/** Time to leave between closing the inspector session and the worker's end. */
const SESSION_SETTLE_MS = 30;
/** How long the profiler may take to hand over a block's samples, and to start. */
const PROFILE_TIMEOUT_MS = 1000;
const PROFILER_START_TIMEOUT_MS = 3000;
/** After the loop recovers, how long to wait for a capture answer still on its way. */
const LATE_ANSWER_GRACE_MS = 200;
/** How long the sinks may take to hand over what they buffer before a hung process is ended. */
const HANG_FLUSH_MS = 500;
/** After asking the main thread to exit at a deadline, how long before SIGKILL does it. */
const EXIT_FALLBACK_MS = 1000;
/** How long the exiting process waits for the last telemetry export (the main thread waits 1 s in all). */
const TELEMETRY_EXIT_MS = 800;
/** How long start-up waits for the Prometheus endpoint to listen. */
const TELEMETRY_START_MS = 2000;
/** How often the lag ring is drained (it holds ≥ 1 s of beats). */
const LAG_DRAIN_MS = 250;

if (isMainThread || (workerData as Partial<WorkerInit> | null)?.buffer === undefined) {
  throw new LoopwatchError('ERR_LOOPWATCH_UNSUPPORTED', 'loopwatch/worker is the monitor thread that start() spawns; it cannot be loaded on its own');
}
const init = workerData as WorkerInit;
const { options } = init;
const { i32, f64, lagRing } = viewsOf(init.buffer);

function send(message: FromWorker): void {
  init.port.postMessage(message);
}

const warned = new Set<string>();
/**
 * Reports a problem once. Written to stderr from here, so it is out even while the main thread
 * is blocked; the main thread turns it into a process warning only when it was not (`log: off`),
 * so it is seen exactly once.
 */
function warnOnce(key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  let printed = false;
  if (options.log !== 'off') {
    try {
      writeFully(2, `loopwatch: ${message}\n`);
      printed = true;
    } catch {
      // stderr is gone; the main thread still gets the warning
    }
  }
  send({ code: FROM_WORKER.WARNING, message, warningCode: 'LOOPWATCH_WORKER', printed });
}

function sample(): Sample {
  const seq = Atomics.load(i32, I32.SEQ);
  return { seq, beatTime: f64[F64.BEAT_TIME] ?? 0, beatIdle: f64[F64.BEAT_IDLE] ?? 0 };
}

const config = { thresholdMs: options.thresholdMs, pollMs: Math.max(1, Math.min(10, init.beatMs)) };
const watched = init.workerThread;
const brokered = options.captureStack && watched !== undefined ? new BrokeredInspector(options.maxFrames, watched.threadId, watched.channel) : undefined;
const inspector: StackSource | undefined = !options.captureStack
  ? undefined
  : (brokered ?? (init.noInspector === undefined ? new MainThreadInspector(options.maxFrames) : new NoInspector(init.noInspector)));
/** The watched thread, as events name it. */
const threadName = watched === undefined ? 'main' : (`worker ${watched.threadId}` as const);
/** What the kernel says the watched thread does (/proc knows the process's main thread only). */
function threadStateOf(): ThreadState | undefined {
  return watched === undefined ? readThreadState(init.pid) : undefined;
}
const mapper = new SourceMapper();
let profiler: SamplingProfiler | undefined;
let sinks: Sink[] = [];
try {
  sinks = sinksFor(options, process.cwd());
} catch (error) {
  warnOnce('sinks', `cannot open an output: ${error instanceof Error ? error.message : String(error)}`);
}

function emit(event: LoopwatchEvent): void {
  for (const sink of sinks) {
    try {
      sink.write(event);
    } catch (error) {
      warnOnce(`sink:${sink.name}`, `writing to the ${sink.name} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  send({ code: FROM_WORKER.EVENT, event });
}

interface Stack {
  readonly frames: StackFrame[];
  readonly timing: StackTiming;
  readonly truncated: boolean;
  /** The request context read with the stack; kept only when the stack was taken during the block. */
  readonly context?: BlockContext | undefined;
}

const NO_STACK: Stack = { frames: [], timing: 'none', truncated: false };

/**
 * @param turnedAt epoch ms of the first beat after the block, when known: a capture served
 *   after it was taken once the loop had already moved on.
 */
function toStack(result: CaptureResult | undefined, requestedAt: number, turnedAt: number | undefined): Stack {
  if (result === undefined || result.frames.length === 0) return NO_STACK;
  const late = result.servedAt - requestedAt > LATE_AFTER_MS || (turnedAt !== undefined && result.servedAt >= turnedAt);
  return {
    frames: resolveFrames(result.frames, mapper, init.ownDir),
    timing: late ? 'late' : 'during',
    truncated: result.truncated,
    // A late answer's context is that of whatever ran when the thread got free: not the culprit's.
    context: late ? undefined : result.context,
  };
}

/** The first beat after `blockSeq`, if the loop has turned since (else undefined). */
function turnedSince(blockSeq: number): number | undefined {
  return Atomics.load(i32, I32.SEQ) === blockSeq ? undefined : (f64[F64.BEAT_TIME] ?? 0);
}

function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The block being reported (from its `ongoing` event until it ends), for health and hangs. */
let activeBlock: { readonly id: number; readonly since: number; readonly stack: Stack; readonly threadState: ThreadState | undefined } | undefined;

const lag = new LagWindow(lagRing, i32);
const utilization = new UtilizationWindow();
const startedAt = { time: nowMs(), idle: f64[F64.BEAT_IDLE] ?? 0 };
const lagTimer = setInterval(() => {
  lag.drain(nowMs());
  utilization.sample(f64[F64.BEAT_TIME] ?? 0, f64[F64.BEAT_IDLE] ?? 0);
  f64[F64.LAG_P99] = lag.stats().p99Ms;
}, LAG_DRAIN_MS);
let telemetry: Telemetry | undefined;
let health: HealthServer | undefined;

let state: WatchdogState = initialState(sample(), nowMs());
let blocks = 0;
let timer: NodeJS.Timeout | undefined;
let stopped = false;
/** The last pause probe found the main thread paused by a debugger. */
let pausedBefore = false;

function schedule(ms: number): void {
  if (!stopped) timer = setTimeout(tick, ms);
}

function tick(): void {
  if (stopped) return;
  // While the process exits (its exit handlers may wait on a debugger client), a silent loop
  // is not a block.
  const exiting = Atomics.load(i32, I32.EXITING) === 1;
  const now = nowMs();
  const current = sample();
  const result = step(config, state, current, now, blocks, exiting);
  state = result.state;
  if (result.action.type !== 'block-start') {
    // Rotate the profile only while the loop is healthy (it beat within two periods).
    if (profiler?.due(Date.now()) === true && now - current.beatTime < 2 * init.beatMs) {
      profiler.rotate().catch((error: unknown) => warnOnce('profiler', `the profiler failed: ${String(error)}`));
    }
    schedule(result.wakeInMs);
    return;
  }
  const { id, lagMs, since } = result.action;
  void handleBlock(id, lagMs, since).catch((error: unknown) => {
    warnOnce('block', `reporting a block failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    activeBlock = undefined;
    finishBlock();
    notABlock();
  });
}

/**
 * The silence is not (or no longer) reported: close the session and watch a fresh window, so
 * that a thread really stuck is reported one threshold later.
 */
function notABlock(): void {
  handling = false;
  answerSettles();
  inspector?.close();
  state = freshWindow(config, sample().seq, nowMs());
  schedule(options.thresholdMs);
}

/** A block is being handled (from detection until its `ended` event, or until it is dismissed). */
let handling = false;
/** SETTLE requests waiting for the block being handled. */
const settles: number[] = [];

function answerSettles(): void {
  for (const seq of settles.splice(0)) send({ code: FROM_WORKER.SETTLED, seq });
}

function finishBlock(): void {
  handling = false;
  answerSettles();
  Atomics.store(i32, I32.BLOCKED, 0);
  Atomics.add(i32, I32.ACK, 1);
  Atomics.notify(i32, I32.ACK);
}

/** Drives the watchdog from the moment a block is detected until the loop turns again. */
async function handleBlock(id: number, lagMs: number, since: number): Promise<void> {
  const blockState = state;
  if (blockState.kind !== 'blocked') throw new Error(`handleBlock in state ${blockState.kind}`);
  const blockSeq = blockState.start.seq;
  handling = true;
  const connected = inspector?.open() ?? false;

  // A thread paused at a breakpoint stops beating too; that is debugging, not a block.
  // No answer within the capture timeout means the thread is inside native code: not paused.
  const probeMs = Atomics.load(i32, I32.INSPECTOR) === 1 ? Math.max(options.captureTimeoutMs, PAUSE_PROBE_WITH_INSPECTOR_MS) : options.captureTimeoutMs;
  const pause = connected && inspector !== undefined ? await within(inspector.pauseState(), probeMs) : undefined;
  if (pause === 'paused' || (pausedBefore && pause === 'running')) {
    // Paused: not a block. Running again after a pause: the thread resumed at some moment
    // since the last probe, so it must now stay silent for a whole threshold of its own.
    pausedBefore = pause === 'paused';
    notABlock();
    return;
  }
  pausedBefore = false;
  if (pause === 'unknown') warnOnce('pause-probe', 'cannot tell a debugger pause from a block on this Node version; a paused debugger may be reported as a block');

  const requestedAt = nowMs();
  const pending = connected ? inspector?.capture() : undefined;
  // The probe went unanswered: the capture will be too, until the native call returns.
  let answer = pending === undefined || pause === undefined ? undefined : await within(pending, options.captureTimeoutMs);
  // An unusable answer says nothing about the loop: the block is reported without its stack.
  if (answer?.unusable !== undefined) warnOnce('capture', `blocks are reported without their stack: ${answer.unusable}`);
  if (answer !== undefined && answer.unusable === undefined && answer.frames.length === 0 && answer.servedAt - requestedAt <= LATE_AFTER_MS) {
    // Served at once with no JavaScript on the stack: the thread was waiting in its event
    // loop (a late timer on a starved machine, Node waiting for a debugger client at exit),
    // answering messages. Nothing is blocking it.
    notABlock();
    return;
  }
  blocks = id;
  Atomics.store(i32, I32.BLOCKED, 1);
  const stack = toStack(answer, requestedAt, turnedSince(blockSeq));
  // With warm-up, everything before markReady() is startup.
  const warming = options.warmup && Atomics.load(i32, I32.READY) === 0;
  const phase = warming ? 'startup' : phaseOf(answer?.frames, answer?.truncated ?? false, Atomics.load(i32, I32.LOOP_TURNED) === 1);
  const base = { type: 'block', id, phase, thresholdMs: options.thresholdMs, pid: init.pid, thread: threadName } as const;
  // No answer: the thread is in native code. The kernel can still say what it is doing.
  const threadState = answer === undefined ? threadStateOf() : undefined;
  emit({
    ...base,
    state: 'ongoing',
    durationMs: round(lagMs),
    startedAt: new Date(since).toISOString(),
    stack: stack.frames,
    stackTiming: stack.timing,
    ...(stack.truncated ? { truncated: true } : {}),
    ...(threadState === undefined ? {} : { threadState }),
    ...(stack.context === undefined ? {} : { context: stack.context }),
  });
  activeBlock = { id, since, stack, threadState };

  // Wait for the loop to turn again.
  let hangReported = false;
  for (;;) {
    const result = step(config, state, sample(), nowMs(), blocks);
    if (result.action.type !== 'block-end') {
      state = result.state;
      if (!hangReported && options.hangMs !== undefined && nowMs() - since >= options.hangMs) {
        hangReported = true;
        await reportHang(answer !== undefined);
      }
      await sleep(result.wakeInMs);
      if (stopped) return;
      continue;
    }
    activeBlock = undefined;
    let final = stack;
    if (answer === undefined && pending !== undefined) {
      // Not answered in time: the thread was most likely inside one long native call and
      // serves the interrupt only after it. Whatever comes is classified by when it was served.
      answer = await within(pending, LATE_ANSWER_GRACE_MS);
      final = toStack(answer, requestedAt, result.action.turnedAt);
    }
    inspector?.close();
    const exiting = Atomics.load(i32, I32.EXITING) === 1;
    const profile = profiler === undefined ? undefined : await within(profiler.attributeBlock(result.action.startedAt, result.action.turnedAt), PROFILE_TIMEOUT_MS).catch(() => undefined);
    emit({
      ...base,
      state: 'ended',
      durationMs: round(result.action.durationMs),
      startedAt: new Date(result.action.startedAt).toISOString(),
      stack: final.frames,
      stackTiming: final.timing,
      ...(final.truncated ? { truncated: true } : {}),
      ...(exiting ? { exiting: true } : {}),
      ...contextOf(final.context ?? stack.context),
      ...(profile === undefined ? {} : { profile: { samples: profile.samples, share: profile.share, stack: resolveFrames(profile.frames, mapper, init.ownDir) } }),
    });
    state = result.state;
    // Tearing the worker down right after its session disconnected was seen to abort the
    // process (Node 20–26); the exiting main thread tears it down as soon as we acknowledge.
    if (exiting) await sleep(SESSION_SETTLE_MS);
    finishBlock();
    schedule(result.wakeInMs);
    return;
  }
}

/**
 * The block reached `hangMs`. The report is written synchronously (stderr, events file) and
 * the sinks flushed before the process is ended, so the reason survives it.
 * @param answering the thread answered the first capture: ask again for where it is now.
 */
async function reportHang(answering: boolean): Promise<void> {
  const block = activeBlock;
  if (block === undefined || options.hangMs === undefined) return;
  const fresh = answering ? await captureNow() : undefined;
  const stack = fresh !== undefined && fresh.frames.length > 0 ? fresh : block.stack;
  const event = hangEvent('block', options.hangAction, options.hangMs, block.id, nowMs() - block.since, stack, stack.frames.length > 0 ? undefined : threadStateOf());
  if (options.hangAction === 'none') emit(event);
  else emitFinal(event);
  // A pool thread cannot be ended from here: the broker's process decides.
  brokered?.reportHang(event);
  if (options.hangAction !== 'none') await endProcess(options.hangAction === 'abort' ? 'SIGABRT' : 'SIGKILL');
}

function hangEvent(
  reason: HangEvent['reason'],
  action: HangEvent['action'],
  limitMs: number,
  blockId: number | undefined,
  blockedMs: number,
  stack: Stack,
  threadState: ThreadState | undefined,
  extra: { resources?: ActiveResources; cause?: string } = {},
): HangEvent {
  return {
    type: 'hang',
    reason,
    action,
    limitMs,
    at: new Date().toISOString(),
    pid: init.pid,
    ...(blockId === undefined ? {} : { blockId }),
    blockedMs: round(blockedMs),
    stack: stack.frames,
    stackTiming: stack.timing,
    ...(threadState === undefined ? {} : { threadState }),
    ...(stack.context === undefined ? {} : { context: stack.context }),
    ...extra,
  };
}

/** The main thread's stack right now, if it answers within the capture timeout. */
async function captureNow(): Promise<Stack | undefined> {
  if (inspector === undefined || !inspector.open()) return undefined;
  const requestedAt = nowMs();
  const answer = await within(inspector.capture(), options.captureTimeoutMs);
  return answer === undefined ? undefined : toStack(answer, requestedAt, turnedSince(sample().seq));
}

/**
 * Writes the report of an event that ends the process: to every sink, and to stderr even with
 * `log: 'off'` — a process that loopwatch ends must say why somewhere.
 */
function emitFinal(event: HangEvent): void {
  emit(event);
  if (options.log !== 'off') return;
  try {
    writeFully(2, formatPretty(event, process.cwd()));
  } catch {
    // stderr is gone; the events file has it if one is configured
  }
}

async function endProcess(signal: 'SIGKILL' | 'SIGABRT'): Promise<void> {
  await within(Promise.allSettled(sinks.map((sink) => sink.flush?.())), HANG_FLUSH_MS);
  // process.abort() throws in a worker; a signal to the process does what it would.
  process.kill(init.pid, signal);
}

let deadline: { timer: NodeJS.Timeout; limitMs: number; cause: string } | undefined;
/** The main thread's latest view of what keeps its loop alive (sent while a deadline runs). */
let resources: ActiveResources | undefined;

function armDeadline(at: number, limitMs: number, cause: string): void {
  if (deadline !== undefined) clearTimeout(deadline.timer);
  const timer = setTimeout(() => {
    void onDeadline(limitMs, cause).catch((error: unknown) => {
      warnOnce('deadline', `acting on the exit deadline failed: ${String(error)}`);
      process.kill(init.pid, 'SIGKILL');
    });
  }, Math.max(0, at - Date.now()));
  deadline = { timer, limitMs, cause };
}

/**
 * The process outlived its exit deadline. A blocked loop is reported with its stack and the
 * process killed (or aborted); a running loop, with what keeps it alive, and the main thread
 * is asked to exit (its exit handlers run), with SIGKILL as the fallback.
 */
async function onDeadline(limitMs: number, cause: string): Promise<void> {
  if (stopped) return;
  if (isSilent()) {
    await endBlocked(limitMs, cause);
    return;
  }
  emitFinal(hangEvent('exit-deadline', 'exit', limitMs, undefined, 0, NO_STACK, undefined, { cause, ...(resources === undefined ? {} : { resources }) }));
  await within(Promise.allSettled(sinks.map((sink) => sink.flush?.())), HANG_FLUSH_MS);
  send({ code: FROM_WORKER.EXIT, exitCode: 1 });
  // Still here a second later: the main thread got stuck on its way out (an exit handler, or a
  // block that began just as the deadline passed). Say where, and end it.
  setTimeout(() => {
    const fallback = isSilent() ? endBlocked(limitMs, `${cause}, then process.exit(1)`) : endProcess('SIGKILL');
    void fallback.catch(() => process.kill(init.pid, 'SIGKILL'));
  }, EXIT_FALLBACK_MS);
}

/** The loop has not turned for a threshold: it is blocked, not merely busy. */
function isSilent(): boolean {
  return nowMs() - (f64[F64.BEAT_TIME] ?? 0) >= options.thresholdMs;
}

/** Reports a process stuck past its exit deadline with its blocked stack, and ends it. */
async function endBlocked(limitMs: number, cause: string): Promise<void> {
  const block = activeBlock;
  const fresh = await captureNow();
  const stack = fresh ?? block?.stack ?? NO_STACK;
  const threadState = stack.frames.length > 0 ? undefined : threadStateOf();
  const action = options.hangAction === 'abort' ? 'abort' : 'kill';
  const silent = nowMs() - (f64[F64.BEAT_TIME] ?? 0);
  emitFinal(hangEvent('exit-deadline', action, limitMs, block?.id, silent, stack, threadState, { cause }));
  await endProcess(action === 'abort' ? 'SIGABRT' : 'SIGKILL');
}

/** What the metrics read. */
const telemetryView = {
  lag: () => {
    lag.drain(nowMs());
    return lag.stats();
  },
  utilization: () => utilization.utilization(nowMs(), f64[F64.BEAT_IDLE] ?? 0),
  loopTime: () => {
    const idle = ((f64[F64.BEAT_IDLE] ?? 0) - startedAt.idle) / 1000;
    return { active: Math.max(0, (nowMs() - startedAt.time) / 1000 - idle), idle };
  },
  blockedForMs: () => (activeBlock === undefined ? 0 : Math.max(0, nowMs() - activeBlock.since)),
};

/** What the health endpoints see. */
const view = {
  silentMs: () => Math.max(0, nowMs() - (f64[F64.BEAT_TIME] ?? 0)),
  block: () =>
    activeBlock === undefined
      ? undefined
      : { id: activeBlock.id, culprit: activeBlock.stack.timing === 'none' ? undefined : culpritFrame(activeBlock.stack.frames), context: activeBlock.stack.context },
  started: () => Atomics.load(i32, I32.LOOP_TURNED) === 1 && (!options.warmup || Atomics.load(i32, I32.READY) === 1),
  lag: () => {
    lag.drain(nowMs());
    // With warm-up, the lag of the warm-up itself does not count against readiness.
    return lag.stats(options.warmup ? Atomics.load(i32, I32.READY_SEQ) : 0);
  },
};

function contextOf(context: BlockContext | undefined): { context?: BlockContext } {
  return context === undefined ? {} : { context };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

parentPort?.on('message', (message: ToWorker) => {
  switch (message.code) {
    case TO_WORKER.STOP:
      shutdown();
      return;
    case TO_WORKER.EXIT_WITHIN:
      armDeadline(message.deadline, message.limitMs, message.reason);
      return;
    case TO_WORKER.RESOURCES:
      resources = message.resources;
      return;
    case TO_WORKER.SETTLE:
      settles.push(message.seq);
      if (!handling) answerSettles();
      return;
    default:
      warnOnce('protocol', `unknown message from the main thread: ${JSON.stringify(message)}`);
  }
});

function shutdown(): void {
  stopped = true;
  const exporting = telemetry;
  telemetry = undefined;
  if (timer !== undefined) clearTimeout(timer);
  if (deadline !== undefined) clearTimeout(deadline.timer);
  clearInterval(lagTimer);
  health?.close();
  inspector?.close();
  profiler?.close();
  for (const sink of sinks) {
    try {
      sink.close?.();
    } catch {
      // closing is best effort
    }
  }
  // Export what is left (bounded), and leave the session time to settle before the worker
  // ends (see SESSION_SETTLE_MS).
  void within(exporting?.shutdown() ?? Promise.resolve(), TELEMETRY_EXIT_MS).then(() => setTimeout(() => process.exit(0), SESSION_SETTLE_MS));
}

/**
 * At exit the main thread notifies EXIT_NOTIFY and, with the profiler on, waits for DETACHED:
 * close the sessions (after any block's `ended` is written) so that process.exit() prints
 * nothing about a debugger, and leave them time to settle before the worker is torn down.
 */
async function detachAtExit(): Promise<void> {
  while (Atomics.load(i32, I32.BLOCKED) === 1) await sleep(5);
  // The last events (a block that ended at exit) and the final counts leave now.
  if (telemetry !== undefined) await within(telemetry.flush(), TELEMETRY_EXIT_MS);
  profiler?.close();
  inspector?.close();
  await sleep(SESSION_SETTLE_MS);
  Atomics.store(i32, I32.PROFILING, 0);
  Atomics.store(i32, I32.DETACHED, 1);
  Atomics.notify(i32, I32.DETACHED);
}

async function boot(): Promise<void> {
  // Without an inspector the main thread has said so already, for the profiler too.
  if (options.profiler && init.noInspector === undefined) {
    if (Atomics.load(i32, I32.INSPECTOR) === 1) {
      warnOnce('profiler', 'the profiler is not started while an inspector port is open (a debugger client would see its profiles)');
    } else {
      try {
        const candidate = new SamplingProfiler((require('node:inspector') as typeof import('node:inspector')).Session);
        const started = await within(candidate.start().then(() => true), PROFILER_START_TIMEOUT_MS);
        if (started === true) {
          profiler = candidate;
          Atomics.store(i32, I32.PROFILING, 1);
        } else {
          candidate.close();
          warnOnce('profiler', 'the profiler did not start in time; blocks are reported without it');
        }
      } catch (error) {
        warnOnce('profiler', `the profiler could not start: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
  let address: HealthAddress | undefined;
  if (options.healthPort !== undefined) {
    try {
      health = await serveHealth(options.healthHost, options.healthPort, view, options);
      address = health.address;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'EADDRINUSE' ? 'the port is already in use' : code === 'EADDRNOTAVAIL' ? 'the address is not available here' : error instanceof Error ? error.message : String(error);
      warnOnce('health', `cannot serve the health endpoints on ${options.healthHost}:${options.healthPort}: ${why}; the app runs on without them`);
    }
  }
  if (options.telemetry !== undefined) {
    telemetry = startTelemetry(options.telemetry, telemetryView, init.pid, warnOnce);
    if (telemetry !== undefined) {
      sinks.push(telemetry);
      await within(telemetry.ready(), TELEMETRY_START_MS);
      Atomics.store(i32, I32.TELEMETRY, 1);
    }
  }
  const exitWait = Atomics.waitAsync(i32, I32.EXIT_NOTIFY, 0);
  void Promise.resolve(exitWait.value).then(() => detachAtExit());
  send({
    code: FROM_WORKER.READY,
    stackCapture: inspector?.available ?? false,
    reason: inspector === undefined ? 'captureStack is false' : inspector.reason,
    profiler: profiler !== undefined,
    health: address,
    telemetry: telemetry?.status,
  });
  tick();
  void selfCheck({ source: inspector, i32, thresholdMs: options.thresholdMs, say: warnOnce, done: () => stopped });
}

void boot();
