// Probe: capture the main thread's stack from a worker while the main thread spins in JS.
// The worker connects an inspector session to the main thread (no port is opened) and sends
// Runtime.evaluate of a tiny capture expression (see CAPTURE in _shared.mjs). The inspector
// serves it from a V8 interrupt, on top of the blocked frames: the top user frame must be
// spinHere(), and the answer must arrive while the main thread is still spinning.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { connectToMain, frameText, mainTimeout, report, topUserFrame, workerWatchdog } from './_shared.mjs';

const NAME = 'stack-js-loop';
// Int32 flags shared with the worker: [0] main is spinning, [1] worker has its answer.
const SPINNING = 0,
  DONE = 1;

if (isMainThread) {
  mainTimeout(NAME);
  const flags = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(new URL(import.meta.url), { workerData: flags });
  worker.on('error', (e) => report(NAME, false, `worker error: ${e.message}`));
  worker.on('message', async (m) => {
    if (m.type === 'ready') return spinHere(2000);
    await worker.terminate(); // see connectToMain() in _shared.mjs for why, before exiting
    if (m.type === 'error') return report(NAME, false, m.message);
    const top = topUserFrame(m.frames);
    if (!m.whileSpinning)
      return report(NAME, false, `answer arrived after main resumed; top user frame ${frameText(top)}`);
    if (top?.function !== 'spinHere')
      return report(NAME, false, `top user frame is ${frameText(top)}, expected spinHere`);
    report(
      NAME,
      true,
      `top user frame ${frameText(top)}, captured while main was blocked, ` +
        `served ${m.servedAfterMs.toFixed(2)} ms after request, round trip ${m.roundTripMs.toFixed(2)} ms`,
    );
  });

  // Spins until the worker has its answer (or the deadline), so the probe stays short.
  function spinHere(maxMs) {
    Atomics.store(flags, SPINNING, 1);
    Atomics.notify(flags, SPINNING);
    const end = performance.now() + maxMs;
    while (performance.now() < end && Atomics.load(flags, DONE) === 0);
    Atomics.store(flags, SPINNING, 0);
  }
} else {
  const flags = workerData;
  workerWatchdog(NAME);
  const { capture } = await connectToMain();
  parentPort.postMessage({ type: 'ready' });
  // Block this worker until the main thread starts spinning, then let it spin a little.
  Atomics.wait(flags, SPINNING, 0, 3000);
  await new Promise((resolve) => setTimeout(resolve, 100));
  try {
    const { roundTripMs, servedAfterMs, frames } = await capture();
    const whileSpinning = Atomics.load(flags, SPINNING) === 1;
    Atomics.store(flags, DONE, 1);
    parentPort.postMessage({ type: 'result', frames, roundTripMs, servedAfterMs, whileSpinning });
  } catch (e) {
    Atomics.store(flags, DONE, 1);
    parentPort.postMessage({ type: 'error', message: `Runtime.evaluate failed: ${e.message}` });
  }
}
