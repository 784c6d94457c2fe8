import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { readThreadState } from '../../src/worker/threadstate.js';

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
});
