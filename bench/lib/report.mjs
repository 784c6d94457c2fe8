// Turns the sections' results into Markdown tables: the summary printed by `npm run bench` and
// the full document written to docs/benchmarks.md.
import { VARIANTS, ALERTING } from './variants.mjs';
import { SCENARIOS } from '../sections/attribution.mjs';
import { THRESHOLDS } from '../sections/latency.mjs';
import { median, quantile, max, min, ratioCell, msCell } from './stats.mjs';

const table = (head, rows) =>
  [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const f0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : 'n/a');

function latencyCell(cell) {
  if (!cell || cell.blocks === 0) return 'n/a';
  if (cell.latencies.length === 0) return `none of ${cell.blocks}`;
  const miss = cell.missed ? `, ${cell.missed}/${cell.blocks} missed` : '';
  return `${f0(median(cell.latencies))} / ${f0(quantile(cell.latencies, 0.99))}${miss}`;
}

/** Culprit right and taken during the block, over the JS-level scenarios. */
function jsRight(attr, name) {
  const js = SCENARIOS.filter((s) => s.js && attr[s.name]);
  const ok = js.filter((s) => attr[s.name]?.[name]?.culprit && attr[s.name][name].timing === 'during').length;
  return `${ok}/${js.length}`;
}

export function summaryTable(res) {
  const rows = VARIANTS.filter((v) => v.name !== 'none').map((v) => {
    const o = res.overhead;
    const lat = (t) => (res.latency[t]?.[v.name] ? latencyCell(res.latency[t][v.name]) : 'no alerts');
    return [
      v.label,
      o ? ratioCell(o.rps[v.name]) : '—',
      o ? ratioCell(o.p99[v.name], 2) : '—',
      o ? ratioCell(o.cpuPerReq[v.name], 2) : '—',
      o ? ratioCell(o.promise[v.name], 2) + (o.extrapolated[v.name] ? '*' : '') : '—',
      o ? ratioCell(o.cpu[v.name]) : '—',
      res.latency ? lat(50) : '—',
      res.latency ? lat(100) : '—',
      res.attribution ? (ALERTING.includes(v) ? jsRight(res.attribution, v.name) : 'no stack') : '—',
      res.cost ? f1(median(res.cost.rssExtra[v.name])) : '—',
      res.cost ? f0(median(res.cost.wallExtra[v.name])) : '—',
    ];
  });
  return table(
    [
      'variant',
      'HTTP req/s ×',
      'HTTP p99 ×',
      'HTTP CPU/req ×',
      'promise time ×',
      'CPU time ×',
      'alert ms @50 (median / p99)',
      'alert ms @100',
      'culprit during (JS scenarios)',
      'extra RSS MB',
      'extra run ms (empty script)',
    ],
    rows,
  );
}

export function overheadTables(o) {
  const star = (v) => (o.extrapolated[v.name] ? '*' : '');
  const http = table(
    ['variant', 'req/s ×', 'p99 ×', 'CPU time per request ×', 'median req/s', 'median p99 ms', 'median CPU µs/request'],
    VARIANTS.map((v) => [
      v.label,
      ratioCell(o.rps[v.name]),
      ratioCell(o.p99[v.name], 2),
      ratioCell(o.cpuPerReq[v.name], 2),
      f0(median(o.raw.rps[v.name])),
      f1(median(o.raw.p99[v.name])),
      f1(median(o.raw.cpuPerReq[v.name])),
    ]),
  );
  const work = table(
    ['variant', 'promise-heavy: wall ×', 'promise-heavy: CPU ×', 'CPU-bound: wall ×', 'CPU-bound: CPU ×'],
    VARIANTS.map((v) => [
      v.label,
      ratioCell(o.promise[v.name], 2) + star(v),
      ratioCell(o.promiseCpu[v.name], 2) + star(v),
      ratioCell(o.cpu[v.name]),
      ratioCell(o.cpuCpu[v.name]),
    ]),
  );
  return { http, work };
}

export function latencyTable(lat) {
  const rows = ALERTING.map((v) => [
    v.label,
    ...THRESHOLDS.map((t) => {
      const c = lat[t][v.name];
      if (c.latencies.length === 0) return latencyCell(c);
      return `${latencyCell(c)} (n=${c.latencies.length}, ${f0(min(c.latencies))}–${f0(max(c.latencies))})`;
    }),
  ]);
  const blockLens = THRESHOLDS.map((t) => `${t} ms → ${t + 250} ms`).join(', ');
  return { table: table(['tool', ...THRESHOLDS.map((t) => `threshold ${t} ms: median / p99 ms`)], rows), blockLens };
}

function attrCell(j) {
  if (!j) return 'n/a';
  if (!j.alerted) return j.error ? `no alert (${j.error})` : 'no alert';
  let c;
  if (j.culprit === undefined) c = 'no stack';
  else if (j.culprit) c = '✓';
  else if (j.tsAtJs) c = '✓ name, .js position';
  else c = '✗';
  const when =
    j.timing === 'during'
      ? 'during'
      : j.timing === 'late'
        ? 'late (marked)'
        : j.timing === 'none'
          ? 'none'
          : j.alertDuring
            ? 'during'
            : 'after';
  const dur = Number.isFinite(j.durationMs) ? `${f0(j.durationMs)} ms` : 'no duration';
  return `${c} ${when}, ${dur}`;
}

export function attributionTable(attr) {
  const rows = SCENARIOS.filter((s) => attr[s.name]).map((s) => [
    `${s.label} (\`${s.culprit}\`)`,
    ...ALERTING.map((v) => attrCell(attr[s.name]?.[v.name])),
  ]);
  return table(['scenario (culprit)', ...ALERTING.map((v) => v.label)], rows);
}

export function costTables(c) {
  const rows = VARIANTS.map((v) => [
    v.label,
    `${f1(median(c.rss[v.name]))} (${msCell(c.rssExtra[v.name], 1)})`,
    `${f0(median(c.firstLine[v.name]))} (${msCell(c.firstLineExtra[v.name])})`,
    `${f0(median(c.wall[v.name]))} (${msCell(c.wallExtra[v.name])})`,
  ]);
  const cost = table(
    [
      'variant',
      'RSS MB (extra: median, range)',
      'spawn → first line of app, ms (extra)',
      'empty script, spawn → exit, ms (extra)',
    ],
    rows,
  );
  const base = c.capture.none;
  const cap = Object.entries(c.capture).map(([name, runs]) => [
    VARIANTS.find((v) => v.name === name).label,
    msCell(
      runs.map((r) => r.maxGap),
      2,
    ),
    msCell(
      runs.map((r, i) => r.maxGap - (base[i]?.maxGap ?? NaN)),
      2,
    ),
    msCell(
      runs.map((r) => r.stolen),
      2,
    ),
    String(runs[0]?.loaded ?? 'n/a'),
  ]);
  const capture = table(
    [
      'variant',
      'longest pause in the block, ms',
      'minus no monitor (paired), ms',
      'all pauses > 1 ms, ms',
      'modules loaded',
    ],
    cap,
  );
  const ps = c.profilerStart;
  const profilerStart =
    ps === undefined
      ? undefined
      : table(
          ['profiler', 'heap in use, MB', 'longest pause in the watch, ms', 'profiler started'],
          ['on', 'off'].map((mode) => [
            mode,
            msCell(
              ps[mode].map((r) => r.heapUsedMb),
              0,
            ),
            msCell(
              ps[mode].map((r) => r.maxGap),
              1,
            ),
            `${ps[mode].filter((r) => r.profiler).length}/${ps[mode].length}`,
          ]),
        );
  return { cost, capture, profilerStart };
}

const MB = 2 ** 20;
/** "1.2 (0.9–1.4)" in MB. */
const mbCell = (bytes) =>
  msCell(
    bytes.map((b) => b / MB),
    1,
  );

/**
 * The memory section: where the extra RSS of an idle app goes, each part the paired difference
 * (same round) of two of the section's apps; and the storm's growth.
 */
export function memoryTables(m) {
  const diff = (a, b, key) => m.idle[a].map((x, i) => x[key] - (m.idle[b][i]?.[key] ?? NaN));
  const parts = [
    ['an empty worker thread, spawned as the monitor is', 'worker', 'none'],
    ["loopwatch's modules on the main thread (required, nothing started)", 'modules', 'none'],
    ["the monitor's modules, heap and heartbeat (no stack capture)", 'no-capture', 'modules+worker'],
    ['stack capture: the inspector session and the capture code', 'loopwatch', 'no-capture'],
    ['**total, defaults**', 'loopwatch', 'none'],
    ['the OpenTelemetry SDK and OTLP exporters (metrics and logs)', 'otel', 'loopwatch'],
    ['**total, with OTLP export**', 'otel', 'none'],
  ];
  const breakdown = table(
    ['part', 'RSS MB', 'anonymous MB (this process only)', 'file MB (node binary code, shared)'],
    parts.map(([label, a, b]) => [
      label,
      mbCell(diff(a, b, 'rss')),
      mbCell(diff(a, b, 'anon')),
      mbCell(diff(a, b, 'file')),
    ]),
  );
  const n = m.stormBlocks;
  const half = Math.round(n / 2);
  const grow = (runs, at, key) => runs.map((r) => r.at[at][key] - r.at[0][key]);
  const storm = table(
    [
      'variant',
      'RSS before the storm, MB',
      'RSS growth after 1,000 blocks, MB',
      `after ${half.toLocaleString('en-US')}`,
      `after ${n.toLocaleString('en-US')}`,
      `growth ${half.toLocaleString('en-US')} → ${n.toLocaleString('en-US')}, MB`,
      `anonymous growth after ${n.toLocaleString('en-US')}, MB`,
      `of which the main thread's V8 heap, MB`,
      `RSS − main heap, growth ${half.toLocaleString('en-US')} → ${n.toLocaleString('en-US')}, MB`,
      'blocks reported',
      'storm, s',
    ],
    Object.entries(m.storm).map(([name, runs]) => [
      VARIANTS.find((v) => v.name === name).label,
      mbCell(runs.map((r) => r.at[0].rss)),
      mbCell(grow(runs, 1000, 'rss')),
      mbCell(grow(runs, half, 'rss')),
      mbCell(grow(runs, n, 'rss')),
      mbCell(runs.map((r) => r.at[n].rss - r.at[half].rss)),
      mbCell(grow(runs, n, 'anon')),
      mbCell(grow(runs, n, 'mainHeap')),
      mbCell(runs.map((r) => r.at[n].rss - r.at[n].mainHeap - (r.at[half].rss - r.at[half].mainHeap))),
      runs.map((r) => (name === 'none' ? '—' : String(r.reported))).join(', '),
      msCell(
        runs.map((r) => r.seconds),
        0,
      ),
    ]),
  );
  return { breakdown, byNode: memoryByNodeTable(m), storm };
}

/** Extra RSS (and its anonymous part) on every Node version, in an empty script and a small service. */
function memoryByNodeTable(m) {
  if (!m.byNode?.length) return undefined;
  const cell = (runs, part) => {
    const diff = (key) => runs[part].map((x, i) => (x[key] - (runs.none[i]?.[key] ?? NaN)) / 2 ** 20);
    return `${median(diff('rss')).toFixed(1)} (${median(diff('anon')).toFixed(1)})`;
  };
  return table(
    [
      'Node',
      'an empty worker thread, empty script',
      'loopwatch, defaults: empty script',
      'in a small service',
      'with OTLP export: empty script',
      'in a small service',
    ],
    m.byNode.map((e) => [
      e.node,
      cell(e.script, 'worker'),
      cell(e.script, 'loopwatch'),
      cell(e.service, 'loopwatch'),
      cell(e.script, 'otel'),
      cell(e.service, 'otel'),
    ]),
  );
}
