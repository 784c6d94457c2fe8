// The main-thread hold of the sampling profiler's start in an app whose heap is already large:
// build BENCH_HEAP_MB of live objects, then start loopwatch programmatically (no preload: the
// late start a `register` preload avoids) and spin in a loop that reads the clock every few
// microseconds. V8's Profiler.start runs on this thread through an interrupt, between two reads,
// so the longest gap in the loop is its hold (a capture of a detected block is a gap too, of a
// few ms, the same with the profiler off). Run with --expose-gc: the heap's building leaves a
// major collection due, a pause of the same order, which is paid before the watch starts.
const { join } = require('node:path');
const { result } = require('./_app.cjs');

const heapMb = Number(process.env.BENCH_HEAP_MB ?? 400);
// ~81 bytes of heap a live object (three fields and a short string; measured, Node 20).
const keep = [];
for (let i = 0; i < (heapMb * 2 ** 20) / 81; i++) keep.push({ i, s: `v${i}`, o: null });
globalThis.gc?.();
const heapUsedMb = process.memoryUsage().heapUsed / 2 ** 20;

(async () => {
  // Options from code: the environment applies to the `register` preload only.
  const profiler = process.env.BENCH_PROFILER !== 'off';
  const monitor = require(join(__dirname, '..', '..', 'dist', 'index.js')).start({ log: 'off', profiler });
  const start = performance.now();
  let last = start;
  let maxGap = 0;
  let gapAt = 0;
  while (last - start < Number(process.env.BENCH_WATCH_MS ?? 3000)) {
    const now = performance.now();
    if (now - last > maxGap) {
      maxGap = now - last;
      gapAt = last - start;
    }
    last = now;
  }
  const status = await monitor.ready;
  result({ maxGap, gapAt, heapUsedMb, kept: keep.length, profiler: status.profiler });
  process.exit(0);
})();
