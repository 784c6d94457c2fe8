// 2. Detection latency: (time the alert was out − time the block started), per threshold, for
// every tool that alerts. Blocks last threshold + 250 ms, so a tool that only reports after
// the block shows up as such. Sentry reports one block per process, so it gets one block per
// process and more processes.
import { join } from 'node:path';
import { runBlocks } from '../lib/blocks.mjs';
import { ALERTING, BENCH } from '../lib/variants.mjs';
import { rotated } from './overhead.mjs';

export const THRESHOLDS = [50, 100, 1000];

export async function latency({ rounds, blocksPerProcess, sentryProcesses, sink, log }) {
  const out = {};
  for (const t of THRESHOLDS) {
    out[t] = Object.fromEntries(ALERTING.map((v) => [v.name, { latencies: [], missed: 0, blocks: 0, blockMs: [] }]));
    for (let r = 0; r < rounds; r++) {
      for (const v of rotated(ALERTING, r)) {
        const perProcess = v.oneReportPerProcess ? 1 : t >= 1000 ? Math.min(2, blocksPerProcess) : blocksPerProcess;
        const processes = v.oneReportPerProcess ? sentryProcesses : 1;
        for (let p = 0; p < processes; p++) {
          const { blocks } = await runBlocks({
            variant: v,
            thresholdMs: t,
            app: join(BENCH, 'apps', 'block.cjs'),
            appArgs: ['js-loop', String(perProcess), '300', String(t + 250)],
            sink,
          });
          const cell = out[t][v.name];
          for (const b of blocks) {
            cell.blocks++;
            if (b.end !== undefined) cell.blockMs.push(b.end - b.start);
            if (b.alert) cell.latencies.push(b.alert.at - b.start);
            else cell.missed++;
          }
        }
      }
      log(`latency ${t} ms: round ${r + 1}/${rounds}`);
    }
  }
  return out;
}
