// CPU-bound work in slices of a few milliseconds (so no tool sees a block), yielding to the
// loop between slices as a well-behaved batch job does.
function slice(seed) {
  // Integer hashing and a small sort: no allocation-free micro-loop that V8 could fold away.
  let h = seed | 0;
  const xs = new Array(2000);
  for (let i = 0; i < 2000; i++) {
    h = Math.imul(h ^ (h >>> 15), 2246822507) + i;
    xs[i] = h >>> 0;
  }
  xs.sort((a, b) => a - b);
  return xs[1000];
}

// Read by the caller's module so the results are observably used.
exports.sink = 0;

/** Runs `slices` slices of ~7 ms, yielding between them; returns how many ran. */
exports.cpuWork = async function cpuWork(slices, maxMs = Infinity) {
  const t0 = performance.now();
  let done = 0;
  while (done < slices && performance.now() - t0 < maxMs) {
    for (let i = 0; i < 12; i++) exports.sink ^= slice(done * 12 + i);
    await new Promise((resolve) => setImmediate(resolve));
    done++;
  }
  return done;
};
