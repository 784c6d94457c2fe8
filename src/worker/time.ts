/**
 * The monitor's clock and timers, passed to the parts that wait, so that their logic runs
 * under a fake clock in unit tests (see test/unit/block.test.ts) as the watchdog's does.
 */
import { nowMs } from '../protocol/shared.js';

export interface Clock {
  /** Epoch ms with sub-millisecond resolution, comparable with the main thread's beat times. */
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Real time: the shared epoch clock and Node's timers. */
export const realClock: Clock = {
  now: nowMs,
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

/** The promise's value, or undefined if it has not settled within `ms`. */
export function within<T>(clock: Clock, promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: unknown;
  const timeout = new Promise<undefined>((resolve) => {
    timer = clock.setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clock.clearTimeout(timer));
}
