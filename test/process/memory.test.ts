/**
 * Memory stays flat under a storm of short blocks (issue 13, part 5). Every block is detected,
 * captured, reported and ended: whatever loopwatch keeps per block shows as growth that goes on.
 *
 * Left alone, the monitor's old generation saws with a period longer than a test can wait
 * (18,000 blocks of 3 ms: 64 → 75.7 MB at ~7,000, back to 68 by 18,000; a 6,000-block window
 * caught the rise and failed on CI). So the fixture has the monitor worker collect its garbage
 * (HeapProfiler.collectGarbage through the inspector's NodeWorker domain) every 250 blocks and
 * reads two figures there: the monitor's live heap, and RSS minus the main thread's own V8 heap
 * (the app's; V8 sizes it for the app), i.e. the monitor worker and native memory. The test
 * compares the medians of two quarters of the storm after a warm-up (6 readings each): the same
 * level again means bounded; a leak of L bytes a block raises the later median by L × 3,000.
 */
import { describe, expect, it } from 'vitest';
import { describeRun, fixture, run } from './harness.js';
import { record } from './report.js';

const BLOCKS = 6000;
const MB = 2 ** 20;
/**
 * How much the monitor's live heap may grow between the quarters: 0.5 MB, ~170 bytes a block
 * (a leak of 420 bytes a block, tried, raised it 0.9 MB).
 * Measured (Node 20, 12,000 blocks): 5.06 MB after 500 blocks, 5.25–5.61 from 2,000 on.
 */
const MAX_HEAP_RISE_MB = 0.5;
/**
 * How much RSS minus the main heap may grow: 5 MB, ~1.7 KB a block (native memory, the inspector
 * session, the worker's pages). Measured (Node 20, 12,000 blocks): 55.2–57.4 MB from 1,000 on.
 */
const MAX_RSS_RISE_MB = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  return sorted.length % 2 === 1
    ? (sorted[Math.floor(middle)] ?? NaN)
    : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
}

const tenth = (mb: number): number => Math.round(mb * 10) / 10;

describe('memory under a storm of short blocks', () => {
  it(
    `levels off: from blocks 1,500–3,000 to 4,500–6,000 the monitor's live heap grows < ${MAX_HEAP_RISE_MB} MB, RSS < ${MAX_RSS_RISE_MB} MB`,
    { timeout: 150_000 },
    async () => {
      const result = await run(fixture('block-storm.cjs'), {
        mode: 'require',
        env: {
          // The sampling profiler's running profile grows until it is rotated, every 20 s at
          // the earliest: longer than this storm. Its bound shows over the bench's 90 s storm
          // instead (profiler on: RSS −0.2 MB over the last 5,000 blocks).
          LOOPWATCH_PROFILER: 'off',
          LOOPWATCH_THRESHOLD_MS: '2',
          STORM_BLOCKS: String(BLOCKS),
          STORM_BLOCK_MS: '3',
          STORM_EVERY: '250',
          STORM_MONITOR_HEAP: '1',
        },
        timeoutMs: 140_000,
      });
      const why = describeRun(result);
      expect(result.code, why).toBe(0);
      const points = result.stdout
        .map((l) => /^MEM (\d+) (\{.*\})$/.exec(l.text))
        .filter((m) => m !== null)
        .map((m) => {
          const { rss, mainHeap, monitorHeap } = JSON.parse(m[2] ?? '{}') as {
            rss: number;
            mainHeap: number;
            monitorHeap: number;
          };
          return { blocks: Number(m[1]), rss: (rss - mainHeap) / MB, heap: monitorHeap / MB };
        });
      expect(points, why).toHaveLength(BLOCKS / 250);
      const quarter = (from: number, to: number, of: 'rss' | 'heap'): number =>
        median(points.filter((p) => p.blocks > from && p.blocks <= to).map((p) => p[of]));
      const rss = [quarter(BLOCKS / 4, BLOCKS / 2, 'rss'), quarter((BLOCKS * 3) / 4, BLOCKS, 'rss')] as const;
      const heap = [quarter(BLOCKS / 4, BLOCKS / 2, 'heap'), quarter((BLOCKS * 3) / 4, BLOCKS, 'heap')] as const;
      // The storm really went through loopwatch: most blocks were reported (under load some
      // merge, or stay under the threshold).
      const ended = result.events.filter((e) => e.state === 'ended').length;
      expect(ended, why).toBeGreaterThan(BLOCKS / 4);
      record({
        scenario: `storm of ${BLOCKS} blocks of 3 ms, monitor collected every 250: quarter medians, MB`,
        monitorHeap: heap.map(tenth),
        rssMinusMainHeap: rss.map(tenth),
        reported: ended,
      });
      const readings = points.map((p) => `${p.blocks}: ${p.heap.toFixed(2)} / ${p.rss.toFixed(1)} MB`).join(', ');
      expect(heap[1] - heap[0], `monitor heap / RSS − main heap: ${readings}`).toBeLessThan(MAX_HEAP_RISE_MB);
      expect(rss[1] - rss[0], `monitor heap / RSS − main heap: ${readings}`).toBeLessThan(MAX_RSS_RISE_MB);
    },
  );
});
