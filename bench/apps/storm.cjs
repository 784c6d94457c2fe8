// A storm of short blocks for the memory section: BENCH_BLOCKS blocks of BENCH_BLOCK_MS in a
// JavaScript loop, yielding to the event loop between them (setImmediate), with the process's
// memory at a few block counts. Run with loopwatch at a 5 ms threshold, every block is
// detected, captured, reported and ended.
const { readFileSync } = require('node:fs');
const { getHeapStatistics } = require('node:v8');
const { armed, result, spin } = require('./_app.cjs');

const blocks = Number(process.env.BENCH_BLOCKS ?? 10_000);
const blockMs = Number(process.env.BENCH_BLOCK_MS ?? 9);
const at = new Set([0, 1000, Math.round(blocks / 2), blocks]);

function memory() {
  const status = readFileSync('/proc/self/status', 'utf8');
  return {
    rss: process.memoryUsage().rss,
    anon: Number(/^RssAnon:\s+(\d+)/m.exec(status)?.[1] ?? NaN) * 1024,
    // This thread's own V8 heap (the app's); RSS minus it is the other threads and native memory.
    mainHeap: getHeapStatistics().total_physical_size,
  };
}

(async () => {
  await armed();
  const out = {};
  const startedAt = performance.now();
  for (let i = 0; i <= blocks; i++) {
    if (at.has(i)) out[i] = memory();
    if (i === blocks) break;
    spin(blockMs);
    await new Promise((resolve) => setImmediate(resolve));
  }
  result({ at: out, seconds: (performance.now() - startedAt) / 1000 });
  process.exit(0);
})();
