import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { readThreadState, threadStates, type ThreadStates } from '../../src/worker/threadstate.js';

/** A Node process that does `code` once started, and its thread states; killed by the caller. */
async function busyWith(code: string): Promise<{ child: ChildProcess; states: ThreadStates }> {
  const child = spawn(process.execPath, ['-e', `process.stdout.write('go\\n'); ${code}`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await once(child.stdout, 'data');
  if (child.pid === undefined) throw new Error('no pid');
  return { child, states: threadStates(child.pid) };
}

describe.runIf(process.platform === 'linux')('readThreadState', () => {
  it("reads this thread's state and its children's command lines", async () => {
    const child = spawn('sleep', ['5']);
    await new Promise((resolve) => child.once('spawn', resolve));
    try {
      const state = readThreadState(process.pid);
      expect(state?.state).toBe('running'); // this thread is running this test
      expect(state?.children).toContain('sleep 5');
    } finally {
      child.kill();
    }
  });

  it('is undefined for a process that does not exist', () => {
    expect(readThreadState(2 ** 22 + 12345)).toBeUndefined();
  });

  it('judges a blocked thread over the time since detection, not by one instant', async () => {
    // Waits 8 ms in every 10 and spins 2 ms: one instant says `R` one read in five (a thread
    // waiting in epoll is woken the same way by each SIGPROF of the sampling profiler).
    const mostlyWaiting = await busyWith(
      'const a = new Int32Array(new SharedArrayBuffer(4)); for (;;) { const t = Date.now() + 2; while (Date.now() < t); Atomics.wait(a, 0, 0, 8); }',
    );
    const execSync = await busyWith("require('node:child_process').execSync('sleep 5')");
    const spinning = await busyWith('for (;;) {}');
    try {
      for (const { states } of [mostlyWaiting, execSync, spinning]) states.detected();
      await sleep(300);
      for (let read = 0; read < 30; read++) {
        expect(mostlyWaiting.states.sinceDetected()?.state).toBe('sleeping');
        await sleep(3);
      }
      expect(execSync.states.sinceDetected()).toMatchObject({ state: 'sleeping', children: ['/bin/sh -c sleep 5'] });
      // Runnable counts time queued for a CPU: a spinning thread on a loaded machine is running.
      expect(spinning.states.sinceDetected()?.state).toBe('running');
    } finally {
      for (const { child } of [mostlyWaiting, execSync, spinning]) child.kill('SIGKILL');
    }
  });

  it('reads the instant before detection, and for a thread that is gone, nothing', () => {
    const states = threadStates(process.pid);
    expect(states.sinceDetected()?.state).toBe('running');
    expect(threadStates(2 ** 22 + 12345).detected()).toBeUndefined();
  });
});
