/**
 * Memory stays flat under a storm of short blocks (issue 13, part 5). Every block is detected,
 * captured, reported and ended: whatever loopwatch keeps per block, or lets V8 grow per block,
 * shows as growth that goes on. A bounded monitor levels off once its heaps have reached their
 * working size, then saws between garbage collections; so the test compares the peaks of two
 * stretches of the storm, a quarter of it each, after a warm-up: the same peak again means
 * bounded; a leak of L bytes a block raises the later peak by L × 3,000.
 *
 * The figure is RSS minus the main thread's own V8 heap (the app's: V8 sizes it for the app),
 * i.e. the monitor worker and native memory. See the measured figures below at MAX_RISE_MB.
 */
import { describe, expect, it } from 'vitest';
import { describeRun, fixture, run } from './harness.js';
import { record } from './report.js';

const BLOCKS = 6000;
const MB = 2 ** 20;
/**
 * How much higher the last quarter's peak may be than the second quarter's: 5 MB, ~1.7 KB a
 * block. Measured (2 cores, loaded), 6,000 blocks of 3 ms at a 2 ms threshold: Node 20,
 * 66.9 → 68.2 and 66.0 → 68.5 MB (+1.3, +2.5); Node 24, 73.0 → 75.5 (+2.5) — a slow creep that
 * the bench's 10,000-block storm also shows (RSS minus the main heap +1.9 MB over its last 5,000
 * blocks, +0.4 without a monitor). On the build before the worker's young generation was capped
 * (src/main/monitor.ts): 79.9 → 93.4 MB (+13.5), in steps as V8 doubled the worker's semi-spaces.
 */
const MAX_RISE_MB = 5;

describe('memory under a storm of short blocks', () => {
  it(
    `levels off: the peak of blocks 4,500–6,000 is < ${MAX_RISE_MB} MB above that of 1,500–3,000`,
    { timeout: 150_000 },
    async () => {
      const result = await run(fixture('block-storm.cjs'), {
        mode: 'require',
        env: {
          // The sampling profiler's running profile grows until it is rotated, every 20 s at
          // the earliest: longer than this storm, whose last quarter then rises 5.1–5.6 MB with
          // it (2.2 without; measured 4 runs, Node 20, quiet machine). Its bound shows over the
          // bench's 90 s storm instead (profiler on: RSS −0.2 MB over the last 5,000 blocks).
          LOOPWATCH_PROFILER: 'off',
          LOOPWATCH_THRESHOLD_MS: '2',
          STORM_BLOCKS: String(BLOCKS),
          STORM_BLOCK_MS: '3',
          STORM_EVERY: '250',
        },
        timeoutMs: 140_000,
      });
      const why = describeRun(result);
      expect(result.code, why).toBe(0);
      const points = result.stdout
        .map((l) => /^MEM (\d+) (\{.*\})$/.exec(l.text))
        .filter((m) => m !== null)
        .map((m) => {
          const { rss, mainHeap } = JSON.parse(m[2] ?? '{}') as { rss: number; mainHeap: number };
          return { blocks: Number(m[1]), mb: (rss - mainHeap) / MB };
        });
      expect(points, why).toHaveLength(BLOCKS / 250);
      const peak = (from: number, to: number): number =>
        Math.max(...points.filter((p) => p.blocks > from && p.blocks <= to).map((p) => p.mb));
      const second = peak(BLOCKS / 4, BLOCKS / 2);
      const last = peak((BLOCKS * 3) / 4, BLOCKS);
      // The storm really went through loopwatch: most blocks were reported (under load some
      // merge, or stay under the threshold).
      const ended = result.events.filter((e) => e.state === 'ended').length;
      expect(ended, why).toBeGreaterThan(BLOCKS / 4);
      record({
        scenario: `storm of ${BLOCKS} blocks of 3 ms: RSS − main heap, peaks`,
        secondQuarterMb: Math.round(second * 10) / 10,
        lastQuarterMb: Math.round(last * 10) / 10,
        reported: ended,
        points: points.map((p) => Math.round(p.mb * 10) / 10),
      });
      expect(last - second, points.map((p) => `${p.blocks}: ${p.mb.toFixed(1)} MB`).join(', ')).toBeLessThan(
        MAX_RISE_MB,
      );
    },
  );
});
