// Helpers shared by the probes. Not a probe itself: run-all.mjs skips files starting with "_".
import { performance } from 'node:perf_hooks';
import { writeSync } from 'node:fs';

/** Wall-clock milliseconds that are comparable between threads (see heartbeat.mjs). */
export const now = () => performance.timeOrigin + performance.now();

/** Prints the probe's one result line and exits: 0 for ok, 1 for FAIL. */
export function report(name, ok, text) {
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${text}\n`);
  process.exit(ok ? 0 : 1);
}

/**
 * Main-thread guard: FAIL after `ms` if no result came. Ref'd on purpose, so it also keeps
 * the process alive until report() exits it.
 */
export function mainTimeout(name, ms = 5000) {
  setTimeout(() => report(name, false, `no result within ${ms} ms`), ms);
}

/**
 * Worker-side backstop for a main thread that never comes back: a timer on the main thread
 * cannot fire then, so the worker writes the FAIL line itself (fs.writeSync, because worker
 * console/stdout output is relayed through the blocked main thread) and kills the process.
 * Unref'd: it must not keep the worker alive.
 */
export function workerWatchdog(name, ms = 8000) {
  setTimeout(() => {
    writeSync(1, `FAIL ${name}: worker watchdog fired after ${ms} ms, main thread stuck\n`);
    process.kill(process.pid, 'SIGKILL');
  }, ms).unref();
}

/**
 * The stack capture, evaluated on the main thread through the inspector. It runs on top of
 * whatever the main thread was doing (the inspector serves Runtime.evaluate from a V8
 * interrupt). It swaps Error.prepareStackTrace for one that returns plain CallSite data and
 * restores both globals whatever happens. captureStackTrace's second argument drops the
 * capture function's own frame. `at` is the main thread's clock when the capture ran.
 */
export const CAPTURE = `(function loopwatchCapture() {
  const limit = Error.stackTraceLimit, prepare = Error.prepareStackTrace;
  try {
    Error.stackTraceLimit = 30;
    Error.prepareStackTrace = (_, sites) => sites.map((s) => ({
      function: s.getFunctionName() || '', file: s.getFileName() || '',
      line: s.getLineNumber(), column: s.getColumnNumber() }));
    const holder = {};
    Error.captureStackTrace(holder, loopwatchCapture);
    return { at: performance.timeOrigin + performance.now(), frames: holder.stack };
  } finally { Error.stackTraceLimit = limit; Error.prepareStackTrace = prepare; }
})()`;

/**
 * Worker side: connects an inspector session to the main thread (no port is opened) and
 * returns capture(), which resolves to { roundTripMs, servedAfterMs, at, frames } or rejects.
 * servedAfterMs = when the main thread ran the capture - when the worker asked (the two
 * threads share one clock, see heartbeat.mjs): the interrupt's own delay, without the
 * delivery of the answer back to the worker.
 *
 * Traps, all measured on Node 20, 22, 24 and 26:
 * - A session with a request outstanding does not keep the worker alive: without a ref'd
 *   handle the worker may exit before the answer arrives. capture() holds one meanwhile.
 * - session.disconnect() inside a post() callback followed by the worker ending at once
 *   can kill the whole process with SIGABRT (main thread, MainThreadInterface::Post, while
 *   the worker's inspector is being destroyed): 0-20% of runs depending on the version.
 * - process.exit() on the main thread while the session is still connected prints
 *   "Waiting for the debugger to disconnect..." on stderr (every time; it does not wait).
 * The probes therefore never disconnect: main awaits worker.terminate() before exiting,
 * which never crashed and never printed that line.
 */
export async function connectToMain() {
  const { Session } = await import('node:inspector');
  const session = new Session();
  session.connectToMainThread();
  const capture = () =>
    new Promise((resolve, reject) => {
      const keepAlive = setInterval(() => {}, 1000);
      const requestedAt = now();
      session.post('Runtime.evaluate', { expression: CAPTURE, returnByValue: true }, (err, res) => {
        const roundTripMs = now() - requestedAt;
        clearInterval(keepAlive);
        if (err) return reject(err);
        if (res.exceptionDetails) return reject(new Error(res.exceptionDetails.text));
        const { at, frames } = res.result.value;
        // The first frame is the evaluated script's own top level (no file): drop it.
        resolve({ roundTripMs, servedAfterMs: at - requestedAt, at, frames: frames.slice(1) });
      });
    });
  return { session, capture };
}

/** First frame of application code: skips built-ins (no file, e.g. Atomics.load) and node: internals. */
export const topUserFrame = (frames) => frames.find((f) => f.file && !f.file.startsWith('node:'));

export const frameText = (f) =>
  f ? `${f.function || '<anonymous>'} (${f.file.split('/').pop()}:${f.line}:${f.column})` : 'no frame';

/** Compact chain of user frame names, innermost first: "count < caller < main". */
export const userChain = (frames) =>
  frames
    .filter((f) => f.file && !f.file.startsWith('node:'))
    .map((f) => f.function || '<anonymous>')
    .join(' < ');

/**
 * Heartbeat in a SharedArrayBuffer: Int32 [0] sequence, Float64 at byte 8 the beat time.
 * Float64 has no Atomics: the time is written first, then the sequence is bumped with
 * Atomics.add, which orders the two for a reader that Atomics.loads the sequence first.
 */
export function startHeartbeat(sab, periodMs = 10) {
  const seq = new Int32Array(sab, 0, 1);
  const time = new Float64Array(sab, 8, 1);
  const beat = () => {
    time[0] = now();
    Atomics.add(seq, 0, 1);
  };
  beat();
  return setInterval(beat, periodMs).unref();
}

export function readHeartbeat(sab) {
  const seq = Atomics.load(new Int32Array(sab, 0, 1), 0);
  return { seq, time: new Float64Array(sab, 8, 1)[0] };
}

export const HEARTBEAT_BYTES = 16;
