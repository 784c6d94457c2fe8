/**
 * A worker thread parked in `Atomics.wait` is idle, not blocked. piscina's default
 * (`atomics: 'sync'`) parks every idle pool thread there with its event loop stopped, and runs
 * the task that wakes it from there; a synchronous bridge (synckit and the like) waits there
 * for another thread. The heartbeat alone cannot tell that silence from a block, so on a watched
 * worker thread `Atomics.wait` beats on the way in (a block that ran up to the wait ends there,
 * with its real duration), flags the slot PARKED for the monitor, and beats again on the way
 * out (the task that follows is counted from its wake-up, not from before the wait).
 *
 * Only worker threads: the main thread serves the process's I/O, so its `Atomics.wait` is a
 * block like any other (README, "Worker threads").
 *
 * Cost: two beats and two atomic stores per call, about 0.5 µs (README, "Worker threads").
 */
import { I32 } from '../protocol/shared.js';
import type { Heartbeat } from './heartbeat.js';

type Wait = typeof Atomics.wait;

/**
 * Wraps `Atomics.wait` for this thread (one wrap per thread: see registerWorkerThread).
 * Returns what undoes it (unless someone wrapped it again since: theirs is left in place).
 */
export function parkInWaits(i32: Int32Array, heartbeat: Heartbeat): () => void {
  const original: Wait = Atomics.wait;
  const wait = function wait(...args: unknown[]): ReturnType<Wait> {
    heartbeat.beat();
    Atomics.store(i32, I32.PARKED, 1);
    try {
      return Reflect.apply(original, Atomics, args) as ReturnType<Wait>;
    } finally {
      // The beat first: the monitor, seeing PARKED cleared, must see the fresh beat with it.
      heartbeat.resume();
      Atomics.store(i32, I32.PARKED, 0);
    }
  };
  Atomics.wait = wait;
  return () => {
    if (Atomics.wait === wait) Atomics.wait = original;
    Atomics.store(i32, I32.PARKED, 0);
  };
}
