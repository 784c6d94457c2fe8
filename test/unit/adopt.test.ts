/**
 * The monitor's adoption of worker threads that did not run the preload (worker/adopt.ts): its
 * expression, run in a VM context standing in for a worker thread's global scope, and the
 * retries under a fake clock.
 */
import { runInContext, createContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { adoptExpression, expectedEntry, ThreadAdopter } from '../../src/worker/adopt.js';
import { claimSlot, createTable, REGISTERED_KEY } from '../../src/protocol/threads.js';
import type { Clock } from '../../src/worker/time.js';

const MODULE = '/app/node_modules/loopwatch/dist/main/thread.js';

class FakeClock implements Clock {
  time = 0;
  readonly timers = new Set<{ at: number; callback: () => void }>();
  now(): number {
    return this.time;
  }
  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { at: this.time + ms, callback };
    this.timers.add(timer);
    return timer;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as { at: number; callback: () => void });
  }
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      const next = [...this.timers].filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (next === undefined) break;
      this.timers.delete(next);
      this.time = next.at;
      next.callback();
    }
    this.time = end;
  }
}

/** A worker thread's global scope: `argv[1]` unset while Node still starts it. */
function fakeThread(options: { builtin?: boolean } = {}): {
  context: object;
  registered: string[];
  start: (entry: string) => void;
} {
  const registered: string[] = [];
  const argv = ['/usr/bin/node'];
  const context = createContext({
    process: {
      argv,
      ...(options.builtin === false
        ? {}
        : {
            getBuiltinModule: (name: string) =>
              name === 'node:module'
                ? {
                    createRequire: () => (file: string) => ({
                      registerWorkerThread: () => {
                        registered.push(file);
                        runInContext(`globalThis[Symbol.for(${JSON.stringify(REGISTERED_KEY)})] = {}`, context);
                      },
                    }),
                  }
                : undefined,
          }),
    },
  });
  return { context, registered, start: (entry) => argv.splice(1, 0, entry) };
}

describe('adopting a worker thread that did not run the preload', () => {
  it('knows when Node has handed an eval or file worker to its script', () => {
    expect(expectedEntry('')).toBe('[worker eval]');
    expect(expectedEntry('file:///srv/app/jobs/resize.mjs')).toBe('/srv/app/jobs/resize.mjs');
    expect(expectedEntry('data:text/javascript,1')).toBeUndefined();
  });

  it('only reads while the thread starts, then queues one registration as a microtask', async () => {
    const thread = fakeThread();
    const expression = adoptExpression('/srv/app/task.js', MODULE);
    expect(runInContext(expression, thread.context)).toBe('starting');
    expect(thread.registered).toEqual([]);
    thread.start('/srv/app/task.js');
    expect(runInContext(expression, thread.context)).toBe('queued');
    // Not run by the interrupt itself: at the thread's next microtask checkpoint.
    expect(thread.registered).toEqual([]);
    await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(thread.registered).toEqual([MODULE]);
    expect(runInContext(expression, thread.context)).toBe('registered');
  });

  it('asks again while the thread starts, and stops once it is registered or found in the table', async () => {
    const clock = new FakeClock();
    const table = createTable(4);
    const threads = new Map([
      [3, fakeThread()],
      [4, fakeThread()],
    ]);
    const asked: number[] = [];
    const warnings: string[] = [];
    const adopter = new ThreadAdopter({
      table,
      registerModule: MODULE,
      clock,
      evaluate: (threadId, expression) => {
        asked.push(threadId);
        const thread = threads.get(threadId);
        return Promise.resolve(
          thread === undefined ? undefined : { value: runInContext(expression, thread.context) as unknown },
        );
      },
      listed: (threadId) => threads.has(threadId),
      warnOnce: (_, message) => warnings.push(message),
      debug: () => undefined,
    });
    adopter.listed({ threadId: 3, name: '', url: '' });
    adopter.listed({ threadId: 4, name: 'resize', url: 'file:///srv/app/resize.js' });
    // loopwatch's own monitor thread is never adopted.
    adopter.listed({ threadId: 1, name: 'loopwatch', url: '' });
    await clock.advance(70);
    expect(asked.filter((id) => id === 3).length).toBeGreaterThanOrEqual(2);
    threads.get(3)?.start('[worker eval]');
    // Thread 4's preload registered it: it is in the table before its script starts.
    claimSlot(table, 4, 0, 'resize');
    const before4 = asked.filter((id) => id === 4).length;
    await clock.advance(20_000);
    expect(threads.get(3)?.registered).toEqual([MODULE]);
    expect(adopter.adopted).toBe(1);
    expect(asked.filter((id) => id === 4).length).toBe(before4);
    expect(asked).not.toContain(1);
    expect(clock.timers.size).toBe(0);
    expect(warnings).toEqual([]);
  });

  it('says once that a Node without process.getBuiltinModule cannot adopt', async () => {
    const clock = new FakeClock();
    const thread = fakeThread({ builtin: false });
    thread.start('[worker eval]');
    const warnings: string[] = [];
    const adopter = new ThreadAdopter({
      table: createTable(4),
      registerModule: MODULE,
      clock,
      evaluate: (_, expression) => Promise.resolve({ value: runInContext(expression, thread.context) as unknown }),
      listed: () => true,
      warnOnce: (_, message) => warnings.push(message),
      debug: () => undefined,
    });
    adopter.listed({ threadId: 5, name: '', url: '' });
    await clock.advance(1000);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/process\.getBuiltinModule/);
    expect(adopter.adopted).toBe(0);
  });
});
