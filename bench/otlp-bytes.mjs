// What one process sends over OTLP, in bytes a minute, idle and under a storm of blocks: the
// figures behind the fleet arithmetic in docs/fleet.md. Each scenario is a child process with
// loopwatch preloaded (dist/register.js, so build first), exporting to a counting receiver in
// this process on loopback. Counted: each request's body and its HTTP request line and headers
// (the connection is kept alive; TCP/IP framing is not counted).
//
//   npm run build && node bench/otlp-bytes.mjs            # 30 s a scenario, ~3 min
//   BENCH_SECONDS=60 node bench/otlp-bytes.mjs            # longer runs
//
// Metrics are exported every 5 s here to see several exports; the per-minute figures are
// computed for the default interval (60 s) and for 10 s from the measured size of one export.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

const root = new URL('..', import.meta.url).pathname;
const seconds = Number(process.env.BENCH_SECONDS ?? 30);
const INTERVAL_MS = 5000;

// The apps: idle (a timer keeps it alive), or blocking 150 ms out of every ~160 ms (a
// saturated service: ~370 blocks a minute over the default 100 ms threshold).
const IDLE = `setInterval(() => {}, 1000); setTimeout(() => process.exit(0), ${seconds * 1000});`;
const STORM = `
function handleRequest() { const end = Date.now() + 150; while (Date.now() < end); }
const stopAt = Date.now() + ${seconds * 1000};
(function next() { if (Date.now() >= stopAt) process.exit(0); handleRequest(); setTimeout(next, 10); })();`;

const SCENARIOS = [
  { name: 'idle', app: IDLE, env: {} },
  { name: 'idle, gzip', app: IDLE, env: { OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' } },
  { name: 'storm, default cap (60 records/min)', app: STORM, env: {} },
  { name: 'storm, gzip, default cap', app: STORM, env: { OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' } },
  { name: 'storm, no cap', app: STORM, env: { LOOPWATCH_MAX_ALERTS_PER_MINUTE: '1000000' } },
];

function receiver() {
  const counts = { metrics: { requests: 0, bytes: 0 }, logs: { requests: 0, bytes: 0, records: 0 } };
  const server = createServer((req, res) => {
    // Request line and headers as sent (rawHeaders: name, value, ...).
    let bytes = `${req.method} ${req.url} HTTP/1.1\r\n`.length + 2;
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      bytes += (req.rawHeaders[i]?.length ?? 0) + (req.rawHeaders[i + 1]?.length ?? 0) + 4;
    const chunks = [];
    req.on('data', (chunk) => {
      bytes += chunk.length;
      chunks.push(chunk);
    });
    req.on('end', () => {
      const kind = req.url === '/v1/metrics' ? 'metrics' : req.url === '/v1/logs' ? 'logs' : undefined;
      if (kind !== undefined) {
        counts[kind].requests++;
        counts[kind].bytes += bytes;
      }
      if (kind === 'logs') {
        // Block records, counted by an attribute key each has once (protobuf keeps strings as
        // they are), not decoded: this bench needs no protobuf definitions.
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        counts.logs.records += body.toString('latin1').split('loopwatch.block.state').length - 1;
      }
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, counts, port: server.address().port })),
  );
}

async function runScenario(scenario) {
  const { server, counts, port } = await receiver();
  const events = [];
  await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', join(root, 'dist', 'register.js'), '-e', scenario.app], {
      env: {
        ...process.env,
        LOOPWATCH_LOG: 'json',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_METRIC_EXPORT_INTERVAL: String(INTERVAL_MS),
        OTEL_SERVICE_NAME: 'checkout',
        ...scenario.env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let rest = '';
    child.stderr.on('data', (chunk) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line.startsWith('{"type":"block"')) events.push(JSON.parse(line));
    });
    child.on('error', reject);
    child.on('exit', resolve);
  });
  server.close();
  const blocks = events.filter((e) => e.state === 'ongoing').length;
  const records = events.length; // one alert record each, before the cap
  return { name: scenario.name, seconds, blocks, alertRecordsMade: records, ...counts };
}

const results = [];
for (const scenario of SCENARIOS) {
  process.stderr.write(`otlp-bytes: ${scenario.name} (${seconds} s)\n`);
  results.push(await runScenario(scenario));
}

// Per minute: metrics at the default interval (one export a minute) and at 10 s; logs as
// measured, scaled to a minute. A capped storm's first minute also holds the initial burst of
// 60 records, so its logs figure is the budget's steady 60 records a minute times the bytes of
// one record as measured.
const rows = results.map((r) => {
  const perExport = r.metrics.requests > 0 ? r.metrics.bytes / r.metrics.requests : 0;
  const perRecord = r.logs.records > 0 ? r.logs.bytes / r.logs.records : 0;
  const logsPerMin = (r.logs.bytes / r.seconds) * 60;
  return {
    ...r,
    metricsBytesPerExport: Math.round(perExport),
    logsBytesPerRecord: Math.round(perRecord),
    logsBytesPerMinute: Math.round(logsPerMin),
    perMinuteAt60s: Math.round(perExport + logsPerMin),
    perMinuteAt10s: Math.round(perExport * 6 + logsPerMin),
  };
});
console.log(JSON.stringify({ node: process.version, intervalMs: INTERVAL_MS, rows }, null, 2));
writeFileSync(join(root, 'bench', 'otlp-bytes.json'), `${JSON.stringify({ node: process.version, rows }, null, 2)}\n`);
