// A long-lived child for the promise-heavy and CPU-bound benchmarks: it arms, says READY, then
// runs the workload named on each stdin line and answers RESULT with its wall time and CPU time
// (all threads, so a monitor's worker counts). Keeping the processes alive lets the bench
// alternate variants every few hundred milliseconds instead of every process start.
const { createInterface } = require('node:readline');
const { armed, result } = require('./_app.cjs');
const { promiseWork } = require('./promise.cjs');
const { cpuWork } = require('./cpu.cjs');

const work = { promise: promiseWork, cpu: cpuWork };

(async () => {
  await armed();
  await promiseWork(20); // warm-up
  await cpuWork(20);
  process.stdout.write('READY\n');
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const [name, size, maxMs] = line.split(' ');
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const done = await work[name](Number(size), Number(maxMs));
    const wall = performance.now() - t0;
    const { user, system } = process.cpuUsage(cpu0);
    // A tool can make the work hundreds of times slower: past maxMs it stops, and the whole is
    // extrapolated from the share done.
    const scale = Number(size) / done;
    result({ name, ms: wall * scale, cpuMs: ((user + system) / 1000) * scale, extrapolated: done < Number(size) });
  }
})();
