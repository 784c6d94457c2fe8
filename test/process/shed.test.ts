/**
 * Load shedding with real Fastify and Express apps (fixtures/shed-app.cjs) in child processes,
 * hit by a real HTTP client from this process: a request sent while the app's own handler
 * blocks its loop is answered 503 with Retry-After once the loop runs again (the first request
 * served after the block), requests pass again once the loop is healthy, and each other limit
 * (utilization, heap, RSS, the app's check) sheds with its reason. `/readyz`, served by the
 * monitor worker, says the same. Each test runs on every major the peer ranges allow: Fastify
 * 4 and 5, Express 4 and 5.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PressureReason } from '../../src/types.js';
import { describeRun, fixture, ROOT, run, type Mode, type RunResult } from './harness.js';
import { record } from './report.js';

/** A framework as the fixture requires it (SHED_PACKAGE): the 4.x majors are installed under npm aliases. */
interface Framework {
  readonly name: 'fastify' | 'express';
  readonly package: string;
  readonly version: string;
  /** `fastify 4.29.1`: what the test names say ran. */
  readonly label: string;
}

function framework(name: Framework['name'], pkg: string): Framework {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as {
    version: string;
  };
  return { name, package: pkg, version, label: `${name} ${version}` };
}

const FASTIFY = [framework('fastify', 'fastify'), framework('fastify', 'fastify4')] as const;
const EXPRESS = [framework('express', 'express'), framework('express', 'express4')] as const;

interface Probe {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: { status?: string; reasons?: PressureReason[]; shed?: boolean; statusCode?: number; code?: string };
}

async function probe(url: string): Promise<Probe> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  let body: Probe['body'] = {};
  try {
    body = JSON.parse(text) as Probe['body'];
  } catch {
    // a text answer
  }
  return { status: response.status, headers: response.headers, text, body };
}

/** Probes until `done` says yes (a readiness signal, not a sleep), or fails after `ms`. */
async function until(url: string, done: (answer: Probe) => boolean, ms = 20_000): Promise<Probe> {
  const deadline = Date.now() + ms;
  let last: Probe | undefined;
  while (Date.now() < deadline) {
    last = await probe(url);
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} never answered as expected; last: ${last?.status} ${last?.text}`);
}

interface App {
  readonly app: string;
  readonly health: string;
  /** Resolves at loopwatch's next `ongoing` block line (the block is on, detected by the worker). */
  nextBlock(): Promise<void>;
  readonly done: Promise<RunResult>;
}

async function startApp(framework: Framework, env: Record<string, string>, mode: Mode = 'plain'): Promise<App> {
  let found: (urls: { app: string; health: string }) => void = () => undefined;
  const urls = new Promise<{ app: string; health: string }>((resolve) => (found = resolve));
  let health = '';
  let loaded = '';
  let waiting: (() => void)[] = [];
  const done = run(fixture('shed-app.cjs'), {
    mode,
    args: [framework.name],
    timeoutMs: 90_000,
    noEventsFile: true,
    env: { SHED_BODY: 'reasons', SHED_PACKAGE: framework.package, ...env },
    onLine: ({ text }) => {
      if (text.startsWith('FRAMEWORK ')) loaded = text.slice(10);
      if (text.startsWith('HEALTH ')) health = text.slice(7);
      if (text.startsWith('APP ')) found({ app: text.slice(4), health });
      if (/^\{"type":"block".*"state":"ongoing"/.test(text)) {
        for (const resolve of waiting) resolve();
        waiting = [];
      }
    },
  });
  const started = await Promise.race([
    urls,
    done.then((r) => Promise.reject(new Error(`the app ended early\n${describeRun(r)}`))),
  ]);
  expect(loaded, `${framework.package} loaded`).toBe(framework.version);
  const app: App = { ...started, nextBlock: () => new Promise((resolve) => waiting.push(resolve)), done };
  // Loading Fastify or Express is itself a block of a few hundred ms: wait until its lag has
  // left the figures, as a load balancer would.
  await until(`${app.app}/work`, (answer) => answer.status === 200);
  await until(`${app.health}/readyz`, (answer) => answer.status === 200);
  return app;
}

async function stopApp(app: App): Promise<void> {
  await probe(`${app.app}/exit`).catch(() => undefined);
  const result = await app.done;
  expect(result.code, describeRun(result)).toBe(0);
}

const limits = (answer: Probe): string[] => (answer.body.reasons ?? []).map((reason) => reason.limit);

describe.each([...FASTIFY, ...EXPRESS])('$label behind loopwatch', (framework) => {
  it('the first request served after a 600 ms block gets 503 + Retry-After; requests pass once the loop is healthy; /readyz agrees', async () => {
    const app = await startApp(framework, { SHED_PRESSURE: JSON.stringify({ maxLagMs: 200 }) });
    const blocked = app.nextBlock();
    const blocking = probe(`${app.app}/block?ms=600`);
    await blocked;
    // Sent while the handler blocks the loop: it is read and answered once the loop runs again.
    const sentAt = Date.now();
    const during = probe(`${app.app}/work`);
    const readyDuring = await probe(`${app.health}/readyz`);
    const first = await during;
    const firstMs = Date.now() - sentAt;
    const readyAfter = await probe(`${app.health}/readyz`);
    expect((await blocking).text).toBe('blocked');

    expect(readyDuring.status).toBe(503);
    expect(readyDuring.body.status).toBe('blocked');
    expect(first.status, first.text).toBe(503);
    expect(first.headers.get('retry-after')).toBe('1');
    expect(first.body.shed).toBe(true);
    const reason = first.body.reasons?.[0];
    expect(reason).toMatchObject({ limit: 'maxLagMs', max: 200 });
    expect(reason?.limit === 'maxLagMs' ? reason.value : 0).toBeGreaterThan(400);
    expect(readyAfter.status, readyAfter.text).toBe(503);
    expect(readyAfter.body.status).toBe('lagging');
    expect(limits(readyAfter)).toEqual(['maxLagMs']);

    const healthyAt = Date.now();
    const passed = await until(`${app.app}/work`, (answer) => answer.status === 200);
    const recoveredMs = Date.now() - healthyAt;
    expect(passed.text).toBe('worked');
    await until(`${app.health}/readyz`, (answer) => answer.status === 200);
    record({
      scenario: `${framework.label}: the first request after a 600 ms block`,
      answeredMs: firstMs,
      measure: reason?.limit === 'maxLagMs' ? reason.measure : 'none',
      passesAgainAfterMs: recoveredMs,
    });
    await stopApp(app);
  }, 120_000);
});

describe('each limit sheds with its reason', () => {
  it.each(EXPRESS)(
    '$label: event-loop utilization (busy but turning), then the app check: false, throw, reject, timeout, healthy again',
    async (framework) => {
      const app = await startApp(framework, {
        SHED_PRESSURE: JSON.stringify({
          maxLagMs: 60_000,
          maxUtilization: 0.7,
          healthCheckIntervalMs: 50,
          healthCheckTimeoutMs: 300,
        }),
      });
      // 8 s: on a loaded machine finding the first 503 can take seconds; /readyz must see the busy loop too.
      const busy = probe(`${app.app}/busy?ms=8000`);
      const shed = await until(`${app.app}/work`, (answer) => answer.status === 503);
      expect(limits(shed), shed.text).toEqual(['maxUtilization']);
      expect(shed.body.reasons?.[0]).toMatchObject({ limit: 'maxUtilization', max: 0.7 });
      // The worker computes its own figure at each probe: near the limit, give it a few probes.
      const ready = await until(`${app.health}/readyz`, (answer) => limits(answer).includes('maxUtilization'));
      expect(ready.body.status, ready.text).toBe('under-pressure');
      await busy;
      await until(`${app.app}/work`, (answer) => answer.status === 200);

      const outcomes: Record<string, { value: string; message: RegExp }> = {
        false: { value: 'failed', message: /returned false/ },
        throw: { value: 'threw', message: /threw: database is down/ },
        reject: { value: 'threw', message: /threw: database went away/ },
        hang: { value: 'timed-out', message: /did not settle within 300 ms/ },
      };
      for (const [mode, expected] of Object.entries(outcomes)) {
        await probe(`${app.app}/check?mode=${mode}`);
        const answer = await until(`${app.app}/work`, (a) =>
          // The message too: throw and reject are both 'threw', told apart by what was thrown.
          (a.body.reasons ?? []).some(
            (r) => r.limit === 'healthCheck' && r.value === expected.value && expected.message.test(r.message),
          ),
        );
        expect(answer.status).toBe(503);
        const reason = answer.body.reasons?.find((r) => r.limit === 'healthCheck');
        expect(reason?.limit === 'healthCheck' ? reason.message : '', mode).toMatch(expected.message);
        const readyz = await until(`${app.health}/readyz`, (a) => limits(a).includes('healthCheck'));
        expect(readyz.status).toBe(503);
      }
      await probe(`${app.app}/check?mode=ok`);
      await until(`${app.app}/work`, (answer) => answer.status === 200);
      await until(`${app.health}/readyz`, (answer) => answer.status === 200);
      await stopApp(app);
    },
    120_000,
  );

  it.each(FASTIFY)(
    '$label: the main thread’s heap in use, with a custom status, header and body',
    async (framework) => {
      const app = await startApp(framework, {
        // Allocating 80 MB can itself block the loop for seconds on a loaded machine: lag is not tested here.
        SHED_PRESSURE: JSON.stringify({ maxLagMs: 60_000, heapExtraMb: 40 }),
        SHED_OPTIONS: JSON.stringify({ statusCode: 429, retryAfterS: 7, headers: { 'x-shed-by': 'loopwatch' } }),
        SHED_BODY: '',
      });
      await probe(`${app.app}/grow?mb=80`);
      const shed = await until(`${app.app}/work`, (answer) => answer.status !== 200);
      expect(shed.status, shed.text).toBe(429);
      expect(shed.headers.get('retry-after')).toBe('7');
      expect(shed.headers.get('x-shed-by')).toBe('loopwatch');
      expect(shed.body).toEqual({
        statusCode: 429,
        code: 'LOOPWATCH_UNDER_PRESSURE',
        error: 'Too Many Requests',
        message: 'Too Many Requests',
      });
      const pressure = JSON.parse((await probe(`${app.app}/pressure`)).text) as { reasons: PressureReason[] };
      expect(pressure.reasons.map((reason) => reason.limit)).toEqual(['maxHeapUsedBytes']);
      const ready = await until(`${app.health}/readyz`, (answer) => limits(answer).includes('maxHeapUsedBytes'));
      expect(ready.status).toBe(503);
      await stopApp(app);
    },
    120_000,
  );

  it.each(EXPRESS)(
    '$label: the process’s RSS, read by the monitor worker',
    async (framework) => {
      const app = await startApp(framework, { SHED_PRESSURE: JSON.stringify({ maxLagMs: 60_000, rssExtraMb: 100 }) });
      await probe(`${app.app}/rss?mb=200`);
      const shed = await until(`${app.app}/work`, (answer) => answer.status === 503);
      expect(limits(shed), shed.text).toEqual(['maxRssBytes']);
      const reason = shed.body.reasons?.[0];
      expect(reason?.limit === 'maxRssBytes' ? reason.value - reason.max : 0).toBeGreaterThan(0);
      const ready = await until(`${app.health}/readyz`, (answer) => limits(answer).includes('maxRssBytes'));
      expect(ready.body.status).toBe('under-pressure');
      await stopApp(app);
    },
    120_000,
  );
});

describe('limits from the environment alone (loopwatch/register)', () => {
  it('LOOPWATCH_PRESSURE_MAX_UTILIZATION: after a 900 ms block the first request gets 503 and /readyz says under-pressure, for that limit only', async () => {
    const app = await startApp(
      FASTIFY[0],
      {
        SHED_MONITOR: 'register',
        LOOPWATCH_THRESHOLD_MS: '100',
        LOOPWATCH_HEALTH_PORT: '0',
        // The lag limit out of the way: after the block only the variable under test can fail /readyz.
        LOOPWATCH_READY_MAX_LAG_MS: '60000',
        LOOPWATCH_PRESSURE_MAX_UTILIZATION: '0.5',
      },
      'require',
    );
    const blocked = app.nextBlock();
    const blocking = probe(`${app.app}/block?ms=900`);
    await blocked;
    const during = probe(`${app.app}/work`);
    const readyDuring = await probe(`${app.health}/readyz`);
    const first = await during;
    const readyAfter = await probe(`${app.health}/readyz`);
    expect((await blocking).text).toBe('blocked');

    expect(readyDuring.status).toBe(503);
    expect(readyDuring.body.status).toBe('blocked');
    expect(first.status, first.text).toBe(503);
    expect(limits(first), first.text).toEqual(['maxUtilization']);
    expect(first.body.reasons?.[0]).toMatchObject({ limit: 'maxUtilization', max: 0.5 });
    expect(readyAfter.status, readyAfter.text).toBe(503);
    expect(readyAfter.body.status, readyAfter.text).toBe('under-pressure');
    expect(limits(readyAfter), readyAfter.text).toEqual(['maxUtilization']);

    // The loop idles again: utilization falls under the limit within about a second.
    await until(`${app.app}/work`, (answer) => answer.status === 200);
    await until(`${app.health}/readyz`, (answer) => answer.status === 200);
    await stopApp(app);
  }, 120_000);
});
