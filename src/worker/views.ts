/**
 * What the metrics and the health endpoints read of the loop: its lag over the recent window
 * (drained from the shared lag ring), its utilization, its busy and idle time, and the block
 * being reported. The main thread's load shedder reads the lag's p99 from the shared buffer.
 */
import { culpritFrame } from '../common/frames.js';
import { F64, I32, type SharedViews } from '../protocol/shared.js';
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
  constructor(
    views: SharedViews,
    clock: Clock,
    warmup: boolean,
    block: () => ActiveBlock | undefined,
    blockedThreads: () => readonly BlockedThread[] = () => [],
  ) {
    const { i32, f64, lagRing } = views;
    this.#f64 = f64;
    this.#lag = new LagWindow(lagRing, i32);
    this.#startedAt = { time: clock.now(), idle: this.#beatIdle() };

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
    // The figures go to the shared buffer at each drain: the load shedder reads the p99, the
    // prom-client bridge all of them, on the app's thread, without asking this one.
    this.#lagTimer = setInterval(() => {
      this.#lag.drain(clock.now());
      this.#utilization.sample(f64[F64.BEAT_TIME] ?? 0, this.#beatIdle());
      const lag = this.#lag.stats();
      f64[F64.LAG_P99] = lag.p99Ms;
      f64[F64.LAG_MIN] = lag.minMs;
      f64[F64.LAG_MAX] = lag.maxMs;
      f64[F64.LAG_MEAN] = lag.meanMs;
      f64[F64.LAG_STDDEV] = lag.stddevMs;
      f64[F64.LAG_P50] = lag.p50Ms;
      f64[F64.LAG_P90] = lag.p90Ms;
      f64[F64.UTILIZATION] = this.telemetry.utilization();
      const time = this.telemetry.loopTime();
      f64[F64.LOOP_ACTIVE_S] = time.active;
      f64[F64.LOOP_IDLE_S] = time.idle;
    }, LAG_DRAIN_MS);
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
        return this.#lag.stats(warmup ? Atomics.load(i32, I32.READY_SEQ) : 0);
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
