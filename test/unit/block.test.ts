import { describe, expect, it } from 'vitest';
import { F64, I32, LAG_RING_SIZE, SHARED_BYTES, viewsOf } from '../../src/protocol/shared.js';
import type { BlockEvent, BlockProgress, LoopwatchEvent, StackFrame } from '../../src/types.js';
import { BlockLifecycle, type BlockDeps } from '../../src/worker/block.js';
import type {
  CaptureResult,
  RemapAnswer,
  RemapRequest,
  PauseState,
  RawFrame,
  StackSource,
} from '../../src/worker/capture.js';
import type { Clock } from '../../src/worker/time.js';

/** Time that moves only when the test says so; timers fire in order, promises settle between them. */
class FakeClock implements Clock {
  time = 1_000_000;
  readonly #timers = new Set<{ at: number; callback: () => void }>();

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { at: this.time + ms, callback };
    this.#timers.add(timer);
    return timer;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as { at: number; callback: () => void });
  }

  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await settle();
      let next: { at: number; callback: () => void } | undefined;
      for (const timer of this.#timers) if (timer.at <= end && (next === undefined || timer.at < next.at)) next = timer;
      if (next === undefined) break;
      this.#timers.delete(next);
      this.time = Math.max(this.time, next.at);
      next.callback();
    }
    this.time = end;
    await settle();
  }
}

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A stack source whose answers the test gives: at once, or later by hand. */
class FakeSource implements StackSource {
  readonly available = true;
  readonly reason = undefined;
  pause: PauseState = 'running';
  /** How long the pause probe takes to answer, ms (0: at once). */
  pauseAfterMs = 0;
  /** The next capture's answer; undefined leaves it pending until `answer()`. */
  next: ((requestedAt: number) => CaptureResult) | undefined;
  closed = 0;
  #pending: ((result: CaptureResult) => void) | undefined;

  open(): boolean {
    return true;
  }

  close(): void {
    this.closed++;
  }

  pauseState(): Promise<PauseState> {
    if (this.pauseAfterMs === 0) return Promise.resolve(this.pause);
    return new Promise((resolve) => clock.setTimeout(() => resolve(this.pause), this.pauseAfterMs));
  }

  capture(): Promise<CaptureResult | undefined> {
    const next = this.next;
    if (next !== undefined) return Promise.resolve(next(clock.now()));
    return new Promise((resolve) => {
      this.#pending = resolve;
    });
  }

  /** What remap() answers (the watched thread's own source maps); undefined: it could not ask. */
  remapped: RemapAnswer[] | undefined;
  readonly remapRequests: (readonly RemapRequest[])[] = [];

  remap(requests: readonly RemapRequest[]): Promise<RemapAnswer[] | undefined> {
    this.remapRequests.push(requests);
    return Promise.resolve(this.remapped);
  }

  /** Answers the capture left pending. */
  answer(result: CaptureResult): void {
    this.#pending?.(result);
  }
}

const SPIN: RawFrame = { function: 'spin', file: '/app/spin.js', line: 3, column: 5, async: false };
const THRESHOLD = 100;
const BEAT_MS = 25;

let clock: FakeClock;

/** Frames as index.ts resolves them, with those in `transformedFile` taken for code transformed in memory. */
function resolveWith(transformedFile: string | undefined): BlockDeps['resolve'] {
  return (raw) => {
    const frames = raw.map((f): StackFrame => ({
      function: f.function,
      file: f.file ?? '<anonymous>',
      line: f.line,
      column: f.column,
      ...(f.file === transformedFile ? { mapped: false as const } : {}),
    }));
    const transformed = raw.flatMap((f, index) =>
      f.file === transformedFile && f.file !== undefined
        ? [{ index, request: [f.file, f.line, f.column] as const }]
        : [],
    );
    return { frames, transformed };
  };
}

function setup(options: Partial<BlockDeps['options']> = {}, transformedFile?: string, deps: Partial<BlockDeps> = {}) {
  clock = new FakeClock();
  const { i32, f64, lagRing, busyRing } = viewsOf(new SharedArrayBuffer(SHARED_BYTES));
  const source = new FakeSource();
  source.next = (at) => ({ frames: [SPIN], truncated: false, context: undefined, servedAt: at + 1 });
  const log: string[] = [];
  const events: LoopwatchEvent[] = [];
  const hangs: { at: number; answering: boolean }[] = [];
  const progress: BlockProgress[] = [];
  /** The fake main thread beats: beat time now, idle time as given; the rings as the main thread writes them. */
  let previous = { time: clock.now(), idle: 0 };
  const beat = (idleMs = f64[F64.BEAT_IDLE] ?? 0): void => {
    const now = clock.now();
    f64[F64.BEAT_TIME] = now;
    f64[F64.BEAT_IDLE] = idleMs;
    const slot = (Atomics.load(i32, I32.SEQ) + 1) & (LAG_RING_SIZE - 1);
    lagRing[slot] = Math.max(0, Math.round((now - previous.time - BEAT_MS) * 1000));
    busyRing[slot] = Math.max(0, Math.round((now - previous.time - (idleMs - previous.idle)) * 1000));
    previous = { time: now, idle: idleMs };
    Atomics.add(i32, I32.SEQ, 1);
  };
  beat(0);
  Atomics.store(i32, I32.LOOP_TURNED, 1);
  const lifecycle = new BlockLifecycle({
    options: { thresholdMs: THRESHOLD, captureTimeoutMs: 50, hangMs: undefined, warmup: false, ...options },
    i32,
    f64,
    lagRing,
    busyRing,
    beatMs: BEAT_MS,
    pid: 4242,
    thread: 'main',
    source,
    clock,
    resolve: resolveWith(transformedFile),
    threadStates: { detected: () => ({ state: 'running' }), sinceDetected: () => ({ state: 'running' }) },
    emit: (event) => {
      events.push(event);
      log.push(event.type === 'block' ? `event ${event.state}` : 'event hang');
    },
    progress: (record) => progress.push(record),
    warnOnce: (key) => log.push(`warn ${key}`),
    settled: (seq) => log.push(`settled ${seq}`),
    hang: (answering) => {
      hangs.push({ at: clock.now(), answering });
      return Promise.resolve();
    },
    ...deps,
  });
  return { lifecycle, source, events, log, hangs, progress, beat, i32, blocks: () => events as BlockEvent[] };
}

describe('block lifecycle', () => {
  it('on detection emits `ongoing` with the stack taken during the block', async () => {
    const { lifecycle, blocks, i32 } = setup();
    const since = clock.now();
    lifecycle.start();
    await clock.advance(THRESHOLD - 1);
    expect(blocks()).toEqual([]);
    await clock.advance(1);
    expect(blocks()).toEqual([
      {
        type: 'block',
        id: 1,
        phase: 'running',
        thresholdMs: THRESHOLD,
        pid: 4242,
        thread: 'main',
        state: 'ongoing',
        durationMs: 100,
        startedAt: new Date(since).toISOString(),
        stack: [{ function: 'spin', file: '/app/spin.js', line: 3, column: 5 }],
        stackTiming: 'during',
        culprit: { function: 'spin', file: '/app/spin.js', line: 3, column: 5, source: 'stack' },
      },
    ]);
    expect(Atomics.load(i32, I32.BLOCKED)).toBe(1);
    expect(lifecycle.active).toMatchObject({ id: 1, since });
    lifecycle.stop();
  });

  it('at the next beat emits `ended` with the busy time, and acknowledges it', async () => {
    const { lifecycle, blocks, beat, i32, source } = setup();
    lifecycle.start();
    await clock.advance(THRESHOLD + 200);
    expect(blocks().map((e) => e.state)).toEqual(['ongoing']);
    beat(0);
    await clock.advance(10);
    expect(blocks().map((e) => e.state)).toEqual(['ongoing', 'ended']);
    expect(blocks()[1]).toMatchObject({ id: 1, durationMs: 300, stackTiming: 'during', stack: [{ function: 'spin' }] });
    expect(Atomics.load(i32, I32.BLOCKED)).toBe(0);
    expect(Atomics.load(i32, I32.ACK)).toBe(1);
    expect(source.closed).toBe(1);
    expect(lifecycle.active).toBeUndefined();
    // The next block gets the next id.
    await clock.advance(THRESHOLD);
    expect(blocks()[2]).toMatchObject({ id: 2, state: 'ongoing' });
    lifecycle.stop();
  });

  it('a thread paused by a debugger is not blocked', async () => {
    const { lifecycle, events, source } = setup();
    source.pause = 'paused';
    lifecycle.start();
    await clock.advance(5 * THRESHOLD);
    expect(events).toEqual([]);
    expect(source.closed).toBeGreaterThan(0);
    // Resumed: the first probe after the pause starts a fresh window; still silent a threshold
    // later, it is a block.
    source.pause = 'running';
    await clock.advance(THRESHOLD);
    expect(events).toEqual([]);
    await clock.advance(THRESHOLD);
    expect(events).toMatchObject([{ type: 'block', state: 'ongoing', id: 1 }]);
    lifecycle.stop();
  });

  it('a probe cut by the session closing at exit is not a block right after a pause, and is one otherwise', async () => {
    // Paused, then resumed straight into the exit, where the probe is never served: the
    // monitor's close at exit cuts it.
    const paused = setup();
    paused.source.pause = 'paused';
    paused.lifecycle.start();
    await clock.advance(3 * THRESHOLD);
    paused.source.pause = 'closed';
    await clock.advance(THRESHOLD);
    expect(paused.events).toEqual([]);
    paused.lifecycle.stop();
    // No pause before it: the silence is a block, taken as one long native call (no stack).
    const running = setup();
    running.source.pause = 'closed';
    running.lifecycle.start();
    await clock.advance(THRESHOLD);
    expect(running.blocks()[0]).toMatchObject({ state: 'ongoing', stackTiming: 'none' });
    running.lifecycle.stop();
  });

  it('a capture served after lateAfterMs is `late`; before it, `during` (a worker thread is given longer)', async () => {
    for (const [lateAfterMs, servedAfter, timing] of [
      [undefined, 100, 'late'],
      [150, 100, 'during'],
      [150, 160, 'late'],
    ] as const) {
      const { lifecycle, blocks, source } = setup({}, undefined, { lateAfterMs });
      source.next = (at) => ({ frames: [SPIN], truncated: false, context: undefined, servedAt: at + servedAfter });
      lifecycle.start();
      await clock.advance(THRESHOLD);
      expect(blocks()[0], `lateAfterMs ${lateAfterMs}, served after ${servedAfter} ms`).toMatchObject({
        state: 'ongoing',
        stackTiming: timing,
      });
      lifecycle.stop();
    }
  });

  it('an idle thread whose probe came back slowly is held up only past its own lateAfterMs', async () => {
    // The thread answers both the probe and the capture with no JavaScript on its stack: it is
    // waiting in its loop. The probe took 40 ms: the main thread's own probe that slow was held
    // up by a native call (a block without a stack); a worker thread's crosses the main thread
    // first and is allowed longer, so it is an idle thread, not a block.
    for (const [lateAfterMs, reported] of [
      [undefined, true],
      [150, false],
    ] as const) {
      const { lifecycle, blocks, source } = setup({}, undefined, { lateAfterMs });
      source.pauseAfterMs = 40;
      source.next = (at) => ({ frames: [], truncated: false, context: undefined, servedAt: at + 1 });
      lifecycle.start();
      await clock.advance(THRESHOLD + 45);
      expect(blocks().length > 0, `lateAfterMs ${lateAfterMs}`).toBe(reported);
      lifecycle.stop();
    }
  });

  it('a capture answered only after the loop turned is `late`; none came during the block', async () => {
    const { lifecycle, blocks, beat, source } = setup();
    source.next = undefined;
    lifecycle.start();
    await clock.advance(THRESHOLD + 50);
    expect(blocks()).toMatchObject([
      { state: 'ongoing', stack: [], stackTiming: 'none', threadState: { state: 'running' } },
    ]);
    beat(0);
    const turnedAt = clock.now();
    await clock.advance(10);
    source.answer({ frames: [SPIN], truncated: false, context: undefined, servedAt: turnedAt + 2 });
    await clock.advance(0);
    expect(blocks()[1]).toMatchObject({ state: 'ended', stackTiming: 'late', stack: [{ function: 'spin' }] });
    lifecycle.stop();
  });

  it('answers SETTLE at once when idle, and after the `ended` event during a block', async () => {
    const { lifecycle, log, beat } = setup();
    lifecycle.settle(1);
    expect(log).toEqual(['settled 1']);
    lifecycle.start();
    await clock.advance(THRESHOLD + 20);
    lifecycle.settle(2);
    await clock.advance(50);
    expect(log).toEqual(['settled 1', 'event ongoing']);
    beat(0);
    await clock.advance(10);
    expect(log).toEqual(['settled 1', 'event ongoing', 'event ended', 'settled 2']);
    lifecycle.stop();
  });

  it('reports a hang once, when the block reaches hangMs', async () => {
    const { lifecycle, hangs } = setup({ hangMs: 500 });
    const since = clock.now();
    lifecycle.start();
    await clock.advance(499);
    expect(hangs).toEqual([]);
    await clock.advance(11);
    expect(hangs).toHaveLength(1);
    expect(hangs[0]?.answering).toBe(true);
    expect(hangs[0]?.at).toBeGreaterThanOrEqual(since + 500);
    expect(hangs[0]?.at).toBeLessThanOrEqual(since + 510);
    await clock.advance(1000);
    expect(hangs).toHaveLength(1);
    lifecycle.stop();
  });

  it('frames of code transformed in memory are mapped by the watched thread before `ongoing`, or marked mapped: false', async () => {
    const { lifecycle, source, blocks } = setup({}, '/app/spin.js');
    source.remapped = [['/app/spin.ts', 9, 7]];
    lifecycle.start();
    await clock.advance(THRESHOLD);
    expect(source.remapRequests).toEqual([[['/app/spin.js', 3, 5]]]);
    expect(blocks()[0]?.stack).toEqual([
      {
        function: 'spin',
        file: '/app/spin.ts',
        line: 9,
        column: 7,
        generated: { file: '/app/spin.js', line: 3, column: 5 },
      },
    ]);

    const unmapped = setup({}, '/app/spin.js');
    unmapped.source.remapped = [null];
    unmapped.lifecycle.start();
    await clock.advance(THRESHOLD);
    expect(unmapped.blocks()[0]?.stack).toEqual([
      { function: 'spin', file: '/app/spin.js', line: 3, column: 5, mapped: false },
    ]);
  });

  it('records how long a block has lasted so far: at each doubling of its detection time, then every second', async () => {
    const { lifecycle, progress, beat, blocks } = setup();
    lifecycle.start();
    await clock.advance(THRESHOLD);
    expect(blocks().map((e) => e.state)).toEqual(['ongoing']);
    await clock.advance(3000 - THRESHOLD);
    // 200, 400, 800, 1,600 and 2,600 ms into the block (within one poll).
    expect(progress.map((p) => Math.round(p.durationMs / 100) * 100)).toEqual([200, 400, 800, 1600, 2600]);
    expect(progress[0]).toMatchObject({ type: 'progress', id: 1, pid: 4242, thread: 'main' });
    beat();
    await clock.advance(10);
    expect(blocks().map((e) => e.state)).toEqual(['ongoing', 'ended']);
    // Nothing more about block 1 once it ended (the fake thread, silent again, starts block 2).
    await clock.advance(2000);
    expect(progress.filter((p) => p.id === 1)).toHaveLength(5);
  });

  it('when it arms, reports a block that was over before as one `ended` event: real duration, no stack, startup', async () => {
    const { lifecycle, events, beat, log } = setup();
    // The main thread before the worker armed: beats, then 250 ms of top-level code, then beats.
    await clock.advance(BEAT_MS);
    beat(BEAT_MS - 1);
    await clock.advance(250);
    beat(BEAT_MS - 1);
    const turned = clock.now();
    for (let i = 0; i < 3; i++) {
      await clock.advance(BEAT_MS);
      beat(BEAT_MS * (i + 2) - 2);
    }
    lifecycle.start();
    expect(events).toEqual([
      {
        type: 'block',
        id: 1,
        state: 'ended',
        phase: 'startup',
        thresholdMs: THRESHOLD,
        durationMs: 250,
        startedAt: new Date(turned - 250).toISOString(),
        pid: 4242,
        thread: 'main',
        stack: [],
        stackTiming: 'none',
        beforeArmed: true,
      },
    ]);
    expect(log).toEqual(['event ended']);
    // The watchdog goes on from there: the next block gets the next id, with its stack.
    await clock.advance(THRESHOLD + 10);
    expect((events as BlockEvent[]).map((e) => [e.id, e.state, e.stackTiming])).toEqual([
      [1, 'ended', 'none'],
      [2, 'ongoing', 'during'],
    ]);
    lifecycle.stop();
  });

  it('a block still going on when it arms is detected by the first tick, counted from the last beat before it', async () => {
    const { lifecycle, blocks, beat } = setup();
    await clock.advance(BEAT_MS);
    beat(BEAT_MS - 1);
    const lastBeat = clock.now();
    await clock.advance(400);
    lifecycle.start();
    await clock.advance(1);
    expect(blocks()).toMatchObject([
      { id: 1, state: 'ongoing', durationMs: 400, startedAt: new Date(lastBeat).toISOString(), stackTiming: 'during' },
    ]);
    await clock.advance(99);
    beat(BEAT_MS - 1);
    await clock.advance(10);
    expect(blocks()[1]).toMatchObject({
      id: 1,
      state: 'ended',
      durationMs: 500,
      startedAt: new Date(lastBeat).toISOString(),
    });
    expect(blocks()[1]?.beforeArmed).toBeUndefined();
    lifecycle.stop();
  });

  it('a native call right after a block is counted from the beat between them, however long the first took to close', async () => {
    const { lifecycle, blocks, beat, source } = setup();
    source.next = undefined; // native calls: the capture is never answered
    // The profiler hands over the first block's samples only at its timeout: the next native
    // call holds the thread that would serve it.
    lifecycle.useProfiler({
      due: () => false,
      rotate: () => Promise.resolve(),
      attributeBlock: () => new Promise(() => undefined),
    });
    lifecycle.start();
    await clock.advance(THRESHOLD + 50);
    expect(blocks().map((e) => e.state)).toEqual(['ongoing']);
    beat(0);
    const between = clock.now();
    // No beat after this one: the second call began at once. The first block's end waits for its
    // late answer (200 ms) and the samples (1,000 ms); the second is still found, from `between`.
    await clock.advance(1500);
    expect(blocks()).toMatchObject([
      { id: 1, state: 'ongoing' },
      { id: 1, state: 'ended', durationMs: 150 },
      { id: 2, state: 'ongoing', startedAt: new Date(between).toISOString() },
    ]);
    expect(blocks()[2]?.durationMs).toBeGreaterThanOrEqual(1200);
    lifecycle.stop();
  });

  it('a silence while the process exits is not a block', async () => {
    const { lifecycle, events, i32 } = setup();
    Atomics.store(i32, I32.EXITING, 1);
    lifecycle.start();
    await clock.advance(5 * THRESHOLD);
    expect(events).toEqual([]);
    lifecycle.stop();
  });
});
