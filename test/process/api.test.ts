/**
 * Options and API calls the README documents, in real processes that really block: the
 * default pretty report, `captureStack`, `maxFrames`, `captureTimeoutMs`, `healthHost`,
 * `monitor.settle()` and its give-up, a second `start()`, `start()` in a worker thread.
 */
import { describe, expect, it } from 'vitest';
import type { BlockEvent } from '../../src/types.js';
import { describeRun, fixture, functions, run, type RunResult } from './harness.js';
import { record } from './report.js';

const FIXTURE = fixture('api-features.cjs');

function scenario(name: string, options: Record<string, unknown> = {}): Promise<RunResult> {
  return run(FIXTURE, { mode: 'plain', args: [name], env: { OPTIONS: JSON.stringify(options) } });
}

function said(result: RunResult, prefix: string): string | undefined {
  return result.stdout.find((l) => l.text.startsWith(`${prefix} `))?.text.slice(prefix.length + 1);
}

/** The ongoing and ended events of the block the fixture marked. */
function theBlock(result: RunResult): { ongoing: BlockEvent; ended: BlockEvent } {
  const ongoing = result.events.find((e) => e.state === 'ongoing' && e.phase === 'running');
  const ended = result.events.find((e) => e.id === ongoing?.id && e.state === 'ended');
  expect(ongoing, describeRun(result)).toBeDefined();
  expect(ended, describeRun(result)).toBeDefined();
  return { ongoing: ongoing as BlockEvent, ended: ended as BlockEvent };
}

describe('the default report on stderr (pretty)', () => {
  it('with LOOPWATCH_LOG unset: the alert with its stack during the block, the end after it', async () => {
    // The block's number: a loaded machine may add a start-up block (#1) before it.
    const result = await run(fixture('js-loop.cjs'), { mode: 'require', env: { LOOPWATCH_LOG: undefined } });
    expect(result.code, describeRun(result)).toBe(0);
    const lines = result.stderr.filter((l) => l.text.length > 0);
    const alert = lines.findIndex((l) =>
      /^loopwatch: \[pid \d+\] block #\d+: event loop blocked for \d+ ms so far \(threshold 100 ms, running\) — spinLoop \(test\/process\/fixtures\/js-loop\.cjs:6\)$/.test(
        l.text,
      ),
    );
    expect(alert, describeRun(result)).toBeGreaterThanOrEqual(0);
    expect(lines[alert + 1]?.text).toMatch(/^ {4}at spinLoop \(test\/process\/fixtures\/js-loop\.cjs:6:\d+\)$/);
    expect(lines[alert + 2]?.text).toMatch(/^ {4}at handleJob \(test\/process\/fixtures\/js-loop\.cjs:12:3\)$/);
    expect(
      lines.some((l) =>
        /^loopwatch: \[pid \d+\] block #\d+ ended after \d+ ms(?: \(process exiting\))? — spinLoop \(test\/process\/fixtures\/js-loop\.cjs:6\)$/.test(
          l.text,
        ),
      ),
      describeRun(result),
    ).toBe(true);
    // No JSON on stderr, and the alert left the process while it was still blocked.
    expect(lines.some((l) => l.text.startsWith('{'))).toBe(false);
    expect(lines[alert]?.at, describeRun(result)).toBeLessThan(result.marks.get('unblock') ?? 0);
  });
});

describe('capture options', () => {
  it('maxFrames: 5 keeps the 5 innermost frames and marks the stack truncated', async () => {
    const result = await scenario('block', { maxFrames: 5 });
    const { ongoing } = theBlock(result);
    expect(ongoing.stackTiming, describeRun(result)).toBe('during');
    expect(functions(ongoing), describeRun(result)).toEqual(['spin', 'deepest', 'nest', 'nest', 'nest']);
    expect(ongoing.truncated).toBe(true);
  });

  it('captureStack: false reports the block on time, with no stack', async () => {
    const result = await scenario('block', { captureStack: false });
    expect(result.code, describeRun(result)).toBe(0);
    const { ongoing, ended } = theBlock(result);
    for (const event of [ongoing, ended]) {
      expect(event.stack, describeRun(result)).toEqual([]);
      expect(event.stackTiming).toBe('none');
    }
    expect(ended.durationMs).toBeGreaterThan(250);
  });

  it('captureTimeoutMs: 400 makes the alert of a native-call block wait 400 ms for a stack', async () => {
    const result = await scenario('native', { captureTimeoutMs: 400 });
    const why = describeRun(result);
    expect(result.code, why).toBe(0);
    // The native call is the run's long block. On a starved machine a late timer before it can
    // be a short block of its own, whose unanswered capture the native call holds up too.
    const ended = result.events.filter((e) => e.state === 'ended').sort((a, b) => b.durationMs - a.durationMs)[0];
    expect(ended?.durationMs, why).toBeGreaterThan(500);
    const alert = result.live.find((l) => l.event.state === 'ongoing' && l.event.id === ended?.id);
    // From detection (the silence's start plus its length then) to the alert's arrival.
    const detectedAt = alert === undefined ? NaN : Date.parse(alert.event.startedAt) + alert.event.durationMs;
    const latency = (alert?.at ?? NaN) - detectedAt;
    record({ scenario: 'native call, captureTimeoutMs 400: alert after detection', latencyMs: Math.round(latency) });
    // The pause probe waits 400 ms for an answer that only comes after the native call; the
    // default 50 ms alerts within threshold + 150 ms (blocking.test.ts), so this is the option.
    // 300 ms of headroom above for a loaded 2-core machine.
    // startedAt is on the monitor's clock (time origin + performance.now()), `at` on this
    // process's Date.now(): they differ by up to ~11 ms (Node 20).
    expect(latency, why).toBeGreaterThanOrEqual(400 - 25);
    expect(latency, why).toBeLessThan(400 + 300);
    expect(alert?.event.stackTiming, why).toBe('none');
  });
});

// No timing is asserted in the groups below: their cases run concurrently, to keep the
// suite's duration.
describe.concurrent('healthHost', () => {
  it('127.0.0.2: the endpoint answers there and not on 127.0.0.1', async () => {
    const result = await scenario('health', { healthPort: 0, healthHost: '127.0.0.2' });
    expect(result.code, describeRun(result)).toBe(0);
    expect(said(result, 'HEALTH'), describeRun(result)).toMatch(/^http:\/\/127\.0\.0\.2:\d+$/);
    expect(said(result, 'LIVEZ 127.0.0.2'), describeRun(result)).toBe('200');
    expect(said(result, 'LIVEZ 127.0.0.1'), describeRun(result)).toBe('ECONNREFUSED');
  });
});

describe('monitor.settle()', () => {
  it("resolves once the block's ended event has reached the listeners", async () => {
    const result = await scenario('settle');
    expect(result.code, describeRun(result)).toBe(0);
    const { ended } = theBlock(result);
    expect(said(result, 'SETTLED'), describeRun(result)).toBe(`ended=[${ended.id}]`);
  });

  it('gives up after 3 s when the worker does not answer (paused by a debugger), and resolves', async () => {
    const result = await scenario('wedged');
    expect(result.code, describeRun(result)).toBe(0);
    const waited = Number(said(result, 'GAVE-UP'));
    record({ scenario: 'settle() with the worker paused: gave up after', ms: waited });
    // Its 3 s timer, run by this (idle) thread: 300 ms of headroom for a loaded machine. A timer
    // counts from the loop's cached time, which can be a few ms older than the fixture's
    // Date.now() before the call, so it may fire "early" by that much (2999 seen on Node 22).
    expect(waited, describeRun(result)).toBeGreaterThanOrEqual(3000 - 20);
    expect(waited, describeRun(result)).toBeLessThan(3000 + 300);
  });
});

describe.concurrent('start()', () => {
  it('a second call returns the running monitor; with other options it warns once, with a code', async () => {
    const result = await scenario('second-start');
    expect(result.code, describeRun(result)).toBe(0);
    expect(said(result, 'SAME')).toBe('true true');
    const warnings = JSON.parse(said(result, 'WARNINGS') ?? 'null') as string[];
    expect(warnings, describeRun(result)).toEqual([
      expect.stringMatching(
        /^LOOPWATCH_ALREADY_STARTED: loopwatch is already running with \{.*"thresholdMs":100.*\}; the options of this start\(\) call are ignored$/,
      ),
    ]);
  });

  it('in a worker thread it throws ERR_LOOPWATCH_UNSUPPORTED; the main thread is watched as before', async () => {
    const result = await scenario('in-worker');
    expect(result.code, describeRun(result)).toBe(0);
    expect(said(result, 'WORKER')).toBe(
      'ERR_LOOPWATCH_UNSUPPORTED loopwatch monitors the main thread; start() cannot be called from a worker thread',
    );
    expect(said(result, 'MAIN')).toBe('true');
  });
});
