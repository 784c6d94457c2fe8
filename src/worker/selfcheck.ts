/**
 * The start-up self-check: once, after READY, the monitor confirms that it sees the main
 * thread's heartbeats and that a stack capture works on this runtime, and says so in one
 * `loopwatch:` line when either does not. A monitor that cannot see must not look as if it
 * watched (issue 13).
 *
 * It costs one capture (one interrupt of the main thread, about a millisecond) through a
 * session of its own, after the first heartbeat: the loop has turned, so the thread answers at
 * once. Nothing here runs on the watchdog's path.
 *
 * - Heartbeats: a main thread that answers the capture idle, but has not beaten for a long
 *   while, has lost its heartbeat timer (`setInterval` replaced by fake timers before loopwatch
 *   started): silences cannot be measured, and nothing would ever be reported. A thread that
 *   answers busy is in a start-up block, which the watchdog reports: the check waits on.
 * - Capture: the answer must contain the capture script's own frame; frames from V8's stack
 *   string instead of CallSites mean the stacks are cut short (`--frozen-intrinsics`).
 */
import { I32 } from '../protocol/shared.js';
import { CAPTURE_SCRIPT, type CaptureResult, MainThreadInspector, type StackSource } from './capture.js';

/** How long the first heartbeat may take before the thread is asked whether it is idle. */
const FIRST_BEAT_MS = 2000;
/** How long the self-check's capture may take (the loop has turned: it answers in ~1 ms). */
const ANSWER_MS = 2000;
/** How many times to ask before giving up (a long start-up block, a long native call). */
const ATTEMPTS = 3;

export interface SelfCheck {
  /** The stack source the watchdog uses (undefined: captureStack is false). */
  readonly source: StackSource | undefined;
  readonly i32: Int32Array;
  readonly thresholdMs: number;
  /** Says a line once per key (the worker's warnOnce). */
  readonly say: (key: string, message: string) => void;
  /** The worker is stopping, or the process exits: stop checking. */
  readonly done: () => boolean;
  /**
   * Stops the watchdog. Called when the heartbeat never comes: without beats every silence
   * looks like a block, and each capture that catches the thread in a moment of work would be
   * reported as one.
   */
  readonly stopWatching: () => void;
}

export async function selfCheck(check: SelfCheck): Promise<void> {
  const { source, i32, say, done } = check;
  // Only the main thread's own inspector is checked here: no source means the user turned the
  // capture off (or the monitor watches no main thread), and NoInspector was announced by the
  // main thread.
  const inspector = source instanceof MainThreadInspector ? source : undefined;
  if (inspector !== undefined && !inspector.available)
    say('capture', `blocks are reported without their stack: ${inspector.reason ?? 'the inspector is not available'}`);
  const usable = inspector?.available === true ? inspector : undefined;
  const beaten = (): boolean => Atomics.load(i32, I32.SEQ) > 0;
  const exiting = (): boolean => done() || Atomics.load(i32, I32.EXIT_NOTIFY) === 1;

  let answer: CaptureResult | undefined;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    await until(beaten, Math.max(FIRST_BEAT_MS, 10 * check.thresholdMs), exiting);
    // Without a capture a silent loop cannot be told from a busy one, and is reported as a block.
    if (exiting() || usable === undefined) return;
    answer = await usable.selfCheck(ANSWER_MS);
    if (exiting()) return;
    if (answer === undefined) continue;
    const own = answer.frames.findIndex((frame) => frame.file === CAPTURE_SCRIPT);
    if (!beaten()) {
      // Not a single beat yet. Idle (nothing below the capture's frame): the timer is gone.
      if (own >= 0 && own === answer.frames.length - 1) {
        say(
          'heartbeat',
          'not watching: the main thread is idle but its heartbeat never came — was setInterval replaced (fake timers) before loopwatch started? Start loopwatch before installing fake timers',
        );
        check.stopWatching();
        return;
      }
      continue;
    }
    break;
  }
  if (usable === undefined || exiting()) return;
  if (answer === undefined) {
    say('capture', 'the stack capture did not answer at start-up: blocks may be reported without their stack');
    return;
  }
  if (answer.unusable !== undefined) {
    say('capture', `blocks are reported without their stack: ${answer.unusable}`);
    return;
  }
  if (!answer.frames.some((frame) => frame.file === CAPTURE_SCRIPT)) {
    say(
      'capture',
      "blocks are reported without their stack: the stack capture does not see the thread's frames on this runtime",
    );
    return;
  }
  if (answer.cutAt !== undefined) {
    say(
      'capture-cut',
      `stacks are cut at ${answer.cutAt} frames: Error.prepareStackTrace and Error.stackTraceLimit cannot be set in this process (--frozen-intrinsics?)`,
    );
  }
}

/** Resolves when `condition` holds, after `ms`, or when `stop` says so; polls every 25 ms. */
async function until(condition: () => boolean, ms: number, stop: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition() && !stop() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
}
