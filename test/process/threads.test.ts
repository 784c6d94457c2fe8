/**
 * The app's own worker threads, watched by the one monitor: child processes whose worker
 * threads really block their loops, with loopwatch preloaded as a user would.
 */
import { describe, expect, it } from 'vitest';
import type { BlockEvent } from '../../src/types.js';
import { describeRun, fixture, functions, type Mode, ROOT, run, runCli, type RunResult } from './harness.js';
import { record } from './report.js';

const THRESHOLD = 100;
const env = { LOOPWATCH_THRESHOLD_MS: String(THRESHOLD) };

function threadOf(result: RunResult, pattern = /^WORKER (\d+)/): string {
  const line = result.stdout.find((l) => pattern.test(l.text));
  expect(line, describeRun(result)).toBeDefined();
  return `worker ${pattern.exec(line?.text ?? '')?.[1] ?? '?'}`;
}

/** The block whose stack holds `fn`: its ongoing and ended events and when the alert arrived. */
function blockIn(result: RunResult, fn: string): { first: BlockEvent; last: BlockEvent; alertAt: number } {
  const alert = result.live.find((l) => l.event.state === 'ongoing' && functions(l.event).includes(fn));
  expect(alert, `no ongoing event in ${fn}\n${describeRun(result)}`).toBeDefined();
  const id = alert?.event.id;
  const first = result.events.find((e) => e.id === id && e.state === 'ongoing');
  const last = result.events.find((e) => e.id === id && e.state === 'ended');
  expect(first, describeRun(result)).toBeDefined();
  expect(last, describeRun(result)).toBeDefined();
  return { first: first as BlockEvent, last: last as BlockEvent, alertAt: alert?.at ?? 0 };
}

/** The `ended` event of the block that began at the fixture's `block` mark, on `thread`. */
function jobBlock(result: RunResult, thread: string): BlockEvent | undefined {
  const block = result.marks.get('block') ?? 0;
  return result.events.find((e) => e.thread === thread && e.state === 'ended' && Date.parse(e.startedAt) >= block - 50);
}

describe('worker threads', () => {
  it.each<[Mode]>([['import'], ['require']])(
    'a plain ESM worker that blocks after start is reported on its thread, with its name and culprit (%s)',
    async (mode) => {
      const result = await run(fixture('threads/esm-worker.mjs'), { mode, env });
      expect(result.code, describeRun(result)).toBe(0);
      const thread = threadOf(result);
      const { first, last, alertAt } = blockIn(result, 'resizeImage');
      expect(first.thread, describeRun(result)).toBe(thread);
      expect(first.threadName).toBe('resize');
      expect(first.stackTiming, describeRun(result)).toBe('during');
      const culprit = first.stack.find((f) => f.function === 'resizeImage');
      expect(culprit, describeRun(result)).toMatchObject({ line: 7 });
      expect(culprit?.file).toMatch(/threads\/resize-task\.mjs$/);
      expect(last.thread).toBe(thread);
      // 600 ms of spin: the ended duration covers it (plus scheduling), not the main thread's.
      expect(last.durationMs).toBeGreaterThanOrEqual(590);
      expect(last.durationMs).toBeLessThan(1500);
      const latencyMs = alertAt - (result.marks.get('block') ?? 0);
      // Detected about one threshold into the block; honest headroom for a loaded 2-core machine.
      expect(latencyMs, describeRun(result)).toBeLessThan(THRESHOLD + 400);
      // The worker's block is never blamed on the main thread (which may have blocks of its own
      // on a loaded machine: starting a Worker holds it).
      expect(result.events.filter((e) => e.thread === 'main' && functions(e).includes('resizeImage'))).toEqual([]);
      // The pretty report names the thread (the JSON log is what this run asked for; the
      // formatter is shared).
      record({ scenario: `worker thread block (${mode})`, latencyMs, culprit: culprit?.function });
    },
  );

  it('a worker that ends itself in the middle of its block: the block ends with it', async () => {
    const result = await run(fixture('threads/esm-worker.mjs'), { mode: 'import', env, args: ['exit'] });
    expect(result.code, describeRun(result)).toBe(0);
    const { first, last } = blockIn(result, 'resizeImage');
    expect(last.id).toBe(first.id);
    expect(last.exiting, describeRun(result)).toBe(true);
    expect(last.durationMs).toBeGreaterThanOrEqual(590);
  });

  it('a worker terminated in the middle of its block: the block ends when it does, and the process exits', async () => {
    const result = await run(fixture('threads/esm-worker.mjs'), { mode: 'import', env, args: ['terminate'] });
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout.some((l) => l.text.startsWith('WORKER EXIT 1'))).toBe(true);
    const { first, last } = blockIn(result, 'resizeImage');
    expect(last.id).toBe(first.id);
    expect(last.exiting, describeRun(result)).toBe(true);
    // Terminated ~400 ms after it started spinning (of 5000).
    expect(last.durationMs).toBeGreaterThanOrEqual(350);
    expect(last.durationMs).toBeLessThan(2000);
  });

  it('the main thread and a worker blocked at overlapping times: two blocks, each with its own culprit', async () => {
    const result = await run(fixture('threads/overlap.mjs'), { mode: 'import', env });
    expect(result.code, describeRun(result)).toBe(0);
    const thread = threadOf(result);
    const worker = blockIn(result, 'buildIndex');
    const main = blockIn(result, 'renderPage');
    expect(worker.first.id).not.toBe(main.first.id);
    expect(worker.first.thread).toBe(thread);
    expect(worker.first.threadName).toBe('indexer');
    expect(main.first.thread).toBe('main');
    expect(main.first.threadName).toBeUndefined();
    expect(worker.first.stackTiming).toBe('during');
    expect(main.first.stackTiming).toBe('during');
    // Neither is blamed on the other.
    expect(functions(worker.first)).not.toContain('renderPage');
    expect(functions(main.first)).not.toContain('buildIndex');
    // They overlapped.
    const mainStart = result.marks.get('main-block') ?? 0;
    const workerEnd = result.marks.get('worker-unblock') ?? 0;
    expect(mainStart, describeRun(result)).toBeLessThan(workerEnd);
    record({
      scenario: 'main and worker blocked at once',
      latencyMs: {
        worker: worker.alertAt - (result.marks.get('worker-block') ?? 0),
        main: main.alertAt - mainStart,
      },
    });
  });

  it.each([
    ['crypto', 'hashPassword'],
    ['exec', 'runShell'],
  ])(
    "LOOPWATCH_PROFILER=all: a worker thread's lone native call (%s) is named from that thread's samples",
    async (kind, culprit) => {
      const result = await run(fixture('threads/native-worker.mjs'), {
        mode: 'import',
        env: { ...env, LOOPWATCH_PROFILER: 'all' },
        args: [kind],
      });
      expect(result.code, describeRun(result)).toBe(0);
      const thread = threadOf(result);
      // The job's block (on a loaded machine the thread's start-up may have blocks of its own).
      const ended = jobBlock(result, thread);
      expect(ended, describeRun(result)).toBeDefined();
      expect(ended?.threadName).toBe('hasher');
      expect(ended?.durationMs, describeRun(result)).toBeGreaterThan(300);
      // From the samples: the capture could only be served once the call had returned.
      expect(ended?.culprit, describeRun(result)).toMatchObject({ function: culprit, source: 'profile' });
      expect(ended?.culprit?.file).toMatch(/threads\/native-task\.mjs$/);
      expect(ended?.profile?.top?.[0]?.function, describeRun(result)).toBe(culprit);
      expect(ended?.profile?.share).toBeGreaterThan(0.3);
      // Never blamed on the main thread.
      expect(result.events.filter((e) => e.thread === 'main' && e.culprit?.function === culprit)).toEqual([]);
      record({
        scenario: `worker thread native call (${kind})`,
        culprit: ended?.culprit?.function,
        share: ended?.profile?.share,
        samples: ended?.profile?.samples,
      });
    },
  );

  it("by default (the main thread's profiler only), a worker thread's native call has no profile", async () => {
    const result = await run(fixture('threads/native-worker.mjs'), { mode: 'import', env });
    expect(result.code, describeRun(result)).toBe(0);
    const thread = threadOf(result);
    const ended = jobBlock(result, thread);
    expect(ended, describeRun(result)).toBeDefined();
    expect(ended?.profile).toBeUndefined();
    expect(ended?.culprit?.source).not.toBe('profile');
  });

  it('eight workers blocked at once: eight blocks, each on its own thread', async () => {
    const result = await run(fixture('threads/many.mjs'), { mode: 'import', env });
    expect(result.code, describeRun(result)).toBe(0);
    // Each thread's block, named by the stack of its ongoing event or, when ten threads on two
    // cores left a thread's capture unanswered in time, of its ended event (a late answer).
    const crunching = result.events.filter((e) => e.thread !== 'main' && functions(e).includes('crunch'));
    const threads = new Set(crunching.map((e) => e.thread));
    expect(threads.size, describeRun(result)).toBe(8);
    // One spin, one block: a thread's crunch() is never the culprit of two blocks taken during
    // them. (Under load a thread's start-up block can be answered late, from crunch(): that
    // stack is marked late, not taken for the culprit.)
    for (const thread of threads) {
      const ids = new Set(crunching.filter((e) => e.thread === thread && e.stackTiming === 'during').map((e) => e.id));
      expect(ids.size, describeRun(result)).toBeLessThanOrEqual(1);
    }
    for (const event of crunching) {
      const line = result.stdout.find((l) => l.text.startsWith(`WORKER ${event.thread.slice('worker '.length)} `));
      expect(line?.text.endsWith(` ${event.threadName ?? '?'}`), describeRun(result)).toBe(true);
    }
    const during = crunching.filter((e) => e.state === 'ongoing' && e.stackTiming === 'during').length;
    record({ scenario: 'eight workers blocked at once', threads: threads.size, capturedDuring: during });
  });

  it('a pool churning through 200 workers: slots are reused and released, memory stays flat, the process exits promptly', async () => {
    const result = await run(fixture('threads/churn.mjs'), {
      mode: 'require',
      env,
      nodeArgs: ['--expose-gc'],
      timeoutMs: 150_000,
    });
    expect(result.code, describeRun(result)).toBe(0);
    const slots = JSON.parse(
      result.stdout.find((l) => l.text.startsWith('SLOTS '))?.text.slice('SLOTS '.length) ?? 'null',
    ) as { capacity: number; used: number; claims: number; dropped: number } | null;
    expect(slots, describeRun(result)).toMatchObject({ used: 0, claims: 200, dropped: 0 });
    const growth = Number(result.stdout.find((l) => l.text.startsWith('RSS_GROWTH_MB '))?.text.split(' ')[1]);
    // 192 more threads came and went after the first batch: no per-thread residue to speak of.
    expect(growth, describeRun(result)).toBeLessThan(30);
    const done = Number(result.stdout.find((l) => l.text.startsWith('DONE '))?.text.split(' ')[1]);
    // Nothing kept the process alive after the app's last line (its own exit takes tens of ms).
    expect(result.closedAt - done, describeRun(result)).toBeLessThan(1000);
    record({ scenario: 'pool churning 200 workers', rssGrowthMb: growth, slots, exitMs: result.closedAt - done });
    // 200 worker start-ups take 30-50 s on a loaded 2-core machine, with or without loopwatch.
  }, 150_000);

  it.each<[Mode]>([['import'], ['require']])(
    'a piscina pool task that blocks its pool thread for 600 ms is reported on that thread (%s)',
    async (mode) => {
      const result = await run(fixture('threads/piscina-app.mjs'), { mode, env });
      expect(result.code, describeRun(result)).toBe(0);
      const marked = [...result.marks].find(([key]) => key.startsWith('block-'));
      expect(marked, describeRun(result)).toBeDefined();
      const { first, last, alertAt } = blockIn(result, 'renderPdf');
      expect(first.thread, describeRun(result)).toBe(`worker ${marked?.[0].slice('block-'.length) ?? '?'}`);
      expect(first.stackTiming, describeRun(result)).toBe('during');
      expect(first.stack.find((f) => f.function === 'renderPdf')?.file).toMatch(/threads\/piscina-task\.mjs$/);
      expect(last.durationMs).toBeGreaterThanOrEqual(590);
      const latencyMs = alertAt - (marked?.[1] ?? 0);
      expect(latencyMs, describeRun(result)).toBeLessThan(THRESHOLD + 400);
      expect(result.events.filter((e) => e.thread === 'main' && functions(e).includes('renderPdf'))).toEqual([]);
      record({ scenario: `piscina task blocking its pool thread (${mode})`, latencyMs, culprit: 'renderPdf' });
    },
  );

  it.each<[string, Mode]>([
    ['piscina', 'import'],
    ['piscina', 'require'],
    ['tinypool', 'import'],
  ])(
    '%s with its default atomics: idle pool threads parked in Atomics.wait are not blocked, a task that blocks is reported (%s)',
    async (pool, mode) => {
      const result = await run(fixture('threads/pool-idle.mjs'), { mode, env, args: [pool, '2500'] });
      expect(result.code, describeRun(result)).toBe(0);
      const idleFrom = result.marks.get('idle') ?? 0;
      const idleTo = result.marks.get('idle-end') ?? 0;
      expect(idleTo - idleFrom, describeRun(result)).toBeGreaterThanOrEqual(2400);
      // Nothing on a worker thread while the pool sat idle (before the fix: one block per pool
      // thread, the whole idle time, in atomicsWaitLoop).
      const parked = result.events.filter((e) => e.thread !== 'main' && functions(e).includes('atomicsWaitLoop'));
      expect(parked, describeRun(result)).toEqual([]);
      const idle = result.events.filter(
        (e) => e.thread !== 'main' && Date.parse(e.startedAt) > idleFrom && Date.parse(e.startedAt) < idleTo - 50,
      );
      expect(idle, describeRun(result)).toEqual([]);
      const marked = [...result.marks].find(([key]) => key.startsWith('block-'));
      expect(marked, describeRun(result)).toBeDefined();
      const { first, last, alertAt } = blockIn(result, 'renderPdf');
      expect(first.thread, describeRun(result)).toBe(`worker ${marked?.[0].slice('block-'.length) ?? '?'}`);
      // The pool passes no name to its Worker: the thread is named after its script's package.
      expect(first.threadName, describeRun(result)).toBe(pool);
      expect(first.stackTiming, describeRun(result)).toBe('during');
      expect(first.stack.find((f) => f.function === 'renderPdf')?.file).toMatch(/threads\/piscina-task\.mjs$/);
      // Counted from the task's wake-up out of Atomics.wait, not from before the idle time.
      expect(last.durationMs, describeRun(result)).toBeGreaterThanOrEqual(590);
      expect(last.durationMs, describeRun(result)).toBeLessThan(1500);
      const latencyMs = alertAt - (marked?.[1] ?? 0);
      expect(latencyMs, describeRun(result)).toBeLessThan(THRESHOLD + 400);
      record({
        scenario: `${pool} with default atomics, idle then blocked (${mode})`,
        latencyMs,
        culprit: 'renderPdf',
      });
    },
  );

  it('Atomics.wait on the main thread is a block, named on its caller', async () => {
    const result = await run(fixture('threads/main-wait.mjs'), { mode: 'import', env });
    expect(result.code, describeRun(result)).toBe(0);
    const { first, last, alertAt } = blockIn(result, 'waitForIndexer');
    expect(first.thread).toBe('main');
    expect(first.stackTiming, describeRun(result)).toBe('during');
    expect(first.stack.find((f) => f.function === 'waitForIndexer')?.file).toMatch(/threads\/main-wait\.mjs$/);
    expect(last.durationMs).toBeGreaterThanOrEqual(550);
    const latencyMs = alertAt - (result.marks.get('wait') ?? 0);
    expect(latencyMs, describeRun(result)).toBeLessThan(THRESHOLD + 400);
  });

  it("under `loopwatch run`, a worker's block appears live, named on its thread", async () => {
    const { code, output } = await runCli(['run', '--', 'node', fixture('threads/esm-worker.mjs')], ROOT);
    expect(code, output).toBe(0);
    const thread = /^WORKER (\d+)$/m.exec(output)?.[1];
    expect(thread, output).toBeDefined();
    expect(output).toMatch(
      new RegExp(`\\[pid \\d+ worker ${thread ?? '?'} "resize"\\] block #\\d+: event loop blocked`),
    );
    expect(output).toMatch(/at resizeImage \(.*resize-task\.mjs:7:3\)/);
  });

  describe('a worker thread that did not run the preload is registered by the monitor', () => {
    const claims = (result: RunResult): string | undefined =>
      / CLAIMS (\S+)$/.exec(result.stdout.find((l) => l.text.startsWith('WORKER EXIT'))?.text ?? '')?.[1];

    it.each<[string, string, Mode, Record<string, string>]>([
      ['a CommonJS worker started with execArgv: []', 'cjs', 'require', {}],
      ['an ESM worker started with execArgv: []', 'esm', 'import', {}],
      ['an eval worker started with execArgv: []', 'eval', 'import', {}],
      [
        'a worker whose env drops the NODE_OPTIONS the preload came from',
        'env',
        'plain',
        { NODE_OPTIONS: '-r loopwatch/register' },
      ],
      ['a worker whose preload ran (one slot, not two)', 'preloaded', 'require', {}],
    ])('%s', async (_, kind, mode, extra) => {
      const result = await run(fixture('threads/nopre-worker.mjs'), { mode, env: { ...env, ...extra }, args: [kind] });
      expect(result.code, describeRun(result)).toBe(0);
      const thread = threadOf(result);
      const fn = kind === 'esm' ? 'encodeVideo' : 'compressLogs';
      const { first, last } = blockIn(result, fn);
      expect(first.thread, describeRun(result)).toBe(thread);
      expect(first.threadName).toBe(`nopre-${kind}`);
      expect(first.stackTiming, describeRun(result)).toBe('during');
      expect(first.stack.find((f) => f.function === fn)?.file).toMatch(/threads\/nopre-task\.[cm]js$/);
      expect(last.durationMs).toBeGreaterThanOrEqual(590);
      // One registration, one block: never a second slot for the same thread.
      expect(claims(result), describeRun(result)).toBe('1');
      const ids = new Set(result.events.filter((e) => e.thread === thread).map((e) => e.id));
      expect([...ids], describeRun(result)).toEqual([first.id]);
      expect(result.events.filter((e) => e.thread === thread && e.state === 'ongoing')).toHaveLength(1);
    });

    it('LOOPWATCH_THREADS=main: nothing is registered there', async () => {
      const result = await run(fixture('threads/nopre-worker.mjs'), {
        mode: 'require',
        env: { ...env, LOOPWATCH_THREADS: 'main' },
        args: ['cjs'],
      });
      expect(result.code, describeRun(result)).toBe(0);
      expect(result.marks.get('unblock'), describeRun(result)).toBeDefined();
      expect(claims(result), describeRun(result)).toBe('none');
      expect(
        result.events.filter((e) => e.thread !== 'main'),
        describeRun(result),
      ).toEqual([]);
    });
  });

  it('LOOPWATCH_THREADS=main: no worker thread is watched', async () => {
    const result = await run(fixture('threads/esm-worker.mjs'), {
      mode: 'import',
      env: { ...env, LOOPWATCH_THREADS: 'main' },
    });
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.marks.get('unblock'), describeRun(result)).toBeDefined();
    expect(
      result.events.filter((e) => e.thread !== 'main'),
      describeRun(result),
    ).toEqual([]);
  });
});
