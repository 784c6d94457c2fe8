/**
 * The heartbeat, as every watched thread runs it (the main thread, and each worker thread of
 * the app in its slot of the thread table): a few stores and an atomic add per beat, no
 * allocation. How late the beat ran goes into the lag ring (the monitor turns it into
 * percentiles), how long the loop was busy since the beat before into the busy ring (the
 * monitor reads it when it starts watching the thread: a block that was over by then is found
 * there). The first timed beat marks the first turn of the loop.
 */
import { performance } from 'node:perf_hooks';
import { F64, I32, LAG_RING_SIZE, type SharedViews } from '../protocol/shared.js';

/** Every how many beats the main thread looks whether an inspector port has been opened. */
const INSPECTOR_CHECK_EVERY = 64;
/** Lag (or busy time) of one beat, clamped into an Int32 of microseconds (35 minutes). */
const MAX_LAG_US = 2 ** 31 - 1;

export interface Heartbeat {
  /** Writes the beat's payload (when, and how long the loop has been idle in all). */
  readonly stamp: () => void;
  /** One beat: the payload, the rings, then the sequence number. */
  readonly beat: () => void;
  /**
   * A beat after the thread sat parked in `Atomics.wait` (see main/waits.ts): the wait was
   * neither lag nor busy time, so the rings get zeros and the next beat counts from here.
   */
  readonly resume: () => void;
}

/**
 * @param inspectorUrl where given (the main thread), every INSPECTOR_CHECK_EVERY beats says
 *   whether a debugger may be attached (the monitor then gives a paused thread longer to say so).
 */
export function heartbeat(views: SharedViews, beatMs: number, inspectorUrl?: () => string | undefined): Heartbeat {
  const { i32, f64, lagRing, busyRing } = views;
  const origin = performance.timeOrigin;
  const timing = performance.nodeTiming;
  const stamp = (): void => {
    f64[F64.BEAT_TIME] = origin + performance.now();
    f64[F64.BEAT_IDLE] = timing.idleTime;
  };
  let untilCheck = 1;
  let previous = performance.now();
  let previousIdle = timing.idleTime;
  const beat = (): void => {
    stamp();
    const now = performance.now();
    const idle = f64[F64.BEAT_IDLE] ?? 0;
    const lagUs = Math.round((now - previous - beatMs) * 1000);
    const busyUs = Math.round((now - previous - (idle - previousIdle)) * 1000);
    previous = now;
    previousIdle = idle;
    const slot = (Atomics.load(i32, I32.SEQ) + 1) & (LAG_RING_SIZE - 1);
    lagRing[slot] = lagUs < 0 ? 0 : lagUs > MAX_LAG_US ? MAX_LAG_US : lagUs;
    busyRing[slot] = busyUs < 0 ? 0 : busyUs > MAX_LAG_US ? MAX_LAG_US : busyUs;
    if (--untilCheck === 0) {
      untilCheck = INSPECTOR_CHECK_EVERY;
      i32[I32.LOOP_TURNED] = 1;
      if (inspectorUrl !== undefined) i32[I32.INSPECTOR] = inspectorUrl() === undefined ? 0 : 1;
    }
    i32[I32.EXITING] = 0;
    Atomics.add(i32, I32.SEQ, 1);
  };
  const resume = (): void => {
    stamp();
    previous = performance.now();
    previousIdle = f64[F64.BEAT_IDLE] ?? 0;
    const slot = (Atomics.load(i32, I32.SEQ) + 1) & (LAG_RING_SIZE - 1);
    lagRing[slot] = 0;
    busyRing[slot] = 0;
    Atomics.add(i32, I32.SEQ, 1);
  };
  return { stamp, beat, resume };
}
