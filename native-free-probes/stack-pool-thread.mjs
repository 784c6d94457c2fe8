// Probe: capture the stack of a blocked *worker* thread (an app's pool thread, or a test
// runner's: loopwatch/vitest with `pool: 'threads'`), as loopwatch's monitor does: from the
// monitor worker, with a session connected to the main thread (`connectToMainThread()`),
// through the NodeWorker domain (one sub-session per worker). Runtime.evaluate sent to the pool
// thread should land on top of its frames while it spins in spinInPool() for 1.5 s.
// The main thread's inspector agent forwards the messages, so the monitor can reach every
// worker thread of the process; a session opened from a *nested* worker (a monitor started in
// the pool thread itself) had its NodeWorker.enable answered in only some runs (Node 22-26).
import { Worker, isMainThread, threadId, parentPort, workerData } from 'node:worker_threads';
import { Session } from 'node:inspector';
import { CAPTURE, frameText, mainTimeout, now, report, topUserFrame } from './_shared.mjs';

const NAME = 'stack-pool-thread';
const SPIN_MS = 1500;

if (isMainThread) {
  mainTimeout(NAME, 8000);
  // The monitor first, as loopwatch starts it before the app's workers; the pool thread once the
  // monitor's session lists workers.
  const monitor = new Worker(new URL(import.meta.url), { workerData: 'monitor' });
  monitor.on('error', (e) => report(NAME, false, `monitor thread error: ${e.message}`));
  let pool;
  monitor.on('message', (m) => {
    if (m.type === 'enabled') {
      pool = new Worker(new URL(import.meta.url), { workerData: 'pool' });
      pool.on('error', (e) => report(NAME, false, `pool thread error: ${e.message}`));
      pool.on('message', (spinning) => monitor.postMessage(spinning));
    } else if (m.type === 'result') {
      void pool?.terminate();
      void monitor.terminate();
      report(NAME, m.ok, m.text);
    }
  });
} else if (workerData === 'monitor') {
  const session = new Session();
  session.connectToMainThread();
  const sessions = new Map();
  session.on('NodeWorker.attachedToWorker', ({ params }) => {
    const match = /^\[worker (\d+)\]/.exec(params.workerInfo.title);
    if (match) sessions.set(Number(match[1]), params.sessionId);
  });
  let answer;
  session.on('NodeWorker.receivedMessageFromWorker', ({ params }) => {
    const message = JSON.parse(params.message);
    if (message.id === 1) answer?.(message);
  });
  // Disconnected first: a session still connected at exit makes Node print "Waiting for the
  // debugger to disconnect...".
  const result = (ok, text) => {
    session.disconnect();
    parentPort.postMessage({ type: 'result', ok, text });
  };
  const enabling = now();
  session.post('NodeWorker.enable', { waitForDebuggerOnStart: false }, (error) => {
    if (error) return result(false, `NodeWorker.enable failed: ${error.message}`);
    parentPort.postMessage({ type: 'enabled', ms: now() - enabling });
  });
  parentPort.on('message', async (m) => {
    if (m.type !== 'spinning') return;
    const sessionId = sessions.get(m.threadId);
    if (sessionId === undefined) return result(false, `the inspector does not list thread ${m.threadId}`);
    const requestedAt = now();
    const reply = await new Promise((resolve) => {
      answer = resolve;
      session.post('NodeWorker.sendMessageToWorker', {
        sessionId,
        message: JSON.stringify({
          id: 1,
          method: 'Runtime.evaluate',
          params: { expression: CAPTURE, returnByValue: true },
        }),
      });
    });
    const value = reply.result?.result?.value;
    if (value === undefined) return result(false, `no stack: ${JSON.stringify(reply).slice(0, 200)}`);
    const frames = value.frames.slice(1);
    const top = topUserFrame(frames);
    if (value.at >= m.spinEndsAt) return result(false, `capture landed after the spin (top frame ${frameText(top)})`);
    if (top?.function !== 'spinInPool')
      return result(false, `top user frame is ${frameText(top)}, expected spinInPool`);
    result(
      true,
      `monitor worker's session to the main thread via NodeWorker: top user frame ${frameText(top)}, served ${(value.at - requestedAt).toFixed(2)} ms after request, during the spin`,
    );
  });
} else {
  setTimeout(() => {
    const spinEndsAt = now() + SPIN_MS;
    parentPort.postMessage({ type: 'spinning', threadId, spinEndsAt });
    spinInPool(spinEndsAt);
  }, 50);
}

function spinInPool(until) {
  // Date.now is a builtin: the top frame with a file is this function.
  while (Date.now() < until) {
    // spin
  }
}
