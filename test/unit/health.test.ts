import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { activeResources, describeHandle } from '../../src/main/resources.js';
import { CHECK, I32, I32_SLOTS, LAG_RING_SIZE } from '../../src/protocol/shared.js';
import type { PressureSample } from '../../src/common/pressure.js';
import { livez, readyz, type LoopView } from '../../src/worker/health.js';
import { LagWindow } from '../../src/worker/lag.js';
import { formatPretty } from '../../src/common/pretty.js';
import type { HangEvent } from '../../src/types.js';

/** A ring and a sequence counter, written the way the main thread's heartbeat does. */
function heartbeat(): { ring: Int32Array; i32: Int32Array; beat: (lagMs: number) => void } {
  const i32 = new Int32Array(I32_SLOTS);
  const ring = new Int32Array(LAG_RING_SIZE);
  return {
    ring,
    i32,
    beat: (lagMs) => {
      ring[(Atomics.load(i32, I32.SEQ) + 1) & (LAG_RING_SIZE - 1)] = Math.round(lagMs * 1000);
      i32[I32.SEQ] = (Atomics.load(i32, I32.SEQ) + 1) | 0;
    },
  };
}

describe('LagWindow', () => {
  it('gives percentiles of the beats drained within the window', () => {
    const { ring, i32, beat } = heartbeat();
    const window = new LagWindow(ring, i32, 10_000);
    for (let i = 0; i < 99; i++) beat(1);
    beat(250);
    window.drain(1000);
    expect(window.stats()).toEqual({
      windowMs: 10_000,
      samples: 100,
      minMs: 1,
      meanMs: 3.5,
      stddevMs: 24.8,
      p50Ms: 1,
      p90Ms: 1,
      p99Ms: 1,
      maxMs: 250,
    });
    beat(300);
    window.drain(2000);
    expect(window.stats().p99Ms).toBe(250);
    // Batches older than the window fall out.
    window.drain(11_500);
    expect(window.stats()).toMatchObject({ samples: 1, maxMs: 300 });
    window.drain(13_000);
    expect(window.stats()).toMatchObject({ samples: 0, p99Ms: 0 });
  });

  it('keeps the last ring-full when it was not drained in time', () => {
    const { ring, i32, beat } = heartbeat();
    const window = new LagWindow(ring, i32);
    for (let i = 0; i < LAG_RING_SIZE + 500; i++) beat(i < 500 ? 900 : 2);
    window.drain(1);
    expect(window.stats()).toMatchObject({ samples: LAG_RING_SIZE, maxMs: 2 });
  });

  it('survives the sequence counter wrapping around', () => {
    const { ring, i32, beat } = heartbeat();
    i32[I32.SEQ] = 2 ** 31 - 3;
    const window = new LagWindow(ring, i32);
    for (let i = 0; i < 10; i++) beat(i);
    window.drain(1);
    expect(i32[I32.SEQ]).toBeLessThan(0);
    expect(window.stats()).toMatchObject({ samples: 10, maxMs: 9 });
  });

  it('counts only the beats after a given one (the end of a warm-up)', () => {
    const { ring, i32, beat } = heartbeat();
    const window = new LagWindow(ring, i32);
    beat(400);
    beat(1);
    const readySeq = Atomics.load(i32, I32.SEQ);
    beat(3);
    beat(5);
    window.drain(1);
    expect(window.stats(readySeq)).toMatchObject({ samples: 2, maxMs: 5 });
    expect(window.stats()).toMatchObject({ samples: 4, maxMs: 400 });
  });
});

function view(
  over: Partial<{
    silent: number;
    started: boolean;
    p99: number;
    block: ReturnType<LoopView['block']>;
    pressure: Partial<PressureSample>;
  }>,
): LoopView {
  return {
    pressure: () => ({
      blockedMs: Math.max(0, (over.silent ?? 5) - 12),
      recentLagMs: 1,
      p99LagMs: over.p99 ?? 2,
      utilization: 0.1,
      heapUsedBytes: 0,
      rssBytes: 0,
      check: CHECK.NONE,
      ...over.pressure,
    }),
    silentMs: () => over.silent ?? 5,
    started: () => over.started ?? true,
    block: () => over.block,
    lag: () => ({
      windowMs: 10_000,
      samples: 800,
      minMs: 0,
      meanMs: 0.5,
      stddevMs: 0.3,
      p50Ms: 0.4,
      p90Ms: 1,
      p99Ms: over.p99 ?? 2,
      maxMs: 9,
    }),
  };
}
const limits = {
  thresholdMs: 100,
  livenessMs: 1000,
  pressure: { maxLagMs: 50, maxUtilization: 0.9, maxHeapUsedBytes: undefined, maxRssBytes: 1e9 },
};

describe('health answers', () => {
  it('livez: 200 until the loop has been silent for livenessMs', () => {
    expect(livez(view({ silent: 999 }), limits).status).toBe(200);
    const dead = livez(
      view({ silent: 1500, block: { id: 3, culprit: { function: 'parse', file: '/app/a.js', line: 7, column: 1 } } }),
      limits,
    );
    expect(dead.status).toBe(503);
    expect(dead.body).toMatchObject({
      status: 'blocked',
      loop: { blockedMs: 1500, block: { id: 3, culprit: { function: 'parse', file: '/app/a.js', line: 7 } } },
    });
  });

  it('readyz: starting, then blocked, lagging or ready, with Retry-After on 503', () => {
    expect(readyz(view({ started: false }), limits)).toMatchObject({
      status: 503,
      headers: { 'retry-after': '1' },
      body: { status: 'starting' },
    });
    expect(readyz(view({ silent: 150 }), limits)).toMatchObject({
      status: 503,
      body: { status: 'blocked', loop: { blockedMs: 150 } },
    });
    expect(readyz(view({ p99: 80 }), limits)).toMatchObject({
      status: 503,
      headers: { 'retry-after': '5' },
      body: { status: 'lagging' },
    });
    expect(readyz(view({}), limits)).toMatchObject({
      status: 200,
      headers: {},
      body: { status: 'ready', loop: { blockedMs: 0 } },
    });
  });

  it('readyz: the pressure decision — a beat just after a block, then the other limits, each with its reason', () => {
    // The first beat after a 500 ms block: no silence now, no p99 yet, but the recent lag says it.
    expect(readyz(view({ pressure: { recentLagMs: 500 } }), limits)).toMatchObject({
      status: 503,
      headers: { 'retry-after': '1' },
      body: { status: 'lagging', reasons: [{ limit: 'maxLagMs', value: 500, max: 50, measure: 'recent' }] },
    });
    expect(readyz(view({ pressure: { utilization: 0.97, rssBytes: 2e9, check: CHECK.THREW } }), limits)).toMatchObject({
      status: 503,
      body: {
        status: 'under-pressure',
        reasons: [
          { limit: 'maxUtilization', value: 0.97, max: 0.9 },
          { limit: 'maxRssBytes', value: 2e9, max: 1e9 },
          { limit: 'healthCheck', value: 'threw', message: 'the health check threw' },
        ],
      },
    });
    // No heap limit set: any heap is fine.
    expect(readyz(view({ pressure: { heapUsedBytes: 1e12 } }), limits).status).toBe(200);
  });
});

describe('hang reports', () => {
  const base: HangEvent = {
    type: 'hang',
    reason: 'block',
    action: 'kill',
    limitMs: 1000,
    at: '2026-01-01T00:00:00.000Z',
    pid: 42,
    blockId: 2,
    blockedMs: 1004.2,
    stack: [{ function: 'spin', file: '/app/src/a.ts', line: 10, column: 3 }],
    stackTiming: 'during',
  };

  it('say what blocked and what loopwatch does', () => {
    expect(formatPretty(base, '/app')).toBe(
      'loopwatch: [pid 42] HANG: block #2 has blocked the event loop for 1,004 ms (hangMs 1,000 ms) — ending the process with SIGKILL\n    at spin (src/a.ts:10:3)\n',
    );
  });

  it('list what keeps a process alive past its exit deadline', () => {
    const text = formatPretty(
      {
        ...base,
        reason: 'exit-deadline',
        action: 'exit',
        cause: 'SIGTERM',
        blockedMs: 0,
        stack: [],
        stackTiming: 'none',
        resources: {
          at: base.at,
          counts: { TCPServerWrap: 1, Timeout: 2 },
          handles: ['Server listening on 127.0.0.1:3000'],
        },
      },
      '/app',
    );
    expect(text).toBe(
      'loopwatch: [pid 42] the process did not exit within 1,000 ms of SIGTERM; the event loop runs on, kept alive by what is listed below — ending the process with process.exit(1)\n' +
        '    resources: TCPServerWrap ×1, Timeout ×2\n    - Server listening on 127.0.0.1:3000\n',
    );
  });
});

describe('active resources', () => {
  it('names a listening server by its address', async () => {
    const server = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      expect(activeResources().handles).toContain(`Server listening on 127.0.0.1:${port}`);
      expect(activeResources().counts['TCPServerWrap']).toBeGreaterThanOrEqual(1);
    } finally {
      server.close();
    }
  });

  it('never throws for a handle that cannot describe itself', () => {
    const hostile = {
      constructor: { name: 'Weird' },
      address: () => {
        throw new Error('no');
      },
    };
    expect(describeHandle(hostile)).toBe('Weird');
  });
});
