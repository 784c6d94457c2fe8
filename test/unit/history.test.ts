import { describe, expect, it } from 'vitest';
import { LAG_RING_SIZE } from '../../src/protocol/shared.js';
import { pastBlocks } from '../../src/worker/history.js';

const BEAT_MS = 12;
const THRESHOLD = 100;

/** The main thread's beats, as it writes them into the rings: each with its gap and its idle time, ms. */
function history(beats: readonly { gap: number; idle: number }[], start = 1_000_000) {
  const lagRing = new Int32Array(LAG_RING_SIZE);
  const busyRing = new Int32Array(LAG_RING_SIZE);
  let time = start;
  beats.forEach(({ gap, idle }, i) => {
    const slot = (i + 1) & (LAG_RING_SIZE - 1);
    lagRing[slot] = Math.max(0, Math.round((gap - BEAT_MS) * 1000));
    busyRing[slot] = Math.max(0, Math.round((gap - idle) * 1000));
    time += gap;
  });
  return { lagRing, busyRing, seq: beats.length, beatTime: time, beatMs: BEAT_MS, thresholdMs: THRESHOLD };
}

const idle = { gap: BEAT_MS, idle: BEAT_MS - 0.5 };

describe('blocks in the heartbeat history', () => {
  it('none before the first beat', () => {
    expect(pastBlocks(history([]))).toEqual([]);
  });

  it('a block before the first beat (top-level code after the preload): the first beat ran late', () => {
    const start = 1_000_000;
    expect(pastBlocks(history([{ gap: 262, idle: 0 }, idle, idle], start))).toEqual([
      { seq: 1, durationMs: 262, startedAt: start, turnedAt: start + 262 },
    ]);
  });

  it('the busy time between two beats, not the silence: idle time before the block is not counted', () => {
    const start = 1_000_000;
    const found = pastBlocks(history([idle, idle, { gap: 260, idle: 10 }, idle], start));
    expect(found).toHaveLength(1);
    expect(found[0]?.seq).toBe(3);
    expect(found[0]?.durationMs).toBeCloseTo(250, 6);
    expect(found[0]?.turnedAt).toBeCloseTo(start + 2 * BEAT_MS + 260, 6);
    expect(found[0]?.startedAt).toBeCloseTo(start + 2 * BEAT_MS + 10, 6);
  });

  it('a long silence spent idle is not a block; a busy stretch under the threshold is not either', () => {
    expect(pastBlocks(history([idle, { gap: 500, idle: 495 }, { gap: 99, idle: 0 }, idle]))).toEqual([]);
  });

  it('several, oldest first; exactly the threshold counts', () => {
    const found = pastBlocks(history([{ gap: 150, idle: 0 }, idle, { gap: THRESHOLD + 3, idle: 3 }, idle]));
    expect(found.map((b) => [b.seq, Math.round(b.durationMs)])).toEqual([
      [1, 150],
      [3, THRESHOLD],
    ]);
  });

  it('only as far back as the ring holds', () => {
    const beats = [{ gap: 300, idle: 0 }, ...Array.from({ length: LAG_RING_SIZE }, () => idle)];
    expect(pastBlocks(history(beats))).toEqual([]);
    expect(pastBlocks(history(beats.slice(0, LAG_RING_SIZE)))).toHaveLength(1);
  });
});
