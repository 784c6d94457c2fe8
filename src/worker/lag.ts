/**
 * The loop's recent lag, from the ring the main thread's heartbeat fills (how late each beat
 * ran). Unlike `monitorEventLoopDelay` on Node ≤ 24 it has no sampling-resolution floor: an
 * idle loop shows ~0–1 ms (timer granularity), not the resolution. A block shows up as one
 * late beat once it has ended; while it lasts, the silence since the last beat says more.
 */
import { I32, LAG_RING_SIZE } from '../protocol/shared.js';

export interface LagStats {
  /** The window the figures cover, ms. */
  readonly windowMs: number;
  /** Beats in the window. */
  readonly samples: number;
  readonly minMs: number;
  readonly meanMs: number;
  readonly stddevMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** How far back the figures look. */
const LAG_WINDOW_MS = 10_000;

export class LagWindow {
  readonly #ring: Int32Array;
  readonly #i32: Int32Array;
  readonly #windowMs: number;
  /** Batches of lags (µs) with the time they were drained and the beat number of the first, oldest first. */
  readonly #batches: { at: number; firstSeq: number; lags: Int32Array }[] = [];
  #seq: number;
  #cached: { fromSeq: number; stats: LagStats } | undefined;

  constructor(ring: Int32Array, i32: Int32Array, windowMs = LAG_WINDOW_MS) {
    this.#ring = ring;
    this.#i32 = i32;
    this.#windowMs = windowMs;
    this.#seq = Atomics.load(i32, I32.SEQ);
  }

  /** Takes the beats since the last call. Call at least every 250 ms. */
  drain(now: number): void {
    const seq = Atomics.load(this.#i32, I32.SEQ);
    // More beats than the ring holds since the last visit: the oldest are gone; keep the rest.
    // Int32 arithmetic throughout: SEQ wraps after 2^31 beats (25 days at the fastest beat).
    const count = Math.min((seq - this.#seq) | 0, LAG_RING_SIZE);
    this.#seq = seq;
    if (count > 0) {
      const lags = new Int32Array(count);
      const first = (seq - count + 1) | 0;
      for (let i = 0; i < count; i++) lags[i] = this.#ring[(first + i) & (LAG_RING_SIZE - 1)] ?? 0;
      this.#batches.push({ at: now, firstSeq: first, lags });
    }
    while (this.#batches.length > 0 && (this.#batches[0]?.at ?? now) < now - this.#windowMs) this.#batches.shift();
    this.#cached = undefined;
  }

  /** The heartbeat sequence number drained up to. */
  get seq(): number {
    return this.#seq;
  }

  /**
   * The largest lag (ms) of the beats drained in the last `ms` (give or take one drain period),
   * counting only beats after `afterSeq`.
   */
  maxSince(now: number, ms: number, afterSeq = 0): number {
    let max = 0;
    for (const batch of this.#batches) {
      if (batch.at < now - ms) continue;
      const skip = afterSeq === 0 ? 0 : Math.max(0, ((afterSeq - batch.firstSeq) | 0) + 1);
      for (let i = skip; i < batch.lags.length; i++) max = Math.max(max, batch.lags[i] ?? 0);
    }
    return max / 1000;
  }

  /** Percentiles over the window, counting only beats after `afterSeq` (the end of a warm-up). */
  stats(afterSeq = 0): LagStats {
    if (this.#cached?.fromSeq === afterSeq) return this.#cached.stats;
    const kept: Int32Array[] = [];
    for (const batch of this.#batches) {
      const skip = afterSeq === 0 ? 0 : Math.max(0, ((afterSeq - batch.firstSeq) | 0) + 1);
      if (skip < batch.lags.length) kept.push(skip === 0 ? batch.lags : batch.lags.subarray(skip));
    }
    const total = kept.reduce((sum, lags) => sum + lags.length, 0);
    const all = new Int32Array(total);
    let offset = 0;
    for (const lags of kept) {
      all.set(lags, offset);
      offset += lags.length;
    }
    all.sort();
    const at = (q: number): number =>
      total === 0 ? 0 : round((all[Math.min(total - 1, Math.ceil(q * total) - 1)] ?? 0) / 1000);
    let sum = 0;
    for (const lag of all) sum += lag;
    const mean = total === 0 ? 0 : sum / total;
    let squares = 0;
    for (const lag of all) squares += (lag - mean) ** 2;
    const stats = {
      windowMs: this.#windowMs,
      samples: total,
      minMs: total === 0 ? 0 : round((all[0] ?? 0) / 1000),
      meanMs: round(mean / 1000),
      stddevMs: total === 0 ? 0 : round(Math.sqrt(squares / total) / 1000),
      p50Ms: at(0.5),
      p90Ms: at(0.9),
      p99Ms: at(0.99),
      maxMs: total === 0 ? 0 : round((all[total - 1] ?? 0) / 1000),
    };
    this.#cached = { fromSeq: afterSeq, stats };
    return stats;
  }
}

/**
 * Event-loop utilization over the window, from the heartbeat's (time, cumulative idle) pairs:
 * 1 − idle / elapsed. During a block the last beat is old and the time since counts as busy.
 */
export class UtilizationWindow {
  readonly #windowMs: number;
  readonly #points: { at: number; idle: number }[] = [];

  constructor(windowMs = LAG_WINDOW_MS) {
    this.#windowMs = windowMs;
  }

  /** Records the latest beat (epoch ms and cumulative idle ms). Call every drain. */
  sample(beatTime: number, beatIdle: number): void {
    const last = this.#points.at(-1);
    if (last !== undefined && last.at === beatTime) return;
    this.#points.push({ at: beatTime, idle: beatIdle });
    while (this.#points.length > 2 && (this.#points[1]?.at ?? beatTime) <= beatTime - this.#windowMs)
      this.#points.shift();
  }

  /** 0–1, or 0 before two beats were seen. */
  utilization(now: number, beatIdle: number): number {
    const first = this.#points[0];
    if (first === undefined || now <= first.at) return 0;
    const busy = 1 - (beatIdle - first.idle) / (now - first.at);
    return Math.min(1, Math.max(0, Math.round(busy * 1000) / 1000));
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
