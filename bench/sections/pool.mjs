// 7. A worker pool: a piscina pool's throughput with and without loopwatch (ratio per round),
// the detection latency of a block on a pool thread, and what each watched worker costs
// (RSS and CPU of 16 idle workers with LOOPWATCH_THREADS=all against main), and what the
// opt-in profiler on each worker thread adds (LOOPWATCH_PROFILER=all against the default).
import { join } from 'node:path';
import { marks, result, runChild } from '../lib/child.mjs';
import { BENCH, byName } from '../lib/variants.mjs';
import { rotated } from './overhead.mjs';

const app = join(BENCH, 'apps', 'pool.cjs');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function pool({ rounds, sink, log }) {
  const throughput = { none: [], loopwatch: [], ratio: [] };
  for (let r = 0; r < rounds; r++) {
    const round = {};
    for (const name of rotated(['none', 'loopwatch'], r)) {
      const { args, env } = byName(name).setup({ sinkUrl: sink.url });
      const run = await runChild({ args: [...args, app], env: { ...env, BENCH_POOL_MODE: 'throughput' } });
      round[name] = result(run).tasksPerSec;
      throughput[name].push(round[name]);
    }
    throughput.ratio.push(round.loopwatch / round.none);
    log(`pool throughput round ${r + 1}/${rounds}: ${JSON.stringify(round)}`);
  }

  const latency = [];
  for (let r = 0; r < rounds; r++) {
    const { args, env } = byName('loopwatch').setup({ thresholdMs: 100, forBlocks: true });
    const run = await runChild({ args: [...args, app], env: { ...env, BENCH_POOL_MODE: 'block' } });
    const marked = marks(run.lines).find((m) => m.name.startsWith('block-'));
    const alert = run.lines.find((l) => l.text.includes('"state":"ongoing"') && l.text.includes('renderThumbnail'));
    const event = alert === undefined ? undefined : JSON.parse(alert.text.slice(alert.text.indexOf('{')));
    latency.push({
      ms: marked === undefined || alert === undefined ? undefined : alert.at - marked.at,
      thread: event?.thread,
      threadName: event?.threadName,
      culprit: event?.culprit?.function,
    });
    log(`pool block round ${r + 1}/${rounds}: ${JSON.stringify(latency.at(-1))}`);
  }

  // all: every worker watched; main: none; profiled: every worker watched and profiled.
  const idle = { all: [], main: [], profiled: [] };
  const variants = {
    all: { LOOPWATCH_THREADS: 'all' },
    main: { LOOPWATCH_THREADS: 'main' },
    profiled: { LOOPWATCH_THREADS: 'all', LOOPWATCH_PROFILER: 'all' },
  };
  for (let r = 0; r < rounds; r++) {
    for (const name of rotated(Object.keys(variants), r)) {
      const { args, env } = byName('loopwatch').setup({});
      const run = await runChild({
        args: [...args, app],
        env: { ...env, BENCH_POOL_MODE: 'idle', ...variants[name], LOOPWATCH_LOG: 'off' },
      });
      idle[name].push(result(run));
    }
    log(`pool idle round ${r + 1}/${rounds}`);
  }
  const workers = idle.all[0]?.workers ?? 16;
  const per = (more, less) => ({
    rssMb: (median(idle[more].map((x) => x.rssMb)) - median(idle[less].map((x) => x.rssMb))) / workers,
    cpuMsPerSec:
      (median(idle[more].map((x) => x.cpuMsPerSec)) - median(idle[less].map((x) => x.cpuMsPerSec))) / workers,
  });
  return {
    throughput,
    latency,
    idle,
    perWorker: per('all', 'main'),
    perWorkerProfiler: per('profiled', 'all'),
    workers,
  };
}
