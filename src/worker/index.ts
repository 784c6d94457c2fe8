/**
 * The monitor worker. It owns everything that must work while the main thread is frozen.
 *
 *   main thread (the app)                      this worker
 *   ─────────────────────                      ───────────
 *   heartbeat timer ──Atomics──► SAB ◄──────── step(): sleeps until the loop would have been
 *   (unref'd, no allocation)                   silent for `thresholdMs`, then
 *                                              ├─ block-start: capture the main stack
 *   ◄── interrupt: Runtime.evaluate ───────────┤   (inspector, connectToMainThread, no port),
 *       runs on top of the blocked frames      │   source-map it, write `ongoing` to sinks
 *                                              └─ block-end (next beat): write `ended`
 *   monitor.on('block') ◄──── message ─────────   (delivered once the main loop runs again)
 */
import { parentPort, workerData } from 'node:worker_threads';
import { F64, FROM_WORKER, I32, nowMs, TO_WORKER, viewsOf, type FromWorker, type ToWorker, type WorkerInit } from '../protocol/shared.js';
import type { BlockEvent, StackFrame, StackTiming } from '../types.js';
import { type CaptureResult, StackCapturer } from './capture.js';
import { sinksFor, type Sink, writeFully } from './sinks.js';
import { SourceMapper } from './sourcemap.js';
import { phaseOf, resolveFrames } from './stack.js';
import { initialState, type Sample, step, type WatchdogState } from './watchdog.js';

/** A capture served later than this after the request did not land on the culprit promptly. */
const LATE_AFTER_MS = 50;
/** After the loop recovers, how long to wait for a capture answer still on its way. */
const LATE_ANSWER_GRACE_MS = 200;

const init = workerData as WorkerInit;
const { options } = init;
const { i32, f64 } = viewsOf(init.buffer);
const port = parentPort;

function send(message: FromWorker): void {
  port?.postMessage(message);
}

const warned = new Set<string>();
function warnOnce(key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  send({ code: FROM_WORKER.WARNING, message, warningCode: 'LOOPWATCH_WORKER' });
  if (options.log !== 'off') {
    try {
      writeFully(2, `loopwatch: ${message}\n`);
    } catch {
      // stderr is gone; the warning message above still reaches the main thread
    }
  }
}

function sample(): Sample {
  const seq = Atomics.load(i32, I32.SEQ);
  return { seq, beatTime: f64[F64.BEAT_TIME] ?? 0, beatIdle: f64[F64.BEAT_IDLE] ?? 0 };
}

const config = { thresholdMs: options.thresholdMs, pollMs: Math.max(1, Math.min(10, init.beatMs)) };
const capturer = options.captureStack ? new StackCapturer(options.maxFrames) : undefined;
const mapper = new SourceMapper();
let sinks: Sink[] = [];
try {
  sinks = sinksFor(options, process.cwd());
} catch (error) {
  warnOnce('sinks', `cannot open an output: ${error instanceof Error ? error.message : String(error)}`);
}

function emit(event: BlockEvent): void {
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
  readonly raw: CaptureResult | undefined;
}

const NO_STACK: Stack = { frames: [], timing: 'none', truncated: false, raw: undefined };

function toStack(result: CaptureResult | undefined, requestedAt: number, blockSeq: number): Stack {
  if (result === undefined) return NO_STACK;
  const moved = Atomics.load(i32, I32.SEQ) !== blockSeq;
  const timing: StackTiming = moved || result.servedAt - requestedAt > LATE_AFTER_MS ? 'late' : 'during';
  return { frames: resolveFrames(result.frames, mapper, init.ownDir), timing, truncated: result.truncated, raw: result };
}

function timeout(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms));
}

let state: WatchdogState = initialState(sample(), nowMs());
let blocks = 0;
let timer: NodeJS.Timeout | undefined;
let stopped = false;

function schedule(ms: number): void {
  if (!stopped) timer = setTimeout(tick, ms);
}

function tick(): void {
  const inspectorOpen = Atomics.load(i32, I32.INSPECTOR) === 1;
  const result = step(config, state, sample(), nowMs(), blocks, inspectorOpen);
  state = result.state;
  if (result.action.type === 'block-start') {
    blocks = result.action.id;
    Atomics.store(i32, I32.BLOCKED, 1);
    void handleBlock(result.action.id, result.action.lagMs, result.action.since).catch((error: unknown) => {
      warnOnce('block', `reporting a block failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      finishBlock();
      schedule(config.pollMs);
    });
    return; // handleBlock drives the watchdog until the block ends
  }
  schedule(result.wakeInMs);
}

function finishBlock(): void {
  Atomics.store(i32, I32.BLOCKED, 0);
  Atomics.add(i32, I32.ACK, 1);
  Atomics.notify(i32, I32.ACK);
}

async function handleBlock(id: number, lagMs: number, since: number): Promise<void> {
  const blockState = state;
  if (blockState.kind !== 'blocked') return;
  const blockSeq = blockState.start.seq;
  const requestedAt = nowMs();
  const pending = capturer?.capture();
  const first = pending === undefined ? undefined : await Promise.race([pending, timeout(options.captureTimeoutMs)]);
  let stack = toStack(first, requestedAt, blockSeq);
  const loopTurned = Atomics.load(i32, I32.LOOP_TURNED) === 1;
  const phase = phaseOf(first?.frames, first?.truncated ?? false, loopTurned);
  const base = {
    type: 'block' as const,
    id,
    phase,
    thresholdMs: options.thresholdMs,
    pid: init.pid,
    thread: 'main' as const,
  };
  emit({
    ...base,
    state: 'ongoing',
    durationMs: round(lagMs),
    startedAt: new Date(since).toISOString(),
    stack: stack.frames,
    stackTiming: stack.timing,
    ...(stack.truncated ? { truncated: true } : {}),
  });

  // Wait for the loop to turn again.
  for (;;) {
    const result = step(config, state, sample(), nowMs(), blocks);
    if (result.action.type === 'block-end') {
      if (stack.raw === undefined && pending !== undefined && first === undefined) {
        // The capture was not answered in time: the thread was probably inside one long
        // native call and serves the interrupt only after it. Keep that answer as `late`.
        const late = await Promise.race([pending, timeout(LATE_ANSWER_GRACE_MS)]);
        if (late !== undefined) stack = { ...toStack(late, requestedAt, blockSeq), timing: 'late' };
      }
      const exiting = Atomics.load(i32, I32.EXITING) === 1;
      emit({
        ...base,
        state: 'ended',
        durationMs: round(result.action.durationMs),
        startedAt: new Date(result.action.startedAt).toISOString(),
        stack: stack.frames,
        stackTiming: stack.timing,
        ...(stack.truncated ? { truncated: true } : {}),
        ...(exiting ? { exiting: true } : {}),
      });
      state = result.state;
      finishBlock();
      schedule(result.wakeInMs);
      return;
    }
    state = result.state;
    await timeout(result.wakeInMs);
    if (stopped) return;
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

port?.on('message', (message: ToWorker) => {
  if (message.code === TO_WORKER.STOP) {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    capturer?.close();
    for (const sink of sinks) {
      try {
        sink.close?.();
      } catch {
        // closing is best effort
      }
    }
  }
});

// One capture up front, while the app is (most likely) idle: the first evaluation compiles
// the expression and warms the session, so the capture during a real block answers fast.
void capturer?.capture();
Atomics.store(i32, I32.ARMED, 1);
send({ code: FROM_WORKER.READY, stackCapture: capturer?.available ?? false, reason: capturer === undefined ? 'captureStack is false' : capturer.reason });
tick();
