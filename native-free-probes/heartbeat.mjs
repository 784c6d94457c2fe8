// Probe: heartbeat through a SharedArrayBuffer, watched by a worker.
// The main thread beats every 10 ms, then busy-loops 300 ms. The worker polls every 5 ms
// and must notice the stall (> 50 ms since the last beat) while the main thread is still
// spinning. Also checks that `performance.timeOrigin + performance.now()` agrees between the
// threads, since the worker compares its own clock with the beat time main wrote.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import {
  HEARTBEAT_BYTES,
  mainTimeout,
  now,
  readHeartbeat,
  report,
  startHeartbeat,
  workerWatchdog,
} from './_shared.mjs';

const NAME = 'heartbeat';
const THRESHOLD_MS = 50;
const SPIN_MS = 300;

if (isMainThread) {
  mainTimeout(NAME);
  const heartbeat = new SharedArrayBuffer(HEARTBEAT_BYTES);
  const spinning = new Int32Array(new SharedArrayBuffer(4));
  startHeartbeat(heartbeat, 10);

  const worker = new Worker(new URL(import.meta.url), { workerData: { heartbeat, spinning } });
  let skew;
  worker.on('error', (e) => report(NAME, false, `worker error: ${e.message}`));
  worker.on('message', (m) => {
    if (m.type === 'ping') return worker.postMessage({ id: m.id, mainTime: now() });
    if (m.type === 'skew') {
      skew = m;
      return setTimeout(spin, 50); // let the worker watch a few live beats first
    }
    // m.type === 'detected': delivered only now that the main thread runs again.
    const lag = `${m.latencyMs.toFixed(1)} ms after last beat`;
    // A worker reports the process's timeOrigin, not its own start time, so the clocks can
    // only differ by measurement error.
    const origin =
      skew.timeOrigin === performance.timeOrigin
        ? 'same timeOrigin'
        : `timeOrigin differs by ${(skew.timeOrigin - performance.timeOrigin).toFixed(3)} ms`;
    const skewText = `clock skew main-worker ${skew.skewMs.toFixed(3)} ms (±${skew.uncertaintyMs.toFixed(3)}), ${origin}`;
    if (!m.whileSpinning) return report(NAME, false, `stall seen only after main resumed (${lag})`);
    if (m.latencyMs > 2 * THRESHOLD_MS) return report(NAME, false, `detected too late: ${lag}`);
    if (Math.abs(skew.skewMs) > 5) return report(NAME, false, `${skewText} exceeds 5 ms`);
    report(NAME, true, `stall detected ${lag} while main was blocked; ${skewText}`);
  });

  function spin() {
    Atomics.store(spinning, 0, 1);
    const end = performance.now() + SPIN_MS;
    while (performance.now() < end);
    Atomics.store(spinning, 0, 0);
  }
} else {
  const { heartbeat, spinning } = workerData;
  workerWatchdog(NAME);

  // Clock skew by ping-pong: skew = main's time - midpoint of our send and receive times,
  // uncertain by ±rtt/2. Keep the sample with the shortest round trip out of 20.
  const samples = [];
  let sentAt;
  const ping = () => {
    sentAt = now();
    parentPort.postMessage({ type: 'ping', id: samples.length });
  };
  parentPort.on('message', ({ mainTime }) => {
    const receivedAt = now();
    samples.push({ rtt: receivedAt - sentAt, skew: mainTime - (sentAt + receivedAt) / 2 });
    if (samples.length < 20) return ping();
    const best = samples.reduce((a, b) => (b.rtt < a.rtt ? b : a));
    parentPort.postMessage({
      type: 'skew',
      skewMs: best.skew,
      uncertaintyMs: best.rtt / 2,
      timeOrigin: performance.timeOrigin,
    });
    watch();
  });
  ping();

  function watch() {
    const timer = setInterval(() => {
      const lag = now() - readHeartbeat(heartbeat).time;
      if (lag <= THRESHOLD_MS) return;
      clearInterval(timer);
      parentPort.postMessage({ type: 'detected', latencyMs: lag, whileSpinning: Atomics.load(spinning, 0) === 1 });
    }, 5);
  }
}
