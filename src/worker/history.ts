/**
 * Blocks that were over before the watchdog armed, read from the heartbeat's history in the
 * shared buffer. The worker arms some tens of milliseconds after `start()` (hundreds on a
 * loaded machine); a start-up block that ends before then left one beat behind it that ran
 * late, and the busy ring says how long the loop was busy before that beat. A pure function of
 * the rings, so it is unit-tested without threads.
 */
import { LAG_RING_SIZE } from '../protocol/shared.js';

export interface HistoryInput {
  /** The lag ring (µs each beat ran past its period), see protocol/shared.ts. */
  readonly lagRing: Int32Array;
  /** The busy ring (µs the loop was busy since the beat before), see protocol/shared.ts. */
  readonly busyRing: Int32Array;
  /** The sequence number of the last beat (the number of beats since `start()`). */
  readonly seq: number;
  /** Epoch ms of that beat. */
  readonly beatTime: number;
  /** The main thread's beat period, ms. */
  readonly beatMs: number;
  readonly thresholdMs: number;
}

export interface PastBlock {
  /** The beat that ended the block (the first after it). */
  readonly seq: number;
  /** The time the loop was busy before that beat, ms: the block's duration, as `ended` reports it. */
  readonly durationMs: number;
  /** Epoch ms the block started (end of the idle time before it). */
  readonly startedAt: number;
  /** Epoch ms of the beat that ended it. */
  readonly turnedAt: number;
}

/**
 * Every beat so far (at most the ring's size, from the newest back) that followed a busy
 * stretch of at least `thresholdMs`, oldest first. A beat's time is the next one's minus its
 * gap (period + lag), so the times are exact to the lag ring's microsecond, except after an
 * early beat (a `settle()` beat, whose negative lag the ring clamps to 0).
 *
 * The measure is the busy time, not the silence the watchdog counts: without a stack to tell,
 * a silence spent idle (a process stopped while its loop waited, say) is not a block.
 */
export function pastBlocks(input: HistoryInput): PastBlock[] {
  const { lagRing, busyRing, seq, beatTime, beatMs, thresholdMs } = input;
  const count = Math.min(seq, LAG_RING_SIZE);
  const found: PastBlock[] = [];
  let time = beatTime;
  for (let i = 0; i < count; i++) {
    const beat = (seq - i) | 0;
    const slot = beat & (LAG_RING_SIZE - 1);
    const busyMs = (busyRing[slot] ?? 0) / 1000;
    if (busyMs >= thresholdMs) found.push({ seq: beat, durationMs: busyMs, startedAt: time - busyMs, turnedAt: time });
    time -= beatMs + (lagRing[slot] ?? 0) / 1000;
  }
  return found.reverse();
}
