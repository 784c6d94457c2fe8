// Promise-heavy async work: many concurrent async chains awaiting resolved promises and
// microtasks, the pattern of a busy service's business logic (and the worst case for tools
// built on async_hooks).
async function step(value) {
  await null;
  return { value: value + 1 };
}

async function chain(depth) {
  let v = 0;
  for (let i = 0; i < depth; i++) v = (await step(v)).value;
  return v;
}

async function round() {
  const tasks = [];
  for (let i = 0; i < 500; i++) tasks.push(chain(20).then((x) => x * 2));
  await Promise.all(tasks);
  // A macrotask turn between rounds, as between requests: heartbeats and timers run here.
  await new Promise((resolve) => setImmediate(resolve));
}

/** Runs `rounds` rounds, or fewer if `maxMs` passes first; returns how many ran. */
exports.promiseWork = async function promiseWork(rounds, maxMs = Infinity) {
  const t0 = performance.now();
  let done = 0;
  while (done < rounds && performance.now() - t0 < maxMs) {
    await round();
    done++;
  }
  return done;
};
