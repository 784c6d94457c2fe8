/**
 * The monitor's two ways out: STOP (the app called `monitor.stop()`), and the process's exit,
 * where the main thread waits until every inspector session is closed so that
 * `process.exit()` prints nothing about a debugger.
 */
import { I32 } from '../protocol/shared.js';
import { type BlockLifecycle, SESSION_SETTLE_MS } from './block.js';
import type { HealthServer } from './health.js';
import type { Hangs } from './hangs.js';
import type { Outputs } from './outputs.js';
import type { SamplingProfiler } from './profiler.js';
import type { StackSource } from './capture.js';
import type { Telemetry } from './telemetry.js';
import type { ThreadWatch } from './threads.js';
import type { WorkerThreadsInspector } from './nodeworker.js';
import { type Clock, sleep, within } from './time.js';
import type { LoopViews } from './views.js';

/** How long the exiting process waits for the last telemetry export (the main thread waits 1 s in all). */
const TELEMETRY_EXIT_MS = 800;

/** The parts of a running monitor; the optional ones are set as boot starts them. */
export interface Parts {
  readonly i32: Int32Array;
  readonly clock: Clock;
  /** False for the vitest pool's monitor: the main thread's lifecycle is never started. */
  readonly watchMain: boolean;
  readonly blocks: BlockLifecycle;
  readonly hangs: Hangs;
  readonly views: LoopViews;
  readonly outputs: Outputs;
  readonly source: StackSource | undefined;
  profiler?: SamplingProfiler | undefined;
  telemetry?: Telemetry | undefined;
  health?: HealthServer | undefined;
  /** The app's worker threads, when watched. */
  readonly threads?: ThreadWatch | undefined;
  readonly threadsInspector?: WorkerThreadsInspector | undefined;
}

/** Stops watching, closes everything, exports what is left (bounded) and ends the worker. */
export function shutdown(parts: Parts): void {
  const exporting = parts.telemetry;
  parts.telemetry = undefined;
  parts.blocks.stop();
  parts.threads?.stop();
  parts.threadsInspector?.close();
  parts.hangs.clear();
  parts.views.close();
  parts.health?.close();
  parts.source?.close();
  parts.profiler?.close();
  parts.outputs.close();
  // Export what is left (bounded), and leave the session time to settle before the worker
  // ends (see SESSION_SETTLE_MS).
  void within(parts.clock, exporting?.shutdown() ?? Promise.resolve(), TELEMETRY_EXIT_MS).then(() =>
    setTimeout(() => process.exit(0), SESSION_SETTLE_MS),
  );
}

/**
 * At exit the main thread notifies EXIT_NOTIFY and, with the profiler on, waits for DETACHED:
 * close the sessions (after any block's `ended` is written) so that process.exit() prints
 * nothing about a debugger, and leave them time to settle before the worker is torn down.
 */
export async function detachAtExit(parts: Parts): Promise<void> {
  const { i32, clock } = parts;
  while (Atomics.load(i32, I32.BLOCKED) === 1) await sleep(clock, 5);
  // The last events (a block that ended at exit) and the final counts leave now.
  if (parts.telemetry !== undefined) await within(clock, parts.telemetry.flush(), TELEMETRY_EXIT_MS);
  parts.profiler?.close();
  parts.source?.close();
  parts.threadsInspector?.close();
  await sleep(clock, SESSION_SETTLE_MS);
  Atomics.store(i32, I32.PROFILING, 0);
  Atomics.store(i32, I32.DETACHED, 1);
  Atomics.notify(i32, I32.DETACHED);
}
