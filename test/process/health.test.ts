/**
 * /livez and /readyz served by the monitor worker, probed with a real HTTP client from this
 * process while the app's main thread really spins, and the endpoint's defences against
 * misuse (methods, paths, oversized and garbage requests, connection floods).
 */
import { createServer, type Server } from 'node:net';
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { describeRun, fixture, run, type RunResult } from './harness.js';
import { record } from './report.js';

interface Probe {
  readonly status: number;
  readonly ms: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown> & {
    status?: string;
    loop?: { blockedMs?: number; block?: { id: number; culprit?: { function: string; line: number } } };
    lag?: { samples: number; p99Ms: number };
    reasons?: { limit: string; value: number; measure?: string }[];
  };
}

async function probe(url: string, init?: RequestInit): Promise<Probe> {
  const started = performance.now();
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
  const text = await response.text();
  const ms = performance.now() - started;
  return {
    status: response.status,
    ms,
    headers: response.headers,
    body: response.headers.get('content-type') === 'application/json' ? (JSON.parse(text) as Probe['body']) : { text },
  };
}

/**
 * Probes until a 200 (at most about 20 s): the app's shedder (maxLagMs 20) sheds for a second
 * after any beat more than 20 ms late, which a busy test machine causes now and then (seen with
 * a load average of 10 on 2 cores: 503s for over 5 s).
 */
async function calm(url: string): Promise<Probe> {
  let answer = await probe(url);
  for (let i = 0; i < 400 && answer.status !== 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    answer = await probe(url);
  }
  return answer;
}

interface App {
  readonly health: string;
  readonly app: string;
  /**
   * Resolves when the `ongoing` line of a block not reported before this call arrives: the next
   * block, whatever its id (on a loaded machine a late timer at start-up can be a block of its
   * own and take id 1; waiting for a fixed id then waited for the test's timeout).
   */
  nextBlock(): Promise<void>;
  readonly done: Promise<RunResult>;
}

/** Starts health-app.cjs and waits for its readiness lines (HEALTH and APP URLs). */
async function startApp(env: Record<string, string>): Promise<App> {
  let resolveUrls: (urls: { health: string; app: string }) => void = () => undefined;
  const urls = new Promise<{ health: string; app: string }>((resolve) => (resolveUrls = resolve));
  let health = '';
  let waiters: (() => void)[] = [];
  const done = run(fixture('health-app.cjs'), {
    mode: 'require',
    timeoutMs: 30_000,
    env: { LOOPWATCH_THRESHOLD_MS: '100', LOOPWATCH_HEALTH_PORT: '0', ...env },
    onLine: ({ text }) => {
      if (text.startsWith('HEALTH ')) health = text.slice(7);
      if (text.startsWith('APP ')) resolveUrls({ health, app: text.slice(4) });
      if (/^\{"type":"block",.*"state":"ongoing"/.test(text)) {
        for (const waiter of waiters) waiter();
        waiters = [];
      }
    },
  });
  const found = await Promise.race([
    urls,
    done.then((r) => Promise.reject(new Error(`the app ended early\n${describeRun(r)}`))),
  ]);
  return {
    ...found,
    nextBlock: () => new Promise((resolve) => waiters.push(resolve)),
    done,
  };
}

async function stopApp(app: App): Promise<RunResult> {
  await probe(`${app.app}/exit`).catch(() => undefined);
  const result = await app.done;
  // Nothing of loopwatch's (its health server included) keeps the process alive.
  expect(result.code, describeRun(result)).toBe(0);
  expect(result.timedOut).toBe(false);
  return result;
}

describe('health endpoints served by the worker', () => {
  it('answer 200 when healthy, and within milliseconds with 503 and the culprit while the main thread spins', async () => {
    const app = await startApp({ LOOPWATCH_LIVENESS_MS: '1000', LOOPWATCH_READY_MAX_LAG_MS: '50' });
    const live = await probe(`${app.health}/livez`);
    // A loaded machine can delay a beat past 50 ms while the app starts: ready within seconds.
    const ready = await calm(`${app.health}/readyz`);
    expect(live.status).toBe(200);
    expect(live.body.status).toBe('ok');
    expect(ready.status, JSON.stringify(ready.body)).toBe(200);
    expect(ready.body.status).toBe('ready');
    expect(ready.body.lag?.samples).toBeTypeOf('number');

    // Block the main thread for 3 s through the app's own HTTP server.
    let blockAnsweredAt = 0;
    const reported = app.nextBlock();
    const blocking = probe(`${app.app}/block?ms=3000`).then(() => (blockAnsweredAt = Date.now()));
    await reported;
    const during: Probe[] = [];
    const readyBlocked = await probe(`${app.health}/readyz`);
    during.push(readyBlocked);
    expect(readyBlocked.status).toBe(503);
    expect(readyBlocked.headers.get('retry-after')).toBe('1');
    expect(readyBlocked.body.status).toBe('blocked');
    expect(readyBlocked.body.loop?.block?.culprit?.function).toBe('renderDashboard');
    // Liveness holds until the loop has been silent for LOOPWATCH_LIVENESS_MS, then fails.
    let liveBlocked: Probe | undefined;
    for (let i = 0; i < 200 && liveBlocked === undefined; i++) {
      const answer = await probe(`${app.health}/livez`);
      during.push(answer);
      if (answer.status === 503) liveBlocked = answer;
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const failedAt = Date.now();
    expect(liveBlocked?.body.status).toBe('blocked');
    expect(liveBlocked?.body.loop?.blockedMs).toBeGreaterThanOrEqual(1000);
    expect(liveBlocked?.body.loop?.block?.culprit?.function).toBe('renderDashboard');
    await blocking;
    // Liveness failed while the block still lasted.
    expect(failedAt).toBeLessThan(blockAnsweredAt);
    const slowest = Math.max(...during.map((p) => p.ms));
    record({
      scenario: 'health probe while the main thread spins',
      probes: during.length,
      slowestMs: Math.round(slowest * 10) / 10,
    });
    // The README states 5.5–12.6 ms for the slowest probe. 100 ms leaves room for a loaded
    // 2-core machine (the child spins one core; each probe is a new connection from this
    // process, which shares the other core with the monitor worker and other suites) and is
    // still 30× shorter than the block: served by the worker, never by the frozen loop.
    expect(slowest, JSON.stringify(during.map((p) => Math.round(p.ms)))).toBeLessThan(100);

    const after = await probe(`${app.health}/livez`);
    expect(after.status).toBe(200);
    await stopApp(app);
  });

  it('say 503 "lagging" from /readyz while many short stalls add up, and the load shedder answers 503 (as a check and as middleware)', async () => {
    const app = await startApp({ LOOPWATCH_READY_MAX_LAG_MS: '20' });
    // As middleware, before any lag: it calls next(). (A busy test machine can delay one beat by
    // more than 20 ms, which sheds for a second: wait for a calm loop rather than assume it.)
    const passed = await calm(`${app.app}/middleware`);
    expect(passed.status).toBe(200);
    expect(passed.body.text).toBe('passed on\n');
    const jank = probe(`${app.app}/jank?ms=2500`);
    let lagging: Probe | undefined;
    let shed: Probe | undefined;
    for (let i = 0; i < 100 && (lagging === undefined || shed === undefined); i++) {
      const answer = await probe(`${app.health}/readyz`);
      if (answer.body.status === 'lagging') lagging = answer;
      if (lagging !== undefined && shed === undefined) {
        const work = await probe(`${app.app}/work`);
        if (work.status === 503) shed = work;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await jank;
    expect(lagging?.status).toBe(503);
    expect(Number(lagging?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Lagging by the 40 ms stalls: seen as a stall in progress, the latest beats' lag, or the p99.
    expect(lagging?.body.reasons?.[0]?.limit).toBe('maxLagMs');
    expect(lagging?.body.reasons?.[0]?.value).toBeGreaterThan(20);
    expect(shed?.body.status).toBe('overloaded');
    expect(shed?.headers.get('retry-after')).toBe('1');
    // As middleware while the loop lags: answered 503 itself, next() not called.
    const middleware = await probe(`${app.app}/middleware`);
    expect(middleware.status).toBe(503);
    expect(middleware.body.status).toBe('overloaded');
    await stopApp(app);
  });

  it('with warm-up, /readyz says "starting" and blocks are in the startup phase until markReady()', async () => {
    const app = await startApp({ LOOPWATCH_WARMUP: 'on' });
    const cold = await probe(`${app.health}/readyz`);
    expect(cold.status).toBe(503);
    expect(cold.body.status).toBe('starting');
    expect((await probe(`${app.health}/livez`)).status).toBe(200);
    let reported = app.nextBlock();
    await probe(`${app.app}/block?ms=300`);
    await reported;
    await probe(`${app.app}/warm`);
    const warm = await probe(`${app.health}/readyz`);
    expect(warm.status, JSON.stringify(warm.body)).toBe(200);
    reported = app.nextBlock();
    await probe(`${app.app}/block?ms=300`);
    await reported;
    const result = await stopApp(app);
    // The two blocks of 300 ms (a late timer on a loaded machine can add a short one).
    const phases = result.events.filter((e) => e.state === 'ended' && e.durationMs >= 200).map((e) => e.phase);
    expect(phases, describeRun(result)).toEqual(['startup', 'running']);
  });
});

/** Sends raw bytes and returns what comes back before the server closes (or 3 s pass). */
function raw(url: string, payload: string | Buffer): Promise<{ text: string; closed: boolean }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false });
    }, 3000);
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    socket.on('error', () => undefined);
    socket.write(payload);
  });
}

describe('the health endpoint cannot be misused', () => {
  it('methods, paths, HEAD, oversized, garbage and bodied requests, and connection floods', async () => {
    const app = await startApp({});
    const h = app.health;
    const post = await probe(`${h}/livez`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect((await probe(`${h}/readyz`, { method: 'DELETE' })).status).toBe(405);
    expect((await probe(`${h}/metrics`)).status).toBe(404);
    expect((await probe(`${h}/`)).status).toBe(404);
    expect((await probe(`${h}/livez?verbose=1`)).status).toBe(200);
    const head = await fetch(`${h}/readyz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');

    // A 1 MB body is not read: 405 at once and the connection closed.
    const big = Buffer.alloc(1024 * 1024, 97);
    const started = performance.now();
    const bodied = await raw(
      h,
      Buffer.concat([Buffer.from(`POST /livez HTTP/1.1\r\nhost: x\r\ncontent-length: ${big.length}\r\n\r\n`), big]),
    );
    expect(bodied.text).toMatch(/^HTTP\/1\.1 405/);
    expect(bodied.closed).toBe(true);
    expect(performance.now() - started).toBeLessThan(2500);
    // Oversized headers and garbage.
    const huge = await raw(h, `GET /livez HTTP/1.1\r\nhost: x\r\nx-junk: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(huge.text).toMatch(/^HTTP\/1\.1 431/);
    const garbage = await raw(h, 'HELLO THERE\r\n\r\n');
    expect(garbage.text).toMatch(/^HTTP\/1\.1 400/);
    expect(garbage.closed).toBe(true);

    // A flood of idle connections: the server keeps at most 16, drops the rest at once, and
    // times the idle ones out; then probes are answered again.
    const { hostname, port } = new URL(h);
    const sockets: Socket[] = [];
    const closed: number[] = [];
    let allClosed: () => void = () => undefined;
    const everyOneClosed = new Promise<void>((resolve) => (allClosed = resolve));
    const floodStart = Date.now();
    await Promise.all(
      Array.from(
        { length: 40 },
        () =>
          new Promise<void>((resolve) => {
            const socket = connect(Number(port), hostname, () => resolve());
            socket.on('error', () => resolve());
            socket.on('close', () => {
              closed.push(Date.now() - floodStart);
              if (closed.length === 40) allClosed();
            });
            sockets.push(socket);
          }),
      ),
    );
    // Waits for the server to close every one of them (the test's timeout bounds the wait).
    await everyOneClosed;
    // The README: 25 of 40 dropped at once, the rest after the 2 s idle timeout. "At once" is
    // under 1 s (a loaded machine may take a few hundred ms to run the accepts); "after the
    // timeout" is not before 1.5 s.
    const atOnce = closed.filter((ms) => ms < 1000);
    expect(atOnce.length, JSON.stringify(closed)).toBeGreaterThanOrEqual(40 - 16);
    expect(
      closed.filter((ms) => ms >= 1000).every((ms) => ms >= 1500),
      JSON.stringify(closed),
    ).toBe(true);
    expect(closed.length - atOnce.length, JSON.stringify(closed)).toBeGreaterThan(0);
    record({
      scenario: 'health endpoint: 40 idle connections',
      droppedAtOnce: atOnce.length,
      allClosedAfterMs: Math.max(...closed),
    });
    expect((await probe(`${h}/livez`)).status).toBe(200);
    await stopApp(app);
  });

  it('a port already in use gives one clear warning and the app runs on', async () => {
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const address = busy.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const app = await startApp({ LOOPWATCH_HEALTH_PORT: String(port) });
      expect(app.health).toBe('none');
      expect((await calm(`${app.app}/work`)).status).toBe(200);
      const result = await stopApp(app);
      const warnings = result.stderr.filter((l) => l.text.includes('health'));
      expect(
        warnings.map((l) => l.text),
        describeRun(result),
      ).toEqual([
        `loopwatch: cannot serve the health endpoints on 127.0.0.1:${port}: the port is already in use; the app runs on without them`,
      ]);
    } finally {
      busy.close();
    }
  });
});
