// The worker-pool scenario (BENCH_POOL_MODE):
// - throughput: a piscina pool (2 threads, its default atomics: 'sync') runs BENCH_TASKS small
//   tasks, 64 in flight; RESULT tasks/s.
// - block: one task blocks its pool thread for 600 ms (marked); the bench dates the alert.
// - idle: BENCH_WORKERS plain idle workers for BENCH_IDLE_MS; RESULT RSS and process CPU time
//   over the idle stretch (with LOOPWATCH_THREADS=all against main: the per-worker cost).
const { join } = require('node:path');
const { Worker } = require('node:worker_threads');
const { armed, result } = require('./_app.cjs');

const mode = process.env.BENCH_POOL_MODE ?? 'throughput';

async function throughput() {
  const { Piscina } = require('piscina');
  const pool = new Piscina({ filename: join(__dirname, 'pool-task.cjs'), minThreads: 2, maxThreads: 2 });
  const total = Number(process.env.BENCH_TASKS ?? 20_000);
  const run = async (n) => {
    let next = 0;
    const lane = async () => {
      while (next < n) {
        next++;
        await pool.run({ rounds: 20 });
      }
    };
    await Promise.all(Array.from({ length: 64 }, lane));
  };
  await run(2000); // warm-up
  const t0 = performance.now();
  await run(total);
  const ms = performance.now() - t0;
  await pool.destroy();
  result({ tasksPerSec: (total / ms) * 1000 });
}

async function block() {
  const { Piscina } = require('piscina');
  const pool = new Piscina({ filename: join(__dirname, 'pool-task.cjs'), minThreads: 2, maxThreads: 2 });
  await Promise.all([pool.run({ rounds: 1 }), pool.run({ rounds: 1 })]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await pool.run({ spinMs: 600 });
  await new Promise((resolve) => setTimeout(resolve, 300));
  await pool.destroy();
}

async function idle() {
  const count = Number(process.env.BENCH_WORKERS ?? 16);
  const workers = [];
  for (let i = 0; i < count; i++) {
    const worker = new Worker('setInterval(() => {}, 60_000)', { eval: true });
    await new Promise((resolve) => worker.once('online', resolve));
    workers.push(worker);
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, Number(process.env.BENCH_IDLE_MS ?? 3000)));
  const { user, system } = process.cpuUsage(cpu0);
  const seconds = (performance.now() - t0) / 1000;
  result({ rssMb: process.memoryUsage().rss / 2 ** 20, cpuMsPerSec: (user + system) / 1000 / seconds, workers: count });
  for (const worker of workers) await worker.terminate();
}

armed().then(() => ({ throughput, block, idle })[mode]());
