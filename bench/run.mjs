#!/usr/bin/env node
// `npm run bench [-- --quick] [--only=overhead,latency,attribution,cost,memory,pool,callgrind] [--no-docs]`
// Builds loopwatch, runs every section with each variant in its own child process, prints the
// comparison table and writes docs/benchmarks.md. See bench/README.md for the method.
import { execSync } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, release } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './lib/variants.mjs';
import { startSink } from './lib/sink.mjs';
import { overhead } from './sections/overhead.mjs';
import { latency } from './sections/latency.mjs';
import { attribution } from './sections/attribution.mjs';
import { cost } from './sections/cost.mjs';
import { memory } from './sections/memory.mjs';
import { callgrind } from './sections/callgrind.mjs';
import { pool } from './sections/pool.mjs';
import { summaryTable } from './lib/report.mjs';
import { writeDocs } from './docs.mjs';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const only = argv
  .find((a) => a.startsWith('--only='))
  ?.slice(7)
  .split(',');
const want = (s) => !only || only.includes(s);

// Quick: enough rounds to see a spread, in a few minutes. Full: more rounds, longer loads.
const plan = quick
  ? {
      httpRounds: 3,
      httpSeconds: 1,
      rounds: 3,
      promiseRounds: 150,
      cpuSlices: 50,
      promiseMaxMs: 1500,
      latencyRounds: 1,
      blocksPerProcess: 2,
      sentryProcesses: 2,
      scenarios: ['js-loop', 'regexp', 'json-parse', 'child-process', 'startup', 'ts'],
      costRounds: 2,
      memoryRounds: 3,
      stormRounds: 1,
      stormBlocks: 10_000,
      poolRounds: 3,
    }
  : {
      httpRounds: 12,
      httpSeconds: 2,
      rounds: 15,
      promiseRounds: 150,
      cpuSlices: 50,
      promiseMaxMs: 2000,
      latencyRounds: 2,
      blocksPerProcess: 10,
      sentryProcesses: 3,
      scenarios: undefined,
      costRounds: 4,
      memoryRounds: 5,
      stormRounds: 2,
      stormBlocks: 10_000,
      poolRounds: 6,
    };

// --docs-from=<results.json>: re-render docs/benchmarks.md from a saved run (bench/last-run.json)
// without measuring again — for changes to the report's wording, never to its figures.
const docsFrom = argv.find((a) => a.startsWith('--docs-from='))?.slice(12);
/** JSON has no NaN or ±Infinity (a ratio to a 0 ms p99, a failed round): saved as strings. */
const NON_FINITE = new Map([
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
]);
const keepNonFinite = (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);
const restoreNonFinite = (_, v) => (NON_FINITE.has(v) ? NON_FINITE.get(v) : v);
if (docsFrom) {
  const saved = JSON.parse(readFileSync(docsFrom, 'utf8'), restoreNonFinite);
  writeDocs({ ...saved, summary: summaryTable(saved.res) });
  process.stdout.write(`${summaryTable(saved.res)}\n`);
  process.exit(0);
}

const t0 = Date.now();
const log = (msg) => process.stderr.write(`bench [${((Date.now() - t0) / 1000).toFixed(0)} s] ${msg}\n`);

execSync('npm run build --silent', { cwd: ROOT, stdio: 'inherit' });

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memGB: (totalmem() / 2 ** 30).toFixed(1),
  kernel: release(),
  node: process.version,
  loadBefore: loadavg(),
  startedAt: new Date().toISOString(),
};
const versions = Object.fromEntries(
  [
    '@sentry/node',
    '@sentry/node-native',
    'blocked-at',
    'blocked',
    '@opentelemetry/instrumentation-runtime-node',
    'prom-client',
    'autocannon',
    '@opentelemetry/sdk-metrics',
  ].map((p) => [p, JSON.parse(readFileSync(join(ROOT, 'node_modules', p, 'package.json'), 'utf8')).version]),
);
log(
  `${quick ? 'quick' : 'full'} run on ${machine.cores}× ${machine.cpu}, Node ${machine.node}, load ${machine.loadBefore.map((x) => x.toFixed(2)).join(' ')}`,
);

const sink = await startSink();
const res = {};
try {
  if (want('overhead')) res.overhead = await overhead({ ...plan, sink, log });
  if (want('latency')) res.latency = await latency({ ...plan, rounds: plan.latencyRounds, sink, log });
  if (want('attribution')) res.attribution = await attribution({ scenarios: plan.scenarios, sink, log });
  if (want('cost')) res.cost = await cost({ rounds: plan.costRounds, sink, log });
  if (want('memory'))
    res.memory = await memory({
      rounds: plan.memoryRounds,
      stormRounds: plan.stormRounds,
      stormBlocks: plan.stormBlocks,
      sink,
      log,
    });
  if (want('pool')) res.pool = await pool({ rounds: plan.poolRounds, sink, log });
  // Deterministic, so one run of each variant; skipped in quick runs (it takes minutes).
  if ((!quick && want('callgrind')) || only?.includes('callgrind')) res.callgrind = await callgrind({ log });
} finally {
  await sink.close();
}
machine.loadAfter = loadavg();
machine.minutes = ((Date.now() - t0) / 60_000).toFixed(1);
machine.sinkRequests = sink.count();

const summary = summaryTable(res);
process.stdout.write(
  `\n${summary}\n\nratios are to "no monitor" in the same round: median (min–max); × > 1 is slower for times, < 1 is fewer req/s\n`,
);
process.stdout.write(
  `${machine.minutes} min; load average before ${machine.loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${machine.loadAfter.map((x) => x.toFixed(2)).join(' ')}\n`,
);
writeFileSync(
  join(ROOT, 'bench', 'last-run.json'),
  JSON.stringify({ quick, plan, machine, versions, res }, keepNonFinite, 1),
);
if (!argv.includes('--no-docs') && !only) {
  writeDocs({ quick, plan, machine, versions, res, summary });
  log('wrote docs/benchmarks.md');
}
