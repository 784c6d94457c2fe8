// Main-thread time spent per captured block, in an app with many loaded modules: require the
// generated modules (BENCH_MODULES_DIR), then block in a loop that reads the clock every few
// microseconds. A capture runs on this thread through an interrupt between two clock reads,
// so the largest gap in the loop (minus the same figure without a tool) is its cost, and
// the sum of gaps over 1 ms is how much it lengthened the block.
const { readdirSync } = require('node:fs');
const { join } = require('node:path');
const { armed, mark, result } = require('./_app.cjs');

const dir = process.env.BENCH_MODULES_DIR;
let loaded = 0;
for (const f of readdirSync(dir))
  if (f.endsWith('.js')) {
    require(join(dir, f));
    loaded++;
  }

function blockAndWatch(ms) {
  const start = performance.now();
  let last = start;
  let maxGap = 0;
  let stolen = 0;
  while (last - start < ms) {
    const now = performance.now();
    const gap = now - last;
    if (gap > maxGap) maxGap = gap;
    if (gap > 1) stolen += gap;
    last = now;
  }
  return { maxGap, stolen };
}

(async () => {
  await armed();
  mark('block');
  const r = blockAndWatch(Number(process.env.BENCH_BLOCK_MS ?? 400));
  mark('unblock');
  // Let the tool finish (loopwatch's ended event, Sentry's envelope) before exiting.
  await new Promise((resolve) => setTimeout(resolve, 300));
  result({ ...r, loaded });
  process.exit(0);
})();
