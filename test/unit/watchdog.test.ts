import { describe, expect, it } from 'vitest';
import { initialState, type Sample, step, type WatchdogState } from '../../src/worker/watchdog.js';

const config = { thresholdMs: 100, pollMs: 10 };

/** A fake main thread: beats at given times; idle time grows while it waits. */
function beat(seq: number, beatTime: number, beatIdle = 0): Sample {
  return { seq, beatTime, beatIdle };
}

describe('watchdog', () => {
  it('sleeps until the loop would have been silent for a whole threshold', () => {
    const state = initialState(beat(1, 1000), 1000);
    const result = step(config, state, beat(2, 1012), 1013, 0);
    expect(result.action.type).toBe('none');
    expect(result.wakeInMs).toBe(99); // 1012 + 100 - 1013
  });

  it('reports a block once the last beat is a threshold old, with the lag', () => {
    let state: WatchdogState = initialState(beat(5, 1000), 1000);
    let result = step(config, state, beat(5, 1000), 1050, 0);
    expect(result.action.type).toBe('none');
    expect(result.wakeInMs).toBe(50);
    state = result.state;
    result = step(config, state, beat(5, 1000), 1100.5, 0);
    expect(result.action).toEqual({ type: 'block-start', id: 1, lagMs: 100.5, since: 1000 });
    expect(result.state.kind).toBe('blocked');
    expect(result.wakeInMs).toBe(10);
  });

  it('numbers blocks from the count so far', () => {
    const state = initialState(beat(5, 1000), 1000);
    const result = step(config, state, beat(5, 1000), 1100, 41);
    expect(result.action).toMatchObject({ type: 'block-start', id: 42 });
  });

  it('keeps polling while blocked and ends the block at the next beat with its busy time', () => {
    let state = step(config, initialState(beat(5, 1000, 400), 1000), beat(5, 1000, 400), 1100, 0).state;
    let result = step(config, state, beat(5, 1000, 400), 1300, 1);
    expect(result.action.type).toBe('none');
    expect(result.wakeInMs).toBe(10);
    state = result.state;
    // The loop was idle 8 ms after the last beat, then busy until 1600.
    result = step(config, state, beat(6, 1600, 408), 1601, 1);
    expect(result.action).toEqual({ type: 'block-end', id: 1, durationMs: 592, startedAt: 1008, turnedAt: 1600 });
    expect(result.state).toMatchObject({ kind: 'armed', seq: 6, beatTime: 1600 });
  });

  it('never reports a negative duration', () => {
    const state = step(config, initialState(beat(1, 1000, 0), 1000), beat(1, 1000, 0), 1100, 0).state;
    const result = step(config, state, beat(2, 1100, 500), 1101, 1);
    expect(result.action).toMatchObject({ type: 'block-end', durationMs: 0 });
  });

  it('does not report when its own timer fired very late (process stopped, machine asleep)', () => {
    let state: WatchdogState = initialState(beat(1, 1000), 1000);
    state = step(config, state, beat(1, 1000), 1050, 0).state; // sleeps until 1100
    const result = step(config, state, beat(1, 1000), 60_000, 0);
    expect(result.action.type).toBe('none');
    // A fresh window: if the loop is really stuck, it is reported one threshold later.
    const next = step(config, result.state, beat(1, 1000), 60_100, 0);
    expect(next.action).toMatchObject({ type: 'block-start', lagMs: 100, since: 60_000 });
  });

  it('after a fresh window, does not count the time before it in the duration', () => {
    // Silent since 1000 (a debugger pause); a fresh window from 1800, reported at 1900.
    const window = { kind: 'armed', seq: 1, beatTime: 1800, expectedWake: 1900 } as const;
    const blocked = step(config, window, beat(1, 1000, 0), 1900, 0);
    expect(blocked.action).toMatchObject({ type: 'block-start', lagMs: 100, since: 1800 });
    const ended = step(config, blocked.state, beat(2, 2000, 0), 2001, 1);
    expect(ended.action).toMatchObject({ type: 'block-end', durationMs: 200, startedAt: 1800 });
  });

  it('does not report while suppressed, and reports when no longer suppressed', () => {
    const state = initialState(beat(1, 1000), 1000);
    const suppressed = step(config, state, beat(1, 1000), 1100, 0, true);
    expect(suppressed.action.type).toBe('none');
    expect(suppressed.wakeInMs).toBe(100);
    const later = step(config, suppressed.state, beat(1, 1000), 1200, 0, false);
    expect(later.action.type).toBe('block-start');
  });

  it('an idle loop that beats regularly never blocks', () => {
    let state: WatchdogState = initialState(beat(0, 0), 0);
    let now = 0;
    let seq = 0;
    for (let i = 0; i < 1000; i++) {
      const result = step(config, state, beat(seq, seq * 12.5), now, 0);
      expect(result.action.type).toBe('none');
      state = result.state;
      now += Math.min(result.wakeInMs, 12.5);
      seq = Math.floor(now / 12.5);
    }
  });
});
