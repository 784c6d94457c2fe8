/**
 * The watchdog as a pure function of (state, heartbeat sample, now): no timers, no I/O, so
 * it is unit-tested with an injected clock. The worker calls `step` whenever its timer fires
 * and sleeps for the `wakeInMs` it returns.
 *
 * While armed, the worker sleeps until the moment the loop would have been silent for
 * `thresholdMs` since the last beat, so detection lands on time with about one wake-up per
 * threshold rather than a busy poll. While a block lasts it polls briefly for the next beat.
 */

export interface Sample {
  /** Heartbeat sequence number. */
  readonly seq: number;
  /** Epoch ms of the last beat. */
  readonly beatTime: number;
  /** The main loop's cumulative idle time at the last beat, ms. */
  readonly beatIdle: number;
}

export interface WatchdogConfig {
  readonly thresholdMs: number;
  /** Poll period while a block lasts. */
  readonly pollMs: number;
}

export type WatchdogState =
  | { readonly kind: 'armed'; readonly seq: number; readonly beatTime: number; readonly expectedWake: number }
  | {
      readonly kind: 'blocked';
      readonly id: number;
      readonly start: Sample;
      /** Start of the silence counted: the last beat, or a fresh window's start if later. */
      readonly since: number;
    };

export type WatchdogAction =
  | { readonly type: 'none' }
  | {
      readonly type: 'block-start';
      readonly id: number;
      /** How long the loop had not turned at detection, ms. */
      readonly lagMs: number;
      /** Epoch ms of the last beat before the block. */
      readonly since: number;
    }
  | {
      readonly type: 'block-end';
      readonly id: number;
      /** Busy time between the last beat before the block and the first after it, ms. */
      readonly durationMs: number;
      /** Epoch ms the block is estimated to have started (end of the idle time before it). */
      readonly startedAt: number;
      /** Epoch ms of the first beat after the block. */
      readonly turnedAt: number;
    };

export interface StepResult {
  readonly state: WatchdogState;
  readonly action: WatchdogAction;
  /** When to call `step` again, ms from now. */
  readonly wakeInMs: number;
}

const NONE: WatchdogAction = { type: 'none' };

/**
 * A fresh window from `now`: used when a silent loop tells nothing (the worker itself was
 * frozen, the main thread is paused by a debugger, the process is exiting). If the loop is
 * really stuck, it is reported one threshold later.
 */
export function freshWindow(config: WatchdogConfig, seq: number, now: number): WatchdogState {
  return { kind: 'armed', seq, beatTime: now, expectedWake: now + config.thresholdMs };
}

/**
 * The armed state again after the worker spent a while on something else (the end of a block):
 * the silence still counts from the last beat, and the worker's own wait is not mistaken for it
 * being frozen. Wakes when that silence reaches a threshold (at once if it already has).
 */
export function rearm(config: WatchdogConfig, state: WatchdogState, now: number): StepResult {
  if (state.kind !== 'armed') return { state, action: NONE, wakeInMs: config.pollMs };
  const wakeInMs = Math.max(1, state.beatTime + config.thresholdMs - now);
  return { state: { ...state, expectedWake: now + wakeInMs }, action: NONE, wakeInMs };
}

export function initialState(sample: Sample, now: number): WatchdogState {
  return { kind: 'armed', seq: sample.seq, beatTime: sample.beatTime, expectedWake: now };
}

/**
 * @param blocksSoFar number of blocks reported before, so ids are 1, 2, 3…
 * @param suppress when true a silent loop is not reported (the process is exiting); the
 *   watchdog starts a fresh window instead.
 */
export function step(
  config: WatchdogConfig,
  state: WatchdogState,
  sample: Sample,
  now: number,
  blocksSoFar: number,
  suppress = false,
): StepResult {
  const { thresholdMs, pollMs } = config;
  if (state.kind === 'blocked') {
    if (sample.seq === state.start.seq) return { state, action: NONE, wakeInMs: pollMs };
    const span = sample.beatTime - state.start.beatTime;
    const idle = Math.max(0, sample.beatIdle - state.start.beatIdle);
    // After a fresh window (a debugger pause, say) the time before the window is not counted.
    const durationMs = Math.max(0, Math.min(span - idle, sample.beatTime - state.since));
    return {
      state: { kind: 'armed', seq: sample.seq, beatTime: sample.beatTime, expectedWake: now + thresholdMs },
      action: {
        type: 'block-end',
        id: state.id,
        durationMs,
        startedAt: sample.beatTime - durationMs,
        turnedAt: sample.beatTime,
      },
      wakeInMs: thresholdMs,
    };
  }

  if (sample.seq !== state.seq) {
    // The loop turned: sleep until it would have been silent for a whole threshold.
    const wakeInMs = Math.max(1, sample.beatTime + thresholdMs - now);
    return {
      state: { kind: 'armed', seq: sample.seq, beatTime: sample.beatTime, expectedWake: now + wakeInMs },
      action: NONE,
      wakeInMs,
    };
  }

  // The worker itself was frozen (process stopped with SIGSTOP, machine asleep): a silent
  // loop tells nothing then, so start a fresh window instead of reporting.
  const workerLate = now - state.expectedWake;
  // After a fresh window, count from the window's start rather than from the last beat.
  const since = Math.max(sample.beatTime, state.beatTime);
  const lagMs = now - since;
  if (workerLate > Math.max(thresholdMs, 1000) || suppress) {
    return { state: freshWindow(config, sample.seq, now), action: NONE, wakeInMs: thresholdMs };
  }
  if (lagMs < thresholdMs) {
    const wakeInMs = Math.max(1, thresholdMs - lagMs);
    return { state: { ...state, expectedWake: now + wakeInMs }, action: NONE, wakeInMs };
  }
  const id = blocksSoFar + 1;
  return {
    state: { kind: 'blocked', id, start: sample, since },
    action: { type: 'block-start', id, lagMs, since },
    wakeInMs: pollMs,
  };
}
