// Probe: capture the main thread's stack while it is blocked in Atomics.wait (1 s, inside
// waitHere()). Atomics.wait is native, but V8 wakes it for interrupts and then resumes the
// wait, so the capture should land during the wait with waitHere() as top user frame.
// Also reports whether the wait still ran its full length and returned 'timed-out'.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { connectToMain, frameText, mainTimeout, report, topUserFrame, workerWatchdog } from './_shared.mjs';

const NAME = 'stack-atomics-wait';
const WAIT_MS = 1000;
// Int32 flags: [0] main is waiting, [1] a cell nobody ever changes, to wait on.
const WAITING = 0,
  CELL = 1;

if (isMainThread) {
  mainTimeout(NAME);
  const flags = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(new URL(import.meta.url), { workerData: flags });
  let wait;
  worker.on('error', (e) => report(NAME, false, `worker error: ${e.message}`));
  worker.on('message', async (m) => {
    if (m.type === 'ready') {
      wait = waitHere();
      return;
    }
    await worker.terminate();
    if (m.type === 'error') return report(NAME, false, m.message);
    const top = topUserFrame(m.frames);
    const waitText = `wait returned '${wait.result}' after ${wait.ms.toFixed(0)} ms`;
    if (!m.duringWait) return report(NAME, false, `capture landed after the wait; ${waitText}`);
    if (top?.function !== 'waitHere')
      return report(NAME, false, `top user frame is ${frameText(top)}, expected waitHere`);
    report(
      NAME,
      true,
      `captured during the wait, top user frame ${frameText(top)}, served ` +
        `${m.servedAfterMs.toFixed(2)} ms after request, round trip ${m.roundTripMs.toFixed(2)} ms; ${waitText}`,
    );
  });

  function waitHere() {
    Atomics.store(flags, WAITING, 1);
    const t0 = performance.now();
    const result = Atomics.wait(flags, CELL, 0, WAIT_MS);
    const ms = performance.now() - t0;
    Atomics.store(flags, WAITING, 0);
    return { result, ms };
  }
} else {
  const flags = workerData;
  workerWatchdog(NAME);
  const { capture } = await connectToMain();
  parentPort.postMessage({ type: 'ready' });
  // Poll until the main thread is inside the wait, then give it 100 ms more.
  while (Atomics.load(flags, WAITING) === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  await new Promise((resolve) => setTimeout(resolve, 100));
  try {
    const { roundTripMs, servedAfterMs, frames } = await capture();
    parentPort.postMessage({
      type: 'result',
      frames,
      roundTripMs,
      servedAfterMs,
      duringWait: Atomics.load(flags, WAITING) === 1,
    });
  } catch (e) {
    parentPort.postMessage({ type: 'error', message: `Runtime.evaluate failed: ${e.message}` });
  }
}
