// Probe: where does a stack capture land when the main thread is blocked inside ONE long
// native call? main() -> caller() -> nativeCulprit() -> JSON.parse(64 MB), then caller()
// goes on with summarize(). The worker notices the stall through the heartbeat and requests
// a capture. V8 serves the inspector's interrupt only at the next stack check in JS, i.e.
// after JSON.parse has returned: the capture comes late and no longer shows the culprit.
// The sign a worker can use: the capture ran long after it was asked for (servedAfterMs,
// normally ~1 ms). Whether the heartbeat moved before the answer came is no such sign: main
// is still busy in summarize() when the capture runs. This probe reports what happens
// rather than asserting it; it fails only if no capture answers at all.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import {
  HEARTBEAT_BYTES,
  connectToMain,
  mainTimeout,
  now,
  readHeartbeat,
  report,
  startHeartbeat,
  userChain,
  workerWatchdog,
} from './_shared.mjs';

const NAME = 'stack-after-native-call';
const THRESHOLD_MS = 50;

if (isMainThread) {
  mainTimeout(NAME, 8000);
  const heartbeat = new SharedArrayBuffer(HEARTBEAT_BYTES);
  startHeartbeat(heartbeat, 10);
  // 8M numbers, 64 MB: one JSON.parse of 0.3-0.6 s on the machines measured.
  const BIG = '[' + '1234567,'.repeat(8_000_000) + '0]';
  let parseMs;

  // Marks use Date.now(), a V8 builtin: calling a JS function here (performance.now() is
  // one on Node 20) would add a stack check, i.e. a place where the capture could land.
  function nativeCulprit() {
    const t0 = Date.now();
    const data = JSON.parse(BIG);
    parseMs = Date.now() - t0;
    return data;
  }
  function summarize(data) {
    let sum = 0;
    for (let i = 0; i < data.length; i += 1000) sum += data[i];
    return sum;
  }
  function caller() {
    return summarize(nativeCulprit());
  }
  function main() {
    caller();
  }

  const worker = new Worker(new URL(import.meta.url), { workerData: heartbeat });
  worker.on('error', (e) => report(NAME, false, `worker error: ${e.message}`));
  worker.on('message', async (m) => {
    if (m.type === 'ready') return setTimeout(main, 50);
    await worker.terminate();
    if (m.type === 'error') return report(NAME, false, m.message);
    // JSON.parse would show up as a built-in frame named "parse", without a file.
    const has = (name, builtin) => m.frames.some((f) => f.function === name && !f.file === builtin);
    const when = has('parse', true)
      ? 'during the call (in time)'
      : has('nativeCulprit', false)
        ? 'after the call returned, culprit still on the stack (late)'
        : 'after the culprit returned (late, names other code)';
    const moved = m.heartbeatMoved ? 'heartbeat had already moved' : 'heartbeat had not moved yet';
    report(
      NAME,
      true,
      `parse took ${parseMs} ms; capture ran ${m.servedAfterMs.toFixed(0)} ms after request ` +
        `(answer ${m.roundTripMs.toFixed(0)} ms), ${when}, ${moved}; frames: ${userChain(m.frames) || 'none'}`,
    );
  });
} else {
  workerWatchdog(NAME, 10000);
  const heartbeat = workerData;
  const { capture } = await connectToMain();
  parentPort.postMessage({ type: 'ready' });
  const timer = setInterval(async () => {
    const { seq, time } = readHeartbeat(heartbeat);
    if (now() - time <= THRESHOLD_MS) return;
    clearInterval(timer);
    try {
      const { frames, servedAfterMs, roundTripMs } = await capture();
      parentPort.postMessage({
        type: 'result',
        frames,
        servedAfterMs,
        roundTripMs,
        heartbeatMoved: readHeartbeat(heartbeat).seq !== seq,
      });
    } catch (e) {
      parentPort.postMessage({ type: 'error', message: `Runtime.evaluate failed: ${e.message}` });
    }
  }, 5);
}
