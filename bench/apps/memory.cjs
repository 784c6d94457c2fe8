// The memory section's app: idle, with one part of loopwatch's cost at a time
// (BENCH_MEMORY_PART), then its memory once settled: RSS, and the kernel's split of it into
// anonymous pages (this process's own: heaps, stacks, malloc) and file pages (mostly the node
// binary's code, shared with every other Node process and reclaimable).
//   none          nothing
//   worker        an empty worker thread, spawned as loopwatch spawns its monitor
//   modules       require('loopwatch') on the main thread, nothing started
//   modules+worker  both
//   no-capture    start({ captureStack: false }): the monitor without an inspector session
//   loopwatch     start() with the defaults (OTEL_* in the environment adds the exporters)
// With BENCH_SERVICE_DIR set, the part is followed by what a small service does before it
// idles: it loads node:http and the generated modules of that directory (its own code), listens
// on a port and answers 20 requests. An empty script charges a tool for the parser's and the
// module loader's pages of the node binary, which a service has touched anyway.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { result } = require('./_app.cjs');

const dist = join(__dirname, '..', '..', 'dist');
const part = process.env.BENCH_MEMORY_PART ?? 'none';

async function emptyWorker() {
  const { Worker } = require('node:worker_threads');
  // The monitor's own spawn options that bear on memory (src/main/monitor.ts).
  const worker = new Worker('setInterval(() => {}, 1000)', {
    eval: true,
    execArgv: [],
    stdout: false,
    stderr: false,
    resourceLimits: { maxYoungGenerationSizeMb: 3 },
  });
  await new Promise((resolve) => worker.once('online', resolve));
  worker.unref();
}

async function service(dir) {
  const http = require('node:http');
  const { readdirSync } = require('node:fs');
  let sum = 0;
  for (const file of readdirSync(dir).sort()) sum += require(join(dir, file)).handle({ n: sum }).length;
  const server = http.createServer((req, res) => res.end(JSON.stringify({ ok: true, url: req.url, sum })));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  for (let i = 0; i < 20; i++) {
    await new Promise((resolve, reject) =>
      http
        .get({ host: '127.0.0.1', port, path: `/${i}` }, (res) => res.resume().on('end', resolve))
        .on('error', reject),
    );
  }
  server.unref();
}

function kernelSplit() {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { anon: kb('RssAnon'), file: kb('RssFile') };
}

(async () => {
  if (part === 'modules' || part === 'modules+worker') require(join(dist, 'index.js'));
  if (part === 'worker' || part === 'modules+worker') await emptyWorker();
  if (part === 'no-capture') await require(join(dist, 'index.js')).start({ captureStack: false }).ready;
  if (part === 'loopwatch') await require(join(dist, 'index.js')).start().ready;
  if (process.env.BENCH_SERVICE_DIR) await service(process.env.BENCH_SERVICE_DIR);
  await new Promise((resolve) => setTimeout(resolve, Number(process.env.BENCH_SETTLE_MS ?? 1000)));
  result({ rss: process.memoryUsage().rss, ...kernelSplit() });
  process.exit(0);
})();
