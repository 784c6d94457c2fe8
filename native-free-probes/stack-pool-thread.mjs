// Probe: capture the stack of a blocked *worker* thread (a test runner's pool thread), as
// loopwatch/vitest does with `pool: 'threads'`: from the main thread's own session, through
// the NodeWorker domain (one sub-session per worker), Runtime.evaluate sent to the pool thread
// should land on top of its frames while it spins in spinInPool() for 1.5 s.
// Why not from the pool thread's own nested worker, as for the main thread: a session opened
// there with connectToMainThread() never answered at all, blocked or not (Node 20-26).
import { Worker, isMainThread, threadId, parentPort } from 'node:worker_threads';
import { Session } from 'node:inspector';
import { CAPTURE, frameText, mainTimeout, now, report, topUserFrame } from './_shared.mjs';

const NAME = 'stack-pool-thread';
const SPIN_MS = 1500;

if (isMainThread) {
  mainTimeout(NAME, 8000);
  const session = new Session();
  session.connect();
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
  session.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
  const pool = new Worker(new URL(import.meta.url));
  pool.on('error', (e) => report(NAME, false, `pool thread error: ${e.message}`));
  pool.on('message', async (m) => {
    if (m.type !== 'spinning') return;
    const sessionId = sessions.get(m.threadId);
    if (sessionId === undefined) return report(NAME, false, `the inspector does not list thread ${m.threadId}`);
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
    if (value === undefined) return report(NAME, false, `no stack: ${JSON.stringify(reply).slice(0, 200)}`);
    const frames = value.frames.slice(1);
    const top = topUserFrame(frames);
    const during = value.at < m.spinEndsAt;
    await pool.terminate();
    if (!during) return report(NAME, false, `capture landed after the spin (top frame ${frameText(top)})`);
    if (top?.function !== 'spinInPool')
      return report(NAME, false, `top user frame is ${frameText(top)}, expected spinInPool`);
    report(
      NAME,
      true,
      `main thread's session via NodeWorker: top user frame ${frameText(top)}, served ${(value.at - requestedAt).toFixed(2)} ms after request, during the spin`,
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
