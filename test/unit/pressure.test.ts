import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { decide, NO_PRESSURE, type PressureSample } from '../../src/common/pressure.js';
import { PressureGauge } from '../../src/main/pressure.js';
import { CHECK, F64, I32, LAG_RING_SIZE, nowMs, SHARED_BYTES, viewsOf } from '../../src/protocol/shared.js';
import { resolveOptions } from '../../src/options.js';
import type { PressureOptions, PressureState } from '../../src/types.js';

const calm: PressureSample = {
  blockedMs: 0,
  recentLagMs: 1,
  p99LagMs: 2,
  utilization: 0.2,
  heapUsedBytes: 50e6,
  rssBytes: 90e6,
  check: CHECK.NONE,
};
const limits = { maxLagMs: 100, maxUtilization: 0.9, maxHeapUsedBytes: 1e8, maxRssBytes: 1e8 };

describe('decide', () => {
  it('not under pressure: the one frozen answer', () => {
    expect(decide(limits, calm)).toBe(NO_PRESSURE);
    expect(Object.isFrozen(NO_PRESSURE.reasons)).toBe(true);
  });

  it('names the worst lag measure, and lists every limit crossed in order', () => {
    expect(decide(limits, { ...calm, blockedMs: 480.04, recentLagMs: 300 }).reasons).toEqual([
      { limit: 'maxLagMs', value: 480, max: 100, measure: 'blocked' },
    ]);
    expect(decide(limits, { ...calm, p99LagMs: 150 }).reasons).toEqual([
      { limit: 'maxLagMs', value: 150, max: 100, measure: 'p99' },
    ]);
    expect(
      decide(limits, {
        ...calm,
        recentLagMs: 600,
        utilization: 0.9512,
        heapUsedBytes: 2e8,
        rssBytes: 3e8,
        check: CHECK.TIMED_OUT,
        checkMessage: 'slow',
      }).reasons,
    ).toEqual([
      { limit: 'maxLagMs', value: 600, max: 100, measure: 'recent' },
      { limit: 'maxUtilization', value: 0.951, max: 0.9 },
      { limit: 'maxHeapUsedBytes', value: 2e8, max: 1e8 },
      { limit: 'maxRssBytes', value: 3e8, max: 1e8 },
      { limit: 'healthCheck', value: 'timed-out', message: 'slow' },
    ]);
  });

  it('a limit that is not set is never crossed; a check never run or passing is no pressure', () => {
    const off = { maxLagMs: 100, maxUtilization: undefined, maxHeapUsedBytes: undefined, maxRssBytes: undefined };
    expect(decide(off, { ...calm, utilization: 1, heapUsedBytes: 1e12, rssBytes: 1e12, check: CHECK.OK })).toBe(
      NO_PRESSURE,
    );
    expect(decide(off, { ...calm, check: CHECK.PENDING }).reasons).toEqual([
      { limit: 'healthCheck', value: 'pending', message: 'the first health check has not settled yet' },
    ]);
  });
});

/** A buffer laid out as the monitor's, with the heartbeat's writes done by hand. */
function buffer(): { views: ReturnType<typeof viewsOf>; beat: (lagMs: number) => void } {
  const views = viewsOf(new SharedArrayBuffer(SHARED_BYTES));
  const beat = (lagMs: number): void => {
    views.f64[F64.BEAT_TIME] = nowMs();
    views.lagRing[(Atomics.load(views.i32, I32.SEQ) + 1) & (LAG_RING_SIZE - 1)] = Math.round(lagMs * 1000);
    Atomics.add(views.i32, I32.SEQ, 1);
  };
  return { views, beat };
}

function gauge(views: ReturnType<typeof viewsOf>, pressure: PressureOptions): PressureGauge {
  return new PressureGauge(views, 12, resolveOptions({ pressure }).pressure, false);
}

const lagOf = (state: PressureState): unknown => state.reasons.find((reason) => reason.limit === 'maxLagMs');

describe('PressureGauge (main thread)', () => {
  it('sees the beat right after a block before the worker has drained it, and the silence before that beat', () => {
    const { views, beat } = buffer();
    const pressure = gauge(views, { maxLagMs: 200 });
    beat(1);
    // The worker drained up to here: nothing recent.
    views.f64[F64.LAG_RECENT] = 1;
    Atomics.store(views.i32, I32.LAG_RECENT_SEQ, Atomics.load(views.i32, I32.SEQ));
    expect(pressure.state()).toBe(NO_PRESSURE);
    // A 500 ms block, not over yet for the heartbeat: the silence says it.
    views.f64[F64.BEAT_TIME] = nowMs() - 512;
    expect(lagOf(pressure.state())).toMatchObject({ measure: 'blocked', max: 200 });
    // The first beat after it, then one more, both before the worker's next drain.
    beat(500);
    beat(0.5);
    expect(lagOf(pressure.state())).toEqual({ limit: 'maxLagMs', value: 500, max: 200, measure: 'recent' });
    // A shedder's own lag limit.
    expect(pressure.state(800)).toBe(NO_PRESSURE);
    pressure.stop();
    // Stopped: fails open.
    views.f64[F64.BEAT_TIME] = nowMs() - 5000;
    expect(pressure.state()).toBe(NO_PRESSURE);
  });

  it('runs the app check: sync or async, false, throw, rejection and timeout are each pressure with a reason', async () => {
    const { views, beat } = buffer();
    beat(0);
    let mode = 'ok';
    const pressure = gauge(views, {
      healthCheck: () => {
        beat(0);
        if (mode === 'false') return false;
        if (mode === 'throw') throw new Error('db down');
        if (mode === 'reject') return Promise.reject(new Error('db gone'));
        if (mode === 'hang') return new Promise(() => undefined);
        return Promise.resolve(true);
      },
      healthCheckIntervalMs: 20,
      healthCheckTimeoutMs: 60,
    });
    pressure.start();
    // Pending until the first promise settles.
    expect(pressure.state().reasons).toMatchObject([{ limit: 'healthCheck', value: 'pending' }]);
    const outcome = async (want: string): Promise<string> => {
      for (let i = 0; i < 200; i++) {
        const reason = pressure.state().reasons.find((r) => r.limit === 'healthCheck');
        const value = reason?.limit === 'healthCheck' ? `${reason.value}: ${reason.message}` : 'ok';
        if (value.startsWith(want)) return value;
        await sleep(10);
      }
      throw new Error(`never ${want}`);
    };
    expect(await outcome('ok')).toBe('ok');
    mode = 'false';
    expect(await outcome('failed')).toBe('failed: the health check returned false');
    mode = 'throw';
    expect(await outcome('threw')).toBe('threw: the health check threw: db down');
    expect(Atomics.load(views.i32, I32.CHECK)).toBe(CHECK.THREW);
    mode = 'reject';
    expect(await outcome('threw: the health check threw: db gone')).toBeTruthy();
    mode = 'hang';
    expect(await outcome('timed-out')).toBe('timed-out: the health check did not settle within 60 ms');
    mode = 'ok';
    expect(await outcome('ok')).toBe('ok');
    pressure.stop();
  });
});
