// Writes docs/benchmarks.md from a run's results: method, machine, every table, and the
// targets of issue 6 checked against the figures (met / missed, with what would fix a miss).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, VARIANTS } from './lib/variants.mjs';
import { SCENARIOS } from './sections/attribution.mjs';
import { median, quantile } from './lib/stats.mjs';
import { overheadTables, latencyTable, attributionTable, costTables, memoryTables } from './lib/report.mjs';

const load = (l) => l.map((x) => x.toFixed(2)).join(' ');

/**
 * Before issue 13's memory work (commit 224e505), measured the same way, Node 20, for the
 * record: the generator cannot re-measure a build that is gone.
 */
const BEFORE = [
  "Before the memory work of issue 13 (commit 224e505: no `resourceLimits` on the worker, its health, telemetry and profiler modules loaded whether configured or not), measured with this section's apps, quick run (3 idle rounds, 1 storm), Node 20.20, same machine, load average 10–13:",
  '',
  '| | RSS MB | anonymous MB | file MB |',
  '| --- | --- | --- | --- |',
  '| an empty worker thread | 12.1 | 8.2 | 4.1 |',
  "| loopwatch's modules on the main thread | 7.6 | 1.9 | 5.7 |",
  "| the monitor's modules, heap and heartbeat | 2.2 | 2.0 | 0.3 |",
  '| stack capture | 0.7 | 0.1 | 0.6 |',
  '| **total, defaults** | 20.0 | 11.6 | 8.5 |',
  '| OpenTelemetry SDK and OTLP exporters | 15.0 | 14.1 | 0.8 |',
  '| **total, with OTLP export** | 36.2 | 26.0 | 10.1 |',
  '',
  "Storm of 10,000 blocks of 9 ms, before: RSS grew 16.2 MB after 1,000 blocks, 40.1 MB after 5,000, 47.8 MB after 10,000 (7.7 MB over the last 5,000; 8,360 blocks reported); without a monitor 6.8, 9.4 and 9.5 MB. The monitor worker's young generation doubled under the allocation of each block's capture and report, up to 32 MB of new space, almost all of it empty.",
].join('\n');

const spread = (xs) => `(${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)})`;
/** When the paired ratios straddle 1, the miss is not resolved from the machine's noise. */
const noise = (xs) =>
  Math.min(...xs) <= 1 && Math.max(...xs) >= 1
    ? 'not resolved: the paired ratios straddle 1, the noise of the shared machine is larger than the target — '
    : '';

/** Each target: figure, met?, and what would fix a miss. */
export function targets(res) {
  const out = [];
  const o = res.overhead;
  const add = (target, figure, met, fix, caveat = '') => out.push({ target, figure, met, fix, caveat });
  // A median inside the target with paired ratios spread far wider than it is not a proof.
  const unresolved = (xs, tol) =>
    Math.max(...xs) - Math.min(...xs) > 4 * tol
      ? `not resolved: the paired ratios range ${spread(xs).slice(1, -1)}, far wider than ±${tol * 100}% — the shared machine's noise`
      : '';
  if (o) {
    const rps = median(o.rps.loopwatch);
    const p99 = median(o.p99.loopwatch);
    const pr = median(o.promise.loopwatch);
    const cpu = median(o.cpu.loopwatch);
    add(
      'HTTP req/s within 1% of no monitor',
      `× ${rps.toFixed(3)} ${spread(o.rps.loopwatch)}`,
      rps >= 0.99,
      `${noise(o.rps.loopwatch)}if it is real: fewer heartbeats (one per threshold/8 now) or a cheaper beat`,
      unresolved(o.rps.loopwatch, 0.01),
    );
    add(
      'HTTP p99 within 1% of no monitor',
      `× ${p99.toFixed(3)} ${spread(o.p99.loopwatch)}`,
      p99 <= 1.01,
      `${noise(o.p99.loopwatch)}autocannon's p99 has 1 ms resolution and loopback p99 is a few ms, so one step is 15–35%: resolving 1% needs a µs-resolution load generator (wrk) and longer slices on a quiet machine`,
      `${unresolved(o.p99.loopwatch, 0.01)}; autocannon's p99 has 1 ms resolution (one step is ${(100 / res.overhead.baseline.p99).toFixed(0)}% of the no-monitor p99 here)`,
    );
    add(
      'promise-heavy within 2%',
      `× ${pr.toFixed(3)} ${spread(o.promise.loopwatch)}`,
      pr <= 1.02,
      `${noise(o.promise.loopwatch)}the heartbeat timer is loopwatch's only main-thread work: a longer interval`,
      unresolved(o.promise.loopwatch, 0.02),
    );
    add(
      'CPU-bound within 2%',
      `× ${cpu.toFixed(3)} ${spread(o.cpu.loopwatch)}`,
      cpu <= 1.02,
      `${noise(o.cpu.loopwatch)}same: the heartbeat is the only main-thread work`,
      unresolved(o.cpu.loopwatch, 0.02),
    );
  }
  if (res.latency) {
    const c = res.latency[50].loopwatch;
    const p = quantile(c.latencies, 0.99);
    add(
      'alert within threshold + 10 ms at p99, threshold 50 ms',
      `p99 ${p.toFixed(0)} ms (n=${c.latencies.length}, ${c.missed} missed)`,
      p <= 60 && c.missed === 0,
      'the worker wakes when the last beat is a threshold old; the rest is thread wake-up and capture on a loaded machine — a capture deadline shorter than 50 ms at low thresholds would bound it',
    );
  }
  if (res.attribution) {
    const js = SCENARIOS.filter((s) => s.js && res.attribution[s.name]);
    const bad = js.filter(
      (s) => !(res.attribution[s.name].loopwatch.culprit && res.attribution[s.name].loopwatch.timing === 'during'),
    );
    add(
      'culprit right and taken during the block, every JS-level scenario',
      `${js.length - bad.length}/${js.length}${bad.length ? ` (missed: ${bad.map((s) => s.name).join(', ')})` : ''}`,
      bad.length === 0,
      'see the attribution table for the scenario',
    );
    const native = SCENARIOS.filter((s) => !s.js && res.attribution[s.name]);
    const wrong = native.filter((s) => {
      const j = res.attribution[s.name].loopwatch;
      return !(j.culprit || j.timing === 'late' || j.timing === 'none');
    });
    add(
      'long native calls: culprit right, or honestly marked late',
      `${native.length - wrong.length}/${native.length}`,
      wrong.length === 0,
      'mark the stack late when the heartbeat moved before the capture answered',
    );
  }
  if (res.cost) {
    const gaps = res.cost.capture.loopwatch.map((r, i) => r.maxGap - (res.cost.capture.none[i]?.maxGap ?? NaN));
    const g = median(gaps);
    const longest = median(res.cost.capture.loopwatch.map((r) => r.maxGap));
    add(
      'main-thread time per capture < 5 ms with 2,000 modules',
      `${g.toFixed(2)} ms (longest pause in the block, paired, minus no monitor); longest pause with loopwatch ${longest.toFixed(2)} ms`,
      g < 5 && longest < 5,
      'a smaller capture expression, fewer frames (maxFrames)',
      g < 1
        ? 'the capture is below the preemption pauses of this machine: the longest pause is no longer with loopwatch than without'
        : '',
    );
  }
  // The memory section measures the same extra RSS with more rounds; the cost section's figure
  // is the fallback when only that section ran.
  const extra = (name) =>
    res.memory
      ? median(
          res.memory.idle[name === 'loopwatch-otel' ? 'otel' : 'loopwatch'].map(
            (x, i) => (x.rss - (res.memory.idle.none[i]?.rss ?? NaN)) / 2 ** 20,
          ),
        )
      : res.cost
        ? median(res.cost.rssExtra[name])
        : undefined;
  const r1 = extra('loopwatch');
  const r2 = extra('loopwatch-otel');
  /** The anonymous (private) part of the same extra, when the memory section ran. */
  const own = (part) =>
    res.memory
      ? `; of it, this process's own (anonymous) memory ${median(res.memory.idle[part].map((x, i) => (x.anon - (res.memory.idle.none[i]?.anon ?? NaN)) / 2 ** 20)).toFixed(1)} MB`
      : '';
  /** The same extra in a small service, on every Node version the memory section ran on. */
  const inService = (part) => {
    const rows = res.memory?.byNode ?? [];
    if (rows.length === 0) return '';
    const cells = rows.map((e) => {
      const runs = e.service;
      const mb = median(runs[part].map((x, i) => (x.rss - (runs.none[i]?.rss ?? NaN)) / 2 ** 20));
      return `${e.node.replace(/^v(\d+).*/, 'Node $1')} ${mb.toFixed(1)}`;
    });
    return `; in a small service (see "5. Memory"): ${cells.join(', ')} MB`;
  };
  /** The Node versions on which the empty script's extra RSS is at or over the target. */
  const overOn = (part, limit) =>
    (res.memory?.byNode ?? [])
      .filter((e) => median(e.script[part].map((x, i) => (x.rss - (e.script.none[i]?.rss ?? NaN)) / 2 ** 20)) >= limit)
      .map((e) => e.node.replace(/^v(\d+).*/, 'Node $1'));
  if (r1 !== undefined && r2 !== undefined) {
    add(
      'extra RSS < 15 MB without OpenTelemetry',
      `${r1.toFixed(1)} MB${own('loopwatch')}${inService('loopwatch')}`,
      r1 < 15 && overOn('loopwatch', 15).length === 0,
      'see "5. Memory": an empty worker thread, spawned as the monitor is, is 12–19 MB by itself, depending on the Node version (~8–10 MB of its own memory, the rest the node binary\'s code); the file pages — the node binary\'s code that loopwatch runs, shared with every Node process and reclaimable — are ~8 MB of the total in an empty script, and a service has most of them in already. Below 15 MB of RSS on every Node version would need a monitor without a thread of its own',
    );
    add(
      'extra RSS < 30 MB with OpenTelemetry',
      `${r2.toFixed(1)} MB${own('otel')}${inService('otel')}`,
      r2 < 30 && overOn('otel', 30).length === 0,
      `${overOn('otel', 30).join(', ') || 'none'} over 30 MB in the empty script. The SDK's own modules and heap on the monitor's thread are ~7 MB on every version; on Node 24 the process grows by ~18 MB in all, ~11 MB beyond that heap: the node binary's code pages (~8 MB) and the libuv threadpool's four threads, which the exporter's start brings up (a service that reads files or resolves names has them already). The OTLP JSON protocol saves nothing measurable. One copy of each @opentelemetry package matters: mismatched versions load private copies of core and otlp-transformer (642 modules instead of 297; loopwatch says so in one line)`,
    );
  }
  if (res.memory) {
    const m = res.memory;
    const n = m.stormBlocks;
    const half = Math.round(n / 2);
    /** Growth over the storm's second half, MB: of RSS, or of RSS minus the main thread's V8 heap. */
    const tail = (name, key) => {
      const size = (x) => x.rss - (key === 'rss' ? 0 : x.mainHeap);
      return median(m.storm[name].map((r) => (size(r.at[n]) - size(r.at[half])) / 2 ** 20));
    };
    const rest = tail('loopwatch', 'rest') - tail('none', 'rest');
    const rss = tail('loopwatch', 'rss') - tail('none', 'rss');
    add(
      `memory bounded under a storm of ${n.toLocaleString('en-US')} short blocks`,
      `over the last ${(n - half).toLocaleString('en-US')} blocks, minus the same without a monitor: RSS − the main thread's V8 heap ${rest.toFixed(1)} MB, RSS ${rss.toFixed(1)} MB`,
      rest < 3,
      'find what the worker keeps per block',
      rss >= 3
        ? "judged on RSS minus the main thread's heap: the rest of the RSS growth is V8 growing the app's own young generation, under the allocation of each block's capture and delivered events on that thread; loopwatch cannot set the app's heap limits — fewer allocations on the main thread per block would slow it"
        : '',
    );
  }
  return out;
}

export function writeDocs({ quick, plan, machine, versions, res, summary }) {
  const parts = [];
  const p = (s) => parts.push(s);
  p('# Benchmarks');
  p(
    `<!-- Generated by \`npm run bench${quick ? ' -- --quick' : ''}\` (bench/run.mjs) — do not edit by hand; run the command again. -->`,
  );
  p(
    `**${quick ? 'Quick run (`--quick`): few rounds, short loads — indicative only.' : 'Full run.'}** ${machine.startedAt}, ${machine.minutes} min.`,
  );
  p('## Machine');
  p(
    `- CPU: ${machine.cpu}, ${machine.cores} cores; ${machine.memGB} GB RAM; Linux ${machine.kernel}\n- Node ${machine.node}\n- load average (1/5/15 min) before: ${load(machine.loadBefore)}, after: ${load(machine.loadAfter)} — the machine is shared: other jobs ran during the run, which is why every figure is a paired ratio with its spread\n- tools: ${Object.entries(
      versions,
    )
      .map(([k, v]) => `\`${k}\` ${v}`)
      .join(', ')}`,
  );
  p('## Method');
  p(
    [
      "- Every variant runs in its own child process (`node -r <preload> app`), loaded as its documentation says; one loopback HTTP sink in the bench process receives every tool's data (Sentry envelopes through a DSN pointing at it, OTLP metrics and logs, prom-client's registry pushed every second), so nothing leaves the machine and each request is timestamped on arrival.",
      '- Variants: no monitor; loopwatch with its defaults (threshold 100 ms); loopwatch exporting OpenTelemetry metrics and alert log records over OTLP every second; `@sentry/node` `Sentry.init` with `eventLoopBlockIntegration` from `@sentry/node-native` (native addon); `@sentry/node` `anrIntegration` with `captureStackTrace` (inspector); `blocked-at`; `blocked` (its default 100 ms interval); `@opentelemetry/instrumentation-runtime-node` with a MeterProvider exporting OTLP every second; `prom-client` `collectDefaultMetrics()`. Thresholds are 100 ms for every tool unless a section says otherwise. The Sentry variants include what `Sentry.init` sets up by default (its OpenTelemetry-based HTTP instrumentation), as users run it.',
      `- Overhead: one app per variant is started and kept running (each waits until its tool is armed — loopwatch: \`ready\`; all: a 300 ms settle — and warms up); then the variants are measured in turn, in short slices, the order rotating from round to round, and each figure is divided by the no-monitor figure of the same round. Tables give the median of those paired ratios and their range (min–max). HTTP: \`node:http\` hello world, autocannon (programmatic, in its own process), 10 connections, one unrecorded 1 s warm-up slice per server, then ${plan.httpRounds} rounds of ${plan.httpSeconds} s slices; requests/s (mean), p99 latency (autocannon's resolution is 1 ms) and the server's CPU time per request (read from the server before and after each slice). Promise-heavy: ${plan.promiseRounds} rounds of 500 concurrent async chains of 20 awaits; CPU-bound: ${plan.cpuSlices} slices of hashing and sorting of ~7 ms, yielding to the loop between slices; ${plan.rounds} rounds each, wall time and CPU time (all threads). A run that passes ${plan.promiseMaxMs / 1000} s stops, and the whole is extrapolated from the share done (marked *). The idle apps of the other variants stay up meanwhile; their background work (timers, exports every second) falls on every variant's slices alike.`,
      `- Detection latency: an app blocks in a JS loop for threshold + 250 ms, ${plan.blocksPerProcess} blocks per process (2 at 1,000 ms) with 300 ms between, after a 1 s settle; Sentry reports once per process, so it gets one block per process and ${Math.min(3, plan.blocksPerProcess)} processes per round; ${plan.latencyRounds} round(s). Latency = time the alert was out − the time the app wrote just before blocking: loopwatch's report line (\`LOOPWATCH_LOG=json\`) or a peer's callback line arriving on the bench's pipe, or a Sentry envelope arriving at the sink. p99 of a few dozen samples is close to their maximum.`,
      '- Attribution: one process per scenario and tool, threshold 100 ms, blocks of ~600 ms. ✓ = the culprit function is in the report (for TypeScript: with the `.ts` file); "during" = the stack was taken while the block lasted (loopwatch: `stackTiming`; others: the report left the process before the block ended); "after" = reported once the block was over; "late (marked)" = loopwatch had no stack in time and the stack of its `ended` event is marked `late`. The duration is what the tool reports (Sentry reports "blocked for at least <threshold>", not a duration).',
      `- Cost: ${plan.costRounds} rounds. RSS of an idle app once the tool is armed and settled (1 s). Start-up: time from spawn to the app's first line, and the wall time of an empty script (capped at 3 s: a tool that keeps the process alive shows the cap). Capture: the app loads 2,000 generated modules, then blocks for 400 ms in a loop that reads the clock every few µs; a capture runs on the blocked thread between two reads, so the longest pause in the loop, minus the same figure without a tool in the same round, is the main-thread time the capture took (threshold 50 ms).`,
      `- Memory: ${plan.memoryRounds ?? 0} alternating rounds of an idle app holding one part of loopwatch's cost at a time ([\`apps/memory.cjs\`](../bench/apps/memory.cjs)), each part the paired difference of two apps in the same round; RSS, and the kernel's split of it (\`/proc/self/status\`): anonymous pages are this process's own memory (heaps, stacks, malloc), file pages are mostly the node binary's code — shared with every Node process on the machine and reclaimable, yet counted in RSS, and their count depends on what else the machine runs. Then the empty worker, the defaults and OTLP export on every Node version the test matrix installed (\`.cache/node-*\`, \`npm run test:matrix\`), in the empty script and in a small service. Storm: ${(plan.stormBlocks ?? 0).toLocaleString('en-US')} blocks of 9 ms in a JavaScript loop, yielding to the loop between them, threshold 5 ms, the stderr report on (JSON), ${plan.stormRounds ?? 0} round(s) ([\`apps/storm.cjs\`](../bench/apps/storm.cjs)).`,
    ].join('\n'),
  );
  p('## Summary');
  p(summary);
  if (res.overhead) {
    p('## 1. Overhead');
    const b = res.overhead.baseline;
    const t = overheadTables(res.overhead);
    p(
      `No monitor, median: ${b.rps.toFixed(0)} req/s, p99 ${b.p99.toFixed(1)} ms, ${b.cpuPerReq.toFixed(1)} µs of CPU per request; promise-heavy ${b.promise.toFixed(0)} ms; CPU-bound ${b.cpu.toFixed(0)} ms. Ratios: median (min–max) of the paired ratios over rounds; req/s × < 1 is a loss, for the others × > 1 is. CPU time counts every thread of the process (a monitor's worker included).`,
    );
    p('HTTP (`node:http` hello world, autocannon, 10 connections):');
    p(t.http);
    const wedged = Object.entries(res.overhead.wedged ?? {});
    if (wedged.length > 0)
      p(
        wedged
          .map(
            ([name, round]) =>
              `**${VARIANTS.find((v) => v.name === name)?.label ?? name}: its HTTP app stopped answering in round ${round + 1} of ${res.overhead.raw.rps.none.length}** (no answer within 15 s after a 2 s slice, nor to the CPU probe; the app was killed at the end). Its HTTP figures are from the rounds before.`,
          )
          .join('\n\n'),
      );
    p(
      'Promise-heavy and CPU-bound work (* = extrapolated: the tool made the work so slow that the run was cut short):',
    );
    p(t.work);
  }
  if (res.latency) {
    const l = latencyTable(res.latency);
    p('## 2. Detection latency');
    p(
      `Time from the start of the block to the alert, ms: median / p99 (n, min–max). Block lengths: ${l.blockLens}. A latency near the block length means the tool reported after the block.`,
    );
    p(l.table);
    p(
      '`@opentelemetry/instrumentation-runtime-node` and `prom-client` do not alert: they export event-loop delay gauges, from the main thread, so nothing leaves the process during a block.',
    );
    const notes = [];
    for (const name of ['loopwatch', 'loopwatch-otel']) {
      for (const t of Object.keys(res.latency)) {
        const c = res.latency[t][name];
        const slow = c.latencies.filter((x) => x > Number(t) + 60);
        if (slow.length)
          notes.push(
            `${name} at ${t} ms: ${slow.length} of ${c.latencies.length} alerts came more than 60 ms after the threshold (${slow.join(', ')} ms). The alert waits at most 50 ms for the stack (\`captureTimeoutMs\`), so the excess is outside the capture; not investigated further — the worker thread, or the bench's pipe reader, not being scheduled in time on the loaded machine would explain it, but this run does not show which.`,
          );
      }
    }
    const early = res.latency[1000]?.['sentry-native']?.latencies.filter((x) => x < 950) ?? [];
    if (early.length)
      notes.push(
        `Sentry's native integration alerted ${early.length} time(s) earlier than 1,000 ms into a 1,000 ms-threshold block (from ${Math.min(...early)} ms): its main thread reports "last seen" every threshold/2, and the watchdog compares against that, so a block can be taken for up to threshold/2 older than it is — blocks shorter than the threshold get reported. loopwatch's alerts can also come up to one heartbeat (threshold/8) before the app's mark, because its block starts at the last beat.`,
      );
    if (notes.length) p(notes.map((n) => `- ${n}`).join('\n'));
  }
  if (res.attribution) {
    p('## 3. Attribution');
    p(attributionTable(res.attribution));
    const a = res.attribution;
    const notes = [
      'blocked-at reports the stack where the async resource whose callback blocked was *created* (the timer or promise set up earlier, with `AsyncHook.init` on top), never the code running during the block; `blocked` reports only how late its interval ran.',
    ];
    if (a.startup && !a.startup['loopwatch-otel']?.alerted && a.startup.loopwatch?.alerted)
      notes.push(
        "loopwatch + OTel export missed the start-up block: with an exporter configured, the worker loads the OpenTelemetry SDK (synchronously, on its own thread) before its watchdog starts — `ready` came after ~0.4 s instead of ~0.1 s on an idle machine, later with the main thread spinning beside it — and the 600 ms block ended first. Moving the watchdog earlier alone would not fix it (the worker's thread is busy loading); loading the SDK in slices after the watchdog is armed, or in a thread of its own, would.",
      );
    if (a.ts?.['sentry-native']?.tsAtJs)
      notes.push(
        'Sentry names the TypeScript culprit at its generated `.js` position: it applies source maps on its server, not in the process.',
      );
    p(notes.map((n) => `- ${n}`).join('\n'));
  }
  if (res.cost) {
    const c = costTables(res.cost);
    p('## 4. Cost');
    p(c.cost);
    p('Main-thread time per capture, 2,000 modules loaded, threshold 50 ms (median (min–max), ms):');
    p(c.capture);
    p(
      "Sentry's ANR integration takes its stack with `Debugger.enable` + `Debugger.pause`: enabling the debugger replays a `scriptParsed` event for every loaded script, on the blocked thread, which is the pause it adds here. The longest pauses without a tool are the machine preempting the process (other jobs ran meanwhile).",
    );
    if (c.profilerStart) {
      p(
        "The sampling profiler's start in an app whose heap is already ~400 MB: loopwatch started late, from code (`start()` after the heap is built; the `register` preload starts it before the app has a heap), then 3 s of a loop that reads the clock every few µs; the longest pause in it is the start's hold on the main thread (with the profiler off, the longest pause is the capture of the block the loop itself is). Run with `--expose-gc`, a full collection before the watch ([`apps/profiler-start.cjs`](../bench/apps/profiler-start.cjs)):",
      );
      p(c.profilerStart);
    }
  }
  if (res.memory) {
    const m = memoryTables(res.memory);
    p('## 5. Memory');
    p('Extra memory of an idle app, by part, MB (median (min–max) of the paired differences):');
    p(m.breakdown);
    if (m.byNode) {
      p(
        `The same extra memory on every Node version the tests run on, extra RSS MB (of it anonymous, this process's own), medians of ${res.memory.byNodeRounds} alternating rounds: in the empty script above, and in a small service — an app that loads \`node:http\` and ${res.memory.serviceModules} modules of its own code, listens on a port and answers 20 requests before it idles (\`BENCH_SERVICE_DIR\` in [\`apps/memory.cjs\`](../bench/apps/memory.cjs)). An empty script charges a tool for the pages of the node binary that parse and load a first module of JavaScript; a real app has loaded those already:`,
      );
      p(m.byNode);
    }
    p(BEFORE);
    p(
      `A storm of ${res.memory.stormBlocks.toLocaleString('en-US')} blocks of 9 ms (threshold 5 ms), RSS growth from before the storm (median (min–max), MB):`,
    );
    p(m.storm);
  }
  if (res.callgrind) {
    const c = res.callgrind;
    const M = (x) => `${(x / 1e6).toFixed(1)} M`;
    const pct = (x) => `${(x * 100).toFixed(3)} %`;
    p('## 6. Main-thread cost, deterministic (callgrind)');
    p(
      `Instruction counts of the main thread alone under \`valgrind --tool=callgrind --separate-threads=yes\`, one run per variant (they repeat to well under 1 %). Valgrind runs ~50× slower while timers keep wall time, so time-driven costs are counted per event and rescaled: the profiler's samples are the calls of V8's SIGPROF handler (\`SamplerManager::DoSample\`), its start the inclusive cost of \`CpuProfiler::StartProfiling\`. The workload (\`bench/apps/callgrind.cjs\`, ${c.runs['work/none'] ? '1,000 slices of objects, JSON and promises' : ''}) runs ${c.workMs.toFixed(0)} ms natively (fastest of 5) for ${M(c.workInstructions)} instructions: ${(c.ips / 1e9).toFixed(1)} × 10⁹ instructions/s on the main thread.`,
    );
    const row = (name, r) =>
      `| ${name} | ${M(r.instructions)} | ${r.samples} | ${r.samples ? Math.round(r.sampleInstructions / r.samples) : '—'} | ${r.startInstructions ? M(r.startInstructions) : '—'} |`;
    p(
      [
        '| run | main-thread instructions | samples | instructions per sample | profiler start |',
        '| --- | --- | --- | --- | --- |',
        ...Object.entries(c.runs).map(([k, r]) => row(k, r)),
      ].join('\n'),
    );
    const w = c.profiler.work;
    p(
      [
        `- loopwatch alone (profiler off), over no monitor: ${M(c.loopwatch.idleExtra)} idle (start-up included), ${M(c.loopwatch.workExtra)} with the workload (${pct(c.loopwatch.workShare)} of its instructions, start-up included).`,
        `- The profiler's start: ${M(w.start)} instructions once, **${c.profiler.startMs.toFixed(1)} ms** at this native rate (target ≤ 20 ms).`,
        `- Its samples: ${Math.round(w.perSample)} instructions each under the workload (${Math.round(c.profiler.idle.perSample)} idle), 100 a second: **${pct(c.profiler.sampleShare)} of a core** (target ≤ 0.5 %). Not counted: the kernel's delivery of the signal, a few µs a sample natively.`,
        `- The rest of its extra under the workload (code-creation events for code compiled while it runs, the anchoring \`console.profile()\`): ${M(w.rest)}; with the samples rescaled to native speed, the profiler costs **${pct(c.profiler.workShare)}** of the workload's main-thread instructions${w.started ? '' : ' — **the profiler did not start in time under valgrind in this run: figures not valid**'}.`,
      ].join('\n'),
    );
  }
  if (res.pool) {
    const pl = res.pool;
    const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
    const seen = pl.latency.filter((l) => l.ms !== undefined);
    p('## 7. A worker pool (piscina)');
    p(
      `[\`apps/pool.cjs\`](../bench/apps/pool.cjs), ${pl.throughput.ratio.length} rounds each, variants alternating. Watched worker threads are on by default under the preload (\`LOOPWATCH_THREADS=all\`).`,
    );
    p(
      [
        '| what | figure |',
        '| --- | --- |',
        `| piscina pool throughput (2 threads, default \`atomics: 'sync'\`, 20,000 tasks of 20 SHA-256 rounds, 64 in flight), loopwatch ÷ no monitor, per round | ${pl.throughput.ratio.map((x) => f(x, 2)).join(', ')} (tasks/s without: ${pl.throughput.none.map((x) => f(x)).join(' / ')}; with: ${pl.throughput.loopwatch.map((x) => f(x)).join(' / ')}) |`,
        `| detection latency of a 600 ms block in a pool task (threshold 100 ms), from the task's mark to the \`ongoing\` line read by the bench | ${seen.length === 0 ? 'no alert seen' : seen.map((l) => f(l.ms)).join(', ')} ms${pl.latency.length > seen.length ? ` (${pl.latency.length - seen.length} of ${pl.latency.length} not seen)` : ''}; threads ${[...new Set(seen.map((l) => `\`${l.thread}\` "${l.threadName ?? ''}"`))].join(', ')}, culprit ${[...new Set(seen.map((l) => `\`${l.culprit}\``))].join(', ')} |`,
        `| extra RSS per watched worker (${pl.workers} idle workers, \`LOOPWATCH_THREADS=all\` against \`main\`, medians) | ${f(pl.perWorker.rssMb, 2)} MB |`,
        `| heartbeat CPU per watched worker, idle, default threshold (a beat every 12 ms) | ${f(pl.perWorker.cpuMsPerSec, 1)} ms of CPU a second — timer wake-ups; it scales with the beat rate |`,
        ...(pl.perWorkerProfiler === undefined
          ? []
          : [
              `| the opt-in profiler on each worker thread (\`LOOPWATCH_PROFILER=all\` against the default, same ${pl.workers} idle workers, medians), per worker${pl.profilerRun === undefined ? '' : ` (measured after the rest of this section, by the pool section alone: ${pl.profilerRun.rounds} rounds, ${pl.profilerRun.startedAt.slice(0, 10)}, Node ${pl.profilerRun.node.slice(1)})`} | ${f(pl.perWorkerProfiler.rssMb, 2)} MB of RSS and ${f(pl.perWorkerProfiler.cpuMsPerSec, 1)} ms of CPU a second — why it is not the default (budget: 1 MB per watched worker) |`,
            ]),
        "| a worker thread's time per capture, 2,000 modules loaded in that worker (its 400 ms loop reads the clock every few µs; threshold 50 ms; `LOOPWATCH_THREADS=all` against `main`, 8 alternating runs; measured by hand, Node 20, 2026-12-06) | longest pause in the loop 1.25 ms (0.61–2.40) watched, 1.14 ms (0.46–2.48) unwatched; paired difference 0.22 ms (−1.81–1.95); every watched run had its stack taken during the block (`blockAndWatch`). Budget: 5 ms, as on the main thread |",
        '| `Atomics.wait` wrapped on a watched worker (a call that returns at once, 10⁶ calls; measured by hand, Node 20, 2026-12-01) | 0.55–0.73 µs a call against 0.10–0.12 µs plain |',
      ].join('\n'),
    );
  }
  p('## Targets (issue 6)');
  p(
    [
      '| target | figure | met? | what would fix a miss |',
      '| --- | --- | --- | --- |',
      ...targets(res).map(
        (t) =>
          `| ${t.target} | ${t.figure} | ${t.met ? (t.caveat ? `met by the median (${t.caveat})` : 'met') : '**missed**'} | ${t.met ? '' : t.fix} |`,
      ),
    ].join('\n'),
  );
  writeFileSync(join(ROOT, 'docs', 'benchmarks.md'), `${parts.join('\n\n')}\n`);
}
