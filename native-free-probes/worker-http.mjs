// Probe: a worker serves HTTP while the main thread is blocked. The worker listens on
// 127.0.0.1 (port 0); main spawns a separate process that requests it, then spins 1.5 s.
// The request must be answered quickly and while main was still spinning: a health
// endpoint served from the worker keeps working during a block.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { mainTimeout, report, workerWatchdog } from './_shared.mjs';

const NAME = 'worker-http';
const SPIN_MS = 1500;
// Generous: the first request also pays for the client's and server's cold start, on a
// 2-CPU machine where main's spin holds one CPU (seen up to ~120 ms; later ones < 30 ms).
// What matters is that none waits for the 1.5 s block.
const MAX_LATENCY_MS = 500;

// The client: another process, so its request cannot depend on our main thread at all.
// Makes 3 requests in a row (the first one pays for loading the http client) and prints
// [{ ms, status, mainSpinning, atMs }, ...] or { error }.
const CLIENT = `
const http = require('node:http');
const results = [];
function get() {
  const t0 = performance.now();
  const req = http.get('http://127.0.0.1:' + process.argv[1] + '/health', (res) => {
    let body = '';
    res.on('data', (c) => { body += c; });
    res.on('end', () => {
      results.push({ ms: performance.now() - t0, status: res.statusCode, ...JSON.parse(body) });
      if (results.length < 3) get(); else console.log(JSON.stringify(results));
    });
  });
  req.setTimeout(3000, () => req.destroy(new Error('no answer within 3 s')));
  req.on('error', (e) => console.log(JSON.stringify({ error: e.message })));
}
get();
`;

if (isMainThread) {
  mainTimeout(NAME, 8000);
  const spinning = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(new URL(import.meta.url), { workerData: spinning });
  worker.on('error', (e) => report(NAME, false, `worker error: ${e.message}`));
  worker.once('message', ({ port }) => {
    const child = spawn(process.execPath, ['-e', CLIENT, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    child.on('close', async () => {
      await worker.terminate();
      let r;
      try {
        r = JSON.parse(out);
      } catch {
        return report(NAME, false, `client printed ${JSON.stringify(out)}`);
      }
      if (r.error) return report(NAME, false, `client: ${r.error}`);
      const text = `3 requests answered in ${r.map((x) => x.ms.toFixed(1)).join(', ')} ms`;
      if (r.some((x) => x.status !== 200)) return report(NAME, false, `${text}, status ${r.map((x) => x.status)}`);
      if (!r.every((x) => x.mainSpinning)) return report(NAME, false, `${text}, not all while main was spinning`);
      if (r.some((x) => x.ms > MAX_LATENCY_MS)) return report(NAME, false, `${text}, over ${MAX_LATENCY_MS} ms`);
      report(
        NAME,
        true,
        `${text} while main was blocked (${r[0].atMs.toFixed(0)}-${r[2].atMs.toFixed(0)} ms into a ${SPIN_MS} ms spin)`,
      );
    });
    // The child starts on its own (spawn returns once it exists); block while it runs.
    spin();
  });

  function spin() {
    const t0 = performance.timeOrigin + performance.now();
    Atomics.store(spinning, 0, 1);
    worker.postMessage(t0); // read by the worker right away: its loop is not blocked
    const end = performance.now() + SPIN_MS;
    while (performance.now() < end);
    Atomics.store(spinning, 0, 0);
  }
} else {
  const { createServer } = await import('node:http');
  const spinning = workerData;
  workerWatchdog(NAME, 10000);
  let spinStart = 0;
  parentPort.on('message', (t0) => {
    spinStart = t0;
  });
  const server = createServer((req, res) => {
    const body = JSON.stringify({
      // what the server saw when it answered
      mainSpinning: Atomics.load(spinning, 0) === 1,
      atMs: performance.timeOrigin + performance.now() - spinStart,
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
}
