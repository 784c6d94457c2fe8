/**
 * What the metrics and the health endpoints read of the loop: its lag over the recent window
 * (drained from the shared lag ring), its utilization, its busy and idle time, and the block
 * being reported. Every drain also publishes the pressure figures (recent lag and its sequence,
 * p99, utilization, RSS) into the shared buffer, where the main thread's pressure check reads
 * them at request time; during a block too, since this thread still runs.
 */
import { culpritFrame } from '../common/frames.js';
import type { PressureSample } from '../common/pressure.js';
import { F64, I32, RECENT_WINDOW_MS, type SharedViews } from '../protocol/shared.js';
import type { ActiveBlock } from './block.js';
import type { LoopView } from './health.js';
import type { BlockedThread } from './threads.js';
import { LagWindow, UtilizationWindow } from './lag.js';
import type { TelemetryView } from './telemetry.js';
import type { Clock } from './time.js';

/** How often the lag ring is drained (it holds ≥ 1 s of beats). */
const LAG_DRAIN_MS = 250;

export class LoopViews {
  readonly #f64: Float64Array;
  readonly #lag: LagWindow;
  readonly #utilization = new UtilizationWindow();
  readonly #recentUtilization = new UtilizationWindow(RECENT_WINDOW_MS);
  readonly #startedAt: { readonly time: number; readonly idle: number };
  readonly #lagTimer: NodeJS.Timeout;

  /** What the metrics read. */
  readonly telemetry: TelemetryView;
  /** What the health endpoints see. */
  readonly health: LoopView;

  /**
   * Starts draining the lag ring now.
   * @param block the block being reported, if any.
   */
  /** Health and pressure figures count beats after this one (the end of the warm-up), when warming up. */
  readonly #afterSeq: () => number;

  constructor(
    views: SharedViews,
    clock: Clock,
    warmup: boolean,
    block: () => ActiveBlock | undefined,
    blockedThreads: () => readonly BlockedThread[] = () => [],
    beatMs = 0,
  ) {
    const { i32, f64, lagRing } = views;
    this.#f64 = f64;
    this.#lag = new LagWindow(lagRing, i32);
    this.#afterSeq = () => (warmup ? Atomics.load(i32, I32.READY_SEQ) : 0);
    this.#startedAt = { time: clock.now(), idle: this.#beatIdle() };
    const drain = (now: number): void => {
      this.#lag.drain(now);
      this.#utilization.sample(f64[F64.BEAT_TIME] ?? 0, this.#beatIdle());
      this.#recentUtilization.sample(f64[F64.BEAT_TIME] ?? 0, this.#beatIdle());
    };
    // The first beat's lag is the time the app took to load, before its loop ever turned (a
    // `startup` block when long): not a lag of the running loop, so no reason to shed.
    const recentAfter = (): number => {
      const after = this.#afterSeq();
      return after === 0 ? 1 : after;
    };
    const sample = (now: number): PressureSample => ({
      blockedMs: Math.max(0, now - (f64[F64.BEAT_TIME] ?? 0) - beatMs),
      recentLagMs: this.#lag.maxSince(now, RECENT_WINDOW_MS, recentAfter()),
      p99LagMs: this.#lag.stats(this.#afterSeq()).p99Ms,
      utilization: this.#recentUtilization.utilization(now, this.#beatIdle()),
      heapUsedBytes: f64[F64.HEAP_USED] ?? 0,
      rssBytes: rss(),
      check: Atomics.load(i32, I32.CHECK),
    });
    this.#lagTimer = setInterval(() => {
      const now = clock.now();
      drain(now);
      const figures = sample(now);
      f64[F64.LAG_P99] = figures.p99LagMs;
      f64[F64.UTILIZATION] = figures.utilization;
      f64[F64.RSS] = figures.rssBytes;
      // The figure before the sequence it covers: the main thread reads them the other way round.
      f64[F64.LAG_RECENT] = figures.recentLagMs;
      Atomics.store(i32, I32.LAG_RECENT_SEQ, this.#lag.seq);
      // The rest, for the prom-client bridge, which reads them on the app's thread at scrape time.
      const lag = this.#lag.stats();
      f64[F64.LAG_MIN] = lag.minMs;
      f64[F64.LAG_MAX] = lag.maxMs;
      f64[F64.LAG_MEAN] = lag.meanMs;
      f64[F64.LAG_STDDEV] = lag.stddevMs;
      f64[F64.LAG_P50] = lag.p50Ms;
      f64[F64.LAG_P90] = lag.p90Ms;
      f64[F64.METRIC_UTILIZATION] = this.telemetry.utilization();
      const time = this.telemetry.loopTime();
      f64[F64.LOOP_ACTIVE_S] = time.active;
      f64[F64.LOOP_IDLE_S] = time.idle;
    }, LAG_DRAIN_MS);

    this.telemetry = {
      lag: () => {
        this.#lag.drain(clock.now());
        return this.#lag.stats();
      },
      utilization: () => this.#utilization.utilization(clock.now(), this.#beatIdle()),
      loopTime: () => {
        const idle = (this.#beatIdle() - this.#startedAt.idle) / 1000;
        return { active: Math.max(0, (clock.now() - this.#startedAt.time) / 1000 - idle), idle };
      },
      blockedForMs: () => {
        const active = block();
        return active === undefined ? 0 : Math.max(0, clock.now() - active.since);
      },
    };
    this.health = {
      silentMs: () => Math.max(0, clock.now() - (f64[F64.BEAT_TIME] ?? 0)),
      block: () => {
        const active = block();
        return active === undefined
          ? undefined
          : {
              id: active.id,
              culprit: active.stack.timing === 'none' ? undefined : culpritFrame(active.stack.frames),
              context: active.stack.context,
            };
      },
      blockedThreads,
      started: () => Atomics.load(i32, I32.LOOP_TURNED) === 1 && (!warmup || Atomics.load(i32, I32.READY) === 1),
      lag: () => {
        this.#lag.drain(clock.now());
        // With warm-up, the lag of the warm-up itself does not count against readiness.
        return this.#lag.stats(this.#afterSeq());
      },
      pressure: () => {
        const now = clock.now();
        drain(now);
        return sample(now);
      },
    };
  }

  #beatIdle(): number {
    return this.#f64[F64.BEAT_IDLE] ?? 0;
  }

  close(): void {
    clearInterval(this.#lagTimer);
  }
}

/** The process's resident set size (the worker's view of it is the whole process's). */
function rss(): number {
  try {
    return process.memoryUsage.rss();
  } catch {
    return 0;
  }
}
