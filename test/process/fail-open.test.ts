/**
 * Fail open, never silent (issue 13): whatever stops the monitor from starting or from seeing
 * (the permission model refusing the worker, the worker's file missing, frozen intrinsics, an
 * app that pins Error.prepareStackTrace, a heartbeat timer replaced before start), the app runs
 * on and one `loopwatch:` line says what is lost and how to get it back. Each case runs as a
 * user would, in a child process on the Node under test.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeRun, fixture, NODE_MAJOR, ROOT, run, type RunResult } from './harness.js';

/** The permission model's flag: experimental on Node 20. */
const PERMISSION = NODE_MAJOR === 20 ? '--experimental-permission' : '--permission';
const NO_WORKER_LINE =
  /^loopwatch: \[pid \d+\] not watching: the permission model denies worker threads \(add --allow-worker\)$/;
const NO_WORKER_FILE_LINE =
  /^loopwatch: \[pid \d+\] not watching: the monitor worker failed to start: Cannot find module '.*worker[/\\]index\.js'.*keep loopwatch external/;
const ENV = { LOOPWATCH_THRESHOLD_MS: '100' };

function lines(result: RunResult, pattern: RegExp): string[] {
  return result.stderr.map((line) => line.text).filter((text) => pattern.test(text));
}

function loopwatchLines(result: RunResult): string[] {
  return result.stderr.map((line) => line.text).filter((text) => text.startsWith('loopwatch:'));
}

function stdoutOf(result: RunResult): string[] {
  return result.stdout.map((line) => line.text);
}

function expectRanOn(result: RunResult): void {
  expect(result.code, describeRun(result)).toBe(0);
  expect(result.signal, describeRun(result)).toBeNull();
  expect(stdoutOf(result), describeRun(result)).toContain('DONE');
  expect(result.stderrText, describeRun(result)).not.toMatch(/ERR_ACCESS_DENIED|^\s+at /m);
}

describe('the permission model without --allow-worker', () => {
  const flags = [PERMISSION, '--allow-fs-read=*'];

  it.each(['require', 'import'] as const)(
    'with the preload as %s: the app runs on, one line says how to get watching back',
    async (mode) => {
      const result = await run(fixture('plain-block.cjs'), { mode, nodeArgs: flags, env: ENV, noEventsFile: true });
      expectRanOn(result);
      expect(lines(result, NO_WORKER_LINE), describeRun(result)).toHaveLength(1);
      // One line in all: not also the no-inspector one (the inspector is denied too).
      expect(loopwatchLines(result), describeRun(result)).toHaveLength(1);
      expect(result.live).toHaveLength(0);
    },
  );

  it('through the API: ready rejects with a coded error, every method is safe, start() returns the same monitor', async () => {
    const result = await run(fixture('not-watching-api.cjs'), { mode: 'plain', nodeArgs: flags, noEventsFile: true });
    expect([result.code, result.signal], describeRun(result)).toEqual([0, null]);
    expect(stdoutOf(result), describeRun(result)).toEqual([
      'SAME true',
      'SHED function',
      'NOT-READY ERR_LOOPWATCH_NOT_WATCHING true',
      'SETTLED',
      'STOPPED',
    ]);
    expect(lines(result, NO_WORKER_LINE), describeRun(result)).toHaveLength(1);
    expect(result.stderrText).not.toMatch(/Unhandled|ERR_ACCESS_DENIED/);
  });

  it('with log off: a process warning instead of the line', async () => {
    const result = await run(fixture('not-watching-api.cjs'), {
      mode: 'plain',
      nodeArgs: flags,
      noEventsFile: true,
      env: { LOG_OFF: '1' },
    });
    expect([result.code, result.signal], describeRun(result)).toEqual([0, null]);
    expect(loopwatchLines(result)).toHaveLength(0);
    expect(stdoutOf(result), describeRun(result)).toContain(
      'WARNING LOOPWATCH_NOT_WATCHING [pid ' +
        /\[pid (\d+)\]/.exec(result.stderrText)?.[1] +
        '] not watching: the permission model denies worker threads (add --allow-worker)',
    );
  });
});

describe('the permission model without --allow-fs-write for the events file', () => {
  it('the worker (which Node lets out of the permission model) does not write it; one line says so; events still on stderr', async () => {
    const result = await run(fixture('plain-block.cjs'), {
      mode: 'require',
      nodeArgs: [PERMISSION, '--allow-fs-read=*', '--allow-worker'],
      env: ENV,
    });
    expectRanOn(result);
    expect(result.events, describeRun(result)).toHaveLength(0);
    expect(
      lines(
        result,
        /^loopwatch: \[pid \d+\] the events file is not written: the permission model denies writing .*events\.ndjson \(add --allow-fs-write=.*\); events are still written to stderr$/,
      ),
      describeRun(result),
    ).toHaveLength(1);
    expect(
      result.live.map(({ event }) => event.state),
      describeRun(result),
    ).toContain('ended');
  });
});

describe('V8 without SharedArrayBuffer', () => {
  // The flag exists on Node 20 only (22+ reject it as a bad option).
  it.runIf(NODE_MAJOR === 20)('--no-harmony-sharedarraybuffer: the app runs on, one line says so', async () => {
    const result = await run(fixture('plain-block.cjs'), {
      mode: 'require',
      nodeArgs: ['--no-harmony-sharedarraybuffer'],
      env: ENV,
    });
    expectRanOn(result);
    expect(loopwatchLines(result), describeRun(result)).toEqual([
      expect.stringMatching(/^loopwatch: \[pid \d+\] not watching: .*SharedArrayBuffer is disabled/),
    ]);
  });
});

describe("the monitor worker's file is missing (a bundle that left it out)", () => {
  it('the app runs on, ready rejects, one line names the file and the fix', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'loopwatch-noworker-'));
    try {
      cpSync(join(ROOT, 'dist'), join(copy, 'dist'), { recursive: true });
      rmSync(join(copy, 'dist', 'worker', 'index.js'));
      const result = await run(fixture('not-watching-api.cjs'), {
        mode: 'plain',
        env: { LOOPWATCH_ENTRY: join(copy, 'dist', 'index.js') },
      });
      expect([result.code, result.signal], describeRun(result)).toEqual([0, null]);
      expect(stdoutOf(result), describeRun(result)).toEqual([
        'SAME true',
        'SHED function',
        'NOT-READY ERR_LOOPWATCH_NOT_WATCHING true',
        'SETTLED',
        'STOPPED',
      ]);
      expect(lines(result, NO_WORKER_FILE_LINE), describeRun(result)).toHaveLength(1);
      expect(loopwatchLines(result), describeRun(result)).toHaveLength(1);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});

describe('a capture that cannot set Error.prepareStackTrace', () => {
  it("--frozen-intrinsics: the block is reported with its stack, read from V8's stack string; one line says stacks are cut", async () => {
    const result = await run(fixture('plain-block.cjs'), {
      mode: 'require',
      nodeArgs: ['--frozen-intrinsics'],
      env: ENV,
    });
    expectRanOn(result);
    const ended = result.events.filter((event) => event.state === 'ended');
    expect(ended, describeRun(result)).toHaveLength(1);
    expect(ended[0]).toMatchObject({ stackTiming: 'during' });
    expect(ended[0]?.stack[0]).toMatchObject({ function: 'spinPlainly', file: fixture('plain-block.cjs'), line: 7 });
    expect(ended[0]?.durationMs).toBeGreaterThanOrEqual(450);
    expect(
      lines(result, /^loopwatch: stacks are cut at 9 frames: .*--frozen-intrinsics/),
      describeRun(result),
    ).toHaveLength(1);
  });

  it('an app that pins it to a function returning nothing: the block is still reported, without a stack, and one line says why', async () => {
    const result = await run(fixture('unwritable-prepare.cjs'), { mode: 'require', env: ENV });
    expectRanOn(result);
    const states = result.events.map((event) => event.state);
    expect(states, describeRun(result)).toEqual(['ongoing', 'ended']);
    for (const event of result.events) expect(event).toMatchObject({ stack: [], stackTiming: 'none' });
    expect(result.events[1]?.durationMs).toBeGreaterThanOrEqual(450);
    expect(
      lines(result, /^loopwatch: blocks are reported without their stack: the stack capture got no stack/),
      describeRun(result),
    ).toHaveLength(1);
  });
});

describe('the start-up self-check', () => {
  it('setInterval replaced before start (fake timers): no heartbeat, one line says the monitor is blind', async () => {
    const result = await run(fixture('fake-interval.cjs'), { mode: 'plain' });
    expect([result.code, result.signal], describeRun(result)).toEqual([0, null]);
    expect(stdoutOf(result), describeRun(result)).toContain('DONE');
    const blind = /^loopwatch: not watching: the main thread is idle but its heartbeat never came .*fake timers/;
    expect(lines(result, blind), describeRun(result)).toHaveLength(1);
    // Until the check concludes (about 2 s), a capture that catches the thread at work (the
    // monitor's own messages arriving) may read as a block; once it has said so, the watchdog
    // is stopped, and nothing more is reported.
    const said = result.stderr.findIndex((line) => blind.test(line.text));
    expect(
      result.stderr.slice(said + 1).filter((line) => / block #\d+: event loop blocked/.test(line.text)),
      describeRun(result),
    ).toEqual([]);
  });

  it('a healthy process: no line at all', async () => {
    const result = await run(fixture('plain-block.cjs'), { mode: 'require', env: ENV });
    expectRanOn(result);
    expect(
      loopwatchLines(result).filter((text) => !text.startsWith('{')),
      describeRun(result),
    ).toHaveLength(0);
    const ended = result.events.filter((event) => event.state === 'ended').map((event) => event.stack[0]?.function);
    expect(ended, describeRun(result)).toContain('spinPlainly');
  });
});
