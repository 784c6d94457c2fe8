// The app the deterministic (callgrind) measurement runs: once the tool is armed, either idles
// for BENCH_IDLE_MS or does a fixed amount of typical server work (objects, JSON, promises,
// strings) in slices that let the loop turn between them, then exits.
const { armed, result } = require('./_app.cjs');

function slice(seed) {
  const items = [];
  for (let i = 0; i < 200; i++) items.push({ id: seed * 1000 + i, name: `item-${i}`, tags: ['a', 'b', String(i % 7)] });
  const text = JSON.stringify(items);
  const back = JSON.parse(text);
  let n = 0;
  for (const item of back) n += item.name.length + item.tags.join(',').length;
  return n;
}

async function work(slices) {
  let total = 0;
  for (let s = 0; s < slices; s++) {
    total += await Promise.all([1, 2, 3, 4].map(async (k) => slice(s * 4 + k))).then((xs) =>
      xs.reduce((a, b) => a + b),
    );
    // Let the loop turn, as a server between requests does.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return total;
}

(async () => {
  await armed();
  const mode = process.env.BENCH_MODE ?? 'idle';
  const startedAt = performance.now();
  let total = 0;
  if (mode === 'idle') await new Promise((resolve) => setTimeout(resolve, Number(process.env.BENCH_IDLE_MS ?? 3000)));
  else total = await work(Number(process.env.BENCH_SLICES ?? 400));
  result({ total, ms: performance.now() - startedAt });
  process.exit(0);
})();
