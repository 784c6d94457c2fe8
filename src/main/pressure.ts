/**
 * The main thread's side of the pressure decision: `monitor.isUnderPressure()` and the shedders
 * read the figures the monitor worker keeps in the shared buffer and decide in a few reads, at
 * request time. What the worker cannot know yet, this thread can:
 * - right after a block, before the next heartbeat, the loop's silence since the last beat;
 * - right after the first heartbeat that follows a block, that beat's lag, in the ring the
 *   worker drains only every 250 ms (the beats it has not drained are read here).
 * So the first request served after a 500 ms block sees a 500 ms lag, whichever ran first.
 *
 * It also runs what only the main thread can: the app's health check, and the sampling of this
 * thread's own heap. Both publish into the buffer for the worker's `/readyz`.
 */
import { decide, NO_PRESSURE, type PressureSample } from '../common/pressure.js';
import { messageOf } from '../common/text.js';
import { CHECK, F64, I32, LAG_RING_SIZE, nowMs, type SharedViews } from '../protocol/shared.js';
import type { PressureState, ResolvedPressure } from '../types.js';

/** How often the heap in use is sampled (only when `maxHeapUsedBytes` is set). */
const HEAP_EVERY_MS = 250;
/** Messages of the health check are cut here: they end up in logs and in response handlers. */
const MAX_MESSAGE = 200;

export class PressureGauge {
  readonly #views: SharedViews;
  readonly #beatMs: number;
  readonly #limits: ResolvedPressure;
  readonly #warmup: boolean;
  readonly #timers: NodeJS.Timeout[] = [];
  /** What the last health check returned or threw (the buffer holds only its outcome's code). */
  #checkMessage: string | undefined;
  #checking = false;
  #checkRun = 0;
  #stopped = false;

  constructor(views: SharedViews, beatMs: number, limits: ResolvedPressure, warmup: boolean) {
    this.#views = views;
    this.#beatMs = beatMs;
    this.#limits = limits;
    this.#warmup = warmup;
  }

  /** Starts the heap sampler and the health check, when their limits are set. */
  start(): void {
    const { f64 } = this.#views;
    if (this.#limits.maxHeapUsedBytes !== undefined) {
      // node:v8 only when this limit is set: it costs every app ~1.4 MB of RSS otherwise.
      const { getHeapStatistics } = require('node:v8') as typeof import('node:v8');
      const sample = (): void => {
        f64[F64.HEAP_USED] = getHeapStatistics().used_heap_size;
      };
      sample();
      this.#every(HEAP_EVERY_MS, sample);
    }
    const check = this.#limits.healthCheck;
    if (check !== undefined) {
      Atomics.store(this.#views.i32, I32.CHECK, CHECK.PENDING);
      this.#runCheck(check);
      this.#every(this.#limits.healthCheckIntervalMs, () => this.#runCheck(check));
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearInterval(timer);
  }

  /** The decision now. Never throws. `maxLagMs` overrides the monitor's lag limit (a shedder's own). */
  state(maxLagMs = this.#limits.maxLagMs): PressureState {
    if (this.#stopped) return NO_PRESSURE;
    try {
      return decide({ ...this.#limits, maxLagMs }, this.#sample());
    } catch {
      return NO_PRESSURE;
    }
  }

  #sample(): PressureSample {
    const { i32, f64, lagRing } = this.#views;
    // The worker's figure first, then the sequence it covers (stored after it): the beats after
    // that sequence are read here. A figure newer than the sequence read only adds beats.
    const drained = Atomics.load(i32, I32.LAG_RECENT_SEQ);
    let recentUs = (f64[F64.LAG_RECENT] ?? 0) * 1000;
    const seq = Atomics.load(i32, I32.SEQ);
    // Int32 differences: the sequence wraps (see worker/lag.ts). Warm-up beats never count.
    const sinceReady =
      this.#warmup && Atomics.load(i32, I32.READY) === 1 ? (seq - Atomics.load(i32, I32.READY_SEQ)) | 0 : LAG_RING_SIZE;
    // Beat 1 is left out as the worker leaves it out: its lag is the app's loading, not the loop's.
    const unread = Math.min((seq - drained) | 0, sinceReady, (seq - 1) | 0, LAG_RING_SIZE);
    for (let i = 0; i < unread; i++) recentUs = Math.max(recentUs, lagRing[(seq - i) & (LAG_RING_SIZE - 1)] ?? 0);
    const silent = nowMs() - (f64[F64.BEAT_TIME] ?? 0);
    return {
      blockedMs: Math.max(0, silent - this.#beatMs),
      recentLagMs: recentUs / 1000,
      p99LagMs: f64[F64.LAG_P99] ?? 0,
      utilization: f64[F64.UTILIZATION] ?? 0,
      heapUsedBytes: f64[F64.HEAP_USED] ?? 0,
      rssBytes: f64[F64.RSS] ?? 0,
      check: Atomics.load(i32, I32.CHECK),
      checkMessage: this.#checkMessage,
    };
  }

  #every(ms: number, run: () => void): void {
    const timer = setInterval(run, ms);
    timer.unref();
    this.#timers.push(timer);
  }

  /**
   * One run of the app's check: its outcome goes into the buffer. A run still pending when the
   * next is due is not doubled (a slow database must not get a pile of pings) until its timeout
   * has said "timed out"; then the next run starts, and only the latest run's answer counts.
   * Nothing it throws or rejects reaches the app.
   */
  #runCheck(check: () => unknown): void {
    if (this.#checking || this.#stopped) return;
    const run = ++this.#checkRun;
    const settle = (code: number, message: string | undefined): void => {
      if (run !== this.#checkRun || this.#stopped) return;
      this.#checking = false;
      clearTimeout(timeout);
      this.#checkMessage = message?.slice(0, MAX_MESSAGE);
      Atomics.store(this.#views.i32, I32.CHECK, code);
    };
    const judge = (value: unknown): void =>
      value ? settle(CHECK.OK, undefined) : settle(CHECK.FAILED, `the health check returned ${String(value)}`);
    const fail = (error: unknown): void => settle(CHECK.THREW, `the health check threw: ${messageOf(error)}`);
    this.#checking = true;
    const timeout = setTimeout(() => {
      // Still pending: say so now. Its late answer still counts unless a newer run has started.
      this.#checking = false;
      this.#checkMessage = `the health check did not settle within ${this.#limits.healthCheckTimeoutMs} ms`;
      Atomics.store(this.#views.i32, I32.CHECK, CHECK.TIMED_OUT);
    }, this.#limits.healthCheckTimeoutMs);
    timeout.unref();
    let result: unknown;
    try {
      result = check();
    } catch (error) {
      fail(error);
      return;
    }
    if (typeof (result as { then?: unknown } | null | undefined)?.then === 'function') {
      Promise.resolve(result).then(judge, fail);
    } else {
      judge(result);
    }
  }
}
