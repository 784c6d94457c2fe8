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
 *
 * This file reads `workerData`, wires the parts together and dispatches the main thread's
 * messages. The parts: block.ts (a block's life, from detection to `ended`), hangs.ts (hangs
 * and exit deadlines), outputs.ts (sinks and warnings), views.ts (what metrics and health read),
 * boot.ts (arming, then the optional parts), exit.ts (stop and exit).
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { LoopwatchError } from '../errors.js';
import {
  FROM_WORKER,
  I32,
  TO_WORKER,
  viewsOf,
  type FromWorker,
  type ToWorker,
  type WorkerInit,
} from '../protocol/shared.js';
import { BlockLifecycle } from './block.js';
import { ProfileFiles } from './profile-files.js';
import { boot } from './boot.js';
import { stackSourceFor } from './capture.js';
import { type Parts, shutdown } from './exit.js';
import { Hangs } from './hangs.js';
import { Outputs } from './outputs.js';
import { SourceMapper } from './sourcemap.js';
import { resolveStack } from './stack.js';
import { threadStates } from './threadstate.js';
import { realClock } from './time.js';
import { TallySink } from './tally.js';
import { LoopViews } from './views.js';
import { watchThreads } from './threads.js';

if (isMainThread || (workerData as Partial<WorkerInit> | null)?.buffer === undefined) {
  throw new LoopwatchError(
    'ERR_LOOPWATCH_UNSUPPORTED',
    "loopwatch's dist/worker/index.js is the monitor thread that start() spawns; it cannot be loaded on its own",
  );
}
const init = workerData as WorkerInit;
const { options, pid } = init;
const shared = viewsOf(init.buffer);
const { i32, f64 } = shared;
const clock = realClock;

function send(message: FromWorker): void {
  init.port.postMessage(message);
}

/** False for the vitest pool's monitor, which watches only the threads that join its table. */
const watchMain = init.watchMain !== false;
const thread = 'main';
const source = stackSourceFor(init);
/** What the kernel says the main thread does. */
const states = watchMain ? threadStates(pid) : undefined;
const mapper = new SourceMapper();
const outputs = new Outputs(options, send, process.cwd());
if (init.tally !== undefined) outputs.add(new TallySink(init.tally, clock, outputs.warnOnce));
const views = new LoopViews(
  shared,
  clock,
  options.warmup,
  () => blocks.active,
  () => threads?.blocked() ?? [],
  init.beatMs,
);

/** What every watched thread's blocks need, the main thread's and each worker thread's alike. */
const common = {
  clock,
  /** One block counter for every watched thread: a block's id is unique in the process. */
  ids: { last: 0 },
  resolve: (raw: Parameters<typeof resolveStack>[0]) => resolveStack(raw, mapper, init.ownDir),
  emit: outputs.emit,
  progress: outputs.progress,
  warnOnce: outputs.warnOnce,
};

const profileFiles =
  options.profileFiles === undefined ? undefined : new ProfileFiles(options.profileFiles, outputs.warnOnce);
const blocks: BlockLifecycle = new BlockLifecycle({
  ...common,
  options,
  ...shared,
  beatMs: init.beatMs,
  pid,
  thread,
  source,
  threadStates: states,
  writeProfile:
    profileFiles === undefined
      ? undefined
      : (id, durationMs, profile) => profileFiles.write({ pid, thread, id }, durationMs, profile),
  settled: (seq) => send({ code: FROM_WORKER.SETTLED, seq }),
  hang: (answering) => hangs.reportHang(answering),
});

const hangs: Hangs = new Hangs({
  options,
  pid,
  f64,
  clock,
  blocks,
  threadState: () => states?.sinceDetected(),
  emit: outputs.emit,
  emitFinal: (event) => outputs.emitFinal(event),
  flush: (ms) => outputs.flush(clock, ms),
  warnOnce: outputs.warnOnce,
  askExit: (exitCode) => send({ code: FROM_WORKER.EXIT, exitCode }),
  stopped: () => blocks.stopped,
});

/** The app's worker threads, when the main thread published a table for them. */
const { threads, inspector: threadsInspector } = watchThreads(init, {
  ...common,
  threadStates: (osTid) => threadStates(pid, osTid),
  sessionHeld: (held) => Atomics.store(i32, I32.THREADS_SESSION, held ? 1 : 0),
  // As the main thread's profiler (boot.ts): not while an inspector port is open.
  profile: () => options.profilerThreads && init.noInspector === undefined && Atomics.load(i32, I32.INSPECTOR) === 0,
});

const parts: Parts = { i32, clock, watchMain, blocks, hangs, views, outputs, source, threads, threadsInspector };

parentPort?.on('message', (message: ToWorker) => {
  switch (message.code) {
    case TO_WORKER.STOP:
      shutdown(parts);
      return;
    case TO_WORKER.EXIT_WITHIN:
      hangs.armDeadline(message.deadline, message.limitMs, message.reason);
      return;
    case TO_WORKER.RESOURCES:
      hangs.resources = message.resources;
      return;
    case TO_WORKER.SETTLE:
      blocks.settle(message.seq);
      return;
    default:
      outputs.warnOnce('protocol', `unknown message from the main thread: ${JSON.stringify(message)}`);
  }
});

void boot(parts, init, send);
