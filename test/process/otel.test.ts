/**
 * OpenTelemetry export from the monitor worker, end to end: a child process that really blocks,
 * exporting over OTLP to a receiver in this process (decoded with the official protobuf
 * definitions), or serving Prometheus metrics that this process scrapes — and that Debian's
 * Prometheus scrapes, when it is installed (CI installs it).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { connect, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BlockEvent } from '../../src/types.js';
import { describeRun, fixture, run, type RunResult } from './harness.js';
import { type Arrival, attribute, OtlpReceiver } from './otlp-receiver.js';
import { record } from './report.js';

const env = { LOOPWATCH_THRESHOLD_MS: '100' };

function telemetryStatus(result: RunResult): { metrics: string[]; logs: string[]; prometheusUrl?: string } | null {
  const line = result.stdout.find((l) => l.text.startsWith('TELEMETRY '));
  return line === undefined
    ? null
    : (JSON.parse(line.text.slice(10)) as { metrics: string[]; logs: string[]; prometheusUrl?: string } | null);
}

describe('OTLP export', () => {
  for (const protocol of ['http/protobuf', 'http/json'] as const) {
    it(`${protocol}: the block alert arrives while the app is still blocked, and metrics follow`, async () => {
      const receiver = new OtlpReceiver();
      const endpoint = await receiver.listen();
      try {
        const result = await run(fixture('otel-app.cjs'), {
          mode: 'require',
          env: {
            ...env,
            OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
            OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
            OTEL_METRIC_EXPORT_INTERVAL: '500',
            OTEL_SERVICE_NAME: 'checkout',
            OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=s3cr%20t,x-tenant=shop',
            OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=staging,service.version=1.4.2',
          },
        });
        expect(result.code, describeRun(result)).toBe(0);
        expect(telemetryStatus(result)).toEqual({ metrics: ['otlp'], logs: ['otlp'] });
        const unblocked = result.marks.get('unblock') ?? 0;
        const alert = receiver.arrivals.find((a) =>
          a.logs.some((l) => attribute(l.attributes, 'loopwatch.block.state') === 'ongoing'),
        );
        expect(alert, JSON.stringify(receiver.arrivals.map((a) => a.path))).toBeDefined();
        const record0 = alert?.logs.find((l) => attribute(l.attributes, 'loopwatch.block.state') === 'ongoing');
        expect(record0?.eventName).toBe('loopwatch.block');
        expect(Number(record0?.severityNumber)).toBe(13);
        expect(attribute(record0?.attributes, 'code.function.name')).toBe('exportReport');
        expect(attribute(record0?.attributes, 'code.file.path')).toBe(fixture('otel-app.cjs'));
        expect(attribute(record0?.attributes, 'code.line.number')).toBe(11);
        expect(String(attribute(record0?.attributes, 'code.stacktrace'))).toMatch(
          /^ {4}at exportReport \(.*otel-app\.cjs:11:\d+\)\n/,
        );
        expect(attribute(record0?.attributes, 'loopwatch.block.id')).toBe(1);
        // It left the process during the block (times are Date.now() of two processes on one machine).
        const earlyMs = unblocked - (alert?.at ?? Infinity);
        record({ scenario: `OTLP ${protocol}: alert arrived before the block ended`, byMs: earlyMs });
        expect(earlyMs, describeRun(result)).toBeGreaterThan(500);
        expect(attribute(alert?.resource, 'service.name')).toBe('checkout');
        // OTEL_EXPORTER_OTLP_HEADERS (values percent-decoded) and OTEL_RESOURCE_ATTRIBUTES, on
        // every request of both signals.
        for (const arrival of receiver.arrivals) {
          expect(arrival.headers['x-api-key'], arrival.path).toBe('s3cr t');
          expect(arrival.headers['x-tenant'], arrival.path).toBe('shop');
          expect(attribute(arrival.resource, 'deployment.environment.name'), arrival.path).toBe('staging');
          expect(attribute(arrival.resource, 'service.version'), arrival.path).toBe('1.4.2');
        }
        expect(attribute(alert?.resource, 'process.pid')).toBe(result.events[0]?.pid);
        for (const key of ['service.instance.id', 'process.runtime.name', 'process.runtime.version', 'host.name'])
          expect(attribute(alert?.resource, key), key).toBeDefined();
        // The ended record, and metrics (the live gauge was non-zero in an export during the block).
        const ended = receiver.arrivals
          .flatMap((a) => a.logs)
          .find((l) => attribute(l.attributes, 'loopwatch.block.state') === 'ended');
        expect(Number(attribute(ended?.attributes, 'loopwatch.block.duration'))).toBeGreaterThan(1.5);
        const metrics = receiver.arrivals.filter((a) => a.path === '/v1/metrics');
        expect(metrics.length).toBeGreaterThan(0);
        const names = new Set(metrics.flatMap((a) => a.metrics.map((m) => m.name)));
        for (const name of [
          'loopwatch.blocks',
          'loopwatch.block.duration',
          'loopwatch.block.current_duration',
          'nodejs.eventloop.delay.p99',
          'nodejs.eventloop.utilization',
          'nodejs.eventloop.time',
        ]) {
          expect(names, name).toContain(name);
        }
        const liveDuring = metrics
          .filter((a) => a.at < unblocked)
          .flatMap((a) => a.metrics.filter((m) => m.name === 'loopwatch.block.current_duration'))
          .map((m) => m.gauge?.dataPoints[0]?.asDouble ?? 0);
        expect(Math.max(0, ...liveDuring), 'the live gauge during the block').toBeGreaterThan(0.1);
      } finally {
        receiver.close();
      }
    });
  }

  for (const failure of ['down', 'slow'] as const) {
    it(`a collector that is ${failure} costs the app nothing, and says so once`, async () => {
      // down: every connection is reset as soon as it is accepted (a port found free and
      // closed again could be taken by another process before the child connects); slow: a
      // server that accepts and never answers.
      const silent = createServer(() => undefined);
      if (failure === 'down') silent.on('connection', (socket) => socket.resetAndDestroy());
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const address = silent.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      try {
        // How long each process took to end after its work was done (the flush at exit).
        let endedAt = 0;
        const onSpawn = (child: ChildProcess): void => void child.on('exit', () => (endedAt = Date.now()));
        const bare = await run(fixture('otel-app.cjs'), { mode: 'require', args: ['work'], env, onSpawn });
        const bareEnded = endedAt;
        const failing = await run(fixture('otel-app.cjs'), {
          mode: 'require',
          args: ['work'],
          env: { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_METRIC_EXPORT_INTERVAL: '200' },
          onSpawn,
        });
        const failingEnded = endedAt;
        expect(failing.code, describeRun(failing)).toBe(0);
        const took = (r: RunResult): number => Number(r.stdout.find((l) => l.text.startsWith('WORK '))?.text.slice(5));
        record({
          scenario: `collector ${failure}: app work time vs no telemetry`,
          bareMs: took(bare),
          failingMs: took(failing),
        });
        expect(took(failing), describeRun(failing)).toBeLessThan(took(bare) * 1.5 + 100);
        // Says so: exactly one line naming the collector, however many exports failed.
        const warnings = failing.stderr.filter((l) => l.text.startsWith('loopwatch:'));
        expect(
          warnings.map((l) => l.text),
          describeRun(failing),
        ).toEqual([expect.stringContaining(`127.0.0.1:${port}`)]);
        // Exits promptly: the flush at exit gives up after 800 ms (src/worker/exit.ts), counted
        // from the work's end to the process's; 300 ms more for a loaded 2-core machine.
        const workDone = (r: RunResult): number => r.stdout.find((l) => l.text.startsWith('WORK '))?.at ?? NaN;
        const bareEnding = bareEnded - workDone(bare);
        const failingEnding = failingEnded - workDone(failing);
        record({
          scenario: `collector ${failure}: process ended after its work`,
          bareMs: bareEnding,
          failingMs: failingEnding,
        });
        expect(failingEnding, describeRun(failing)).toBeLessThan(bareEnding + 800 + 300);
      } finally {
        silent.close();
        silent.closeAllConnections();
      }
    });
  }

  it('OTEL_LOG_LEVEL shows the SDK diagnostics as loopwatch: lines; an invalid tuning variable is one line and its default', async () => {
    const receiver = new OtlpReceiver();
    const endpoint = await receiver.listen();
    try {
      const result = await run(fixture('otel-app.cjs'), {
        mode: 'require',
        env: {
          ...env,
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          OTEL_LOG_LEVEL: 'debug',
          OTEL_BLRP_SCHEDULE_DELAY: 'soon',
          IDLE_MS: '400',
        },
      });
      expect(result.code, describeRun(result)).toBe(0);
      const lines = result.stderr.map((l) => l.text);
      expect(lines, describeRun(result)).toContain(
        'loopwatch: OTEL_BLRP_SCHEDULE_DELAY must be a number greater than 0, got "soon"; using 200 ms',
      );
      expect(lines.filter((l) => l.startsWith('loopwatch: otel debug: ')).length, describeRun(result)).toBeGreaterThan(
        0,
      );
      // Still exported, with the default delay.
      expect(receiver.arrivals.some((a) => a.logs.length > 0)).toBe(true);
    } finally {
      receiver.close();
    }
  });

  it('OTEL_SDK_DISABLED=true: nothing is exported, the block is still reported', async () => {
    const receiver = new OtlpReceiver();
    const endpoint = await receiver.listen();
    try {
      const result = await run(fixture('otel-app.cjs'), {
        mode: 'require',
        env: {
          ...env,
          OTEL_SDK_DISABLED: 'true',
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          OTEL_METRIC_EXPORT_INTERVAL: '200',
          IDLE_MS: '400',
        },
      });
      expect(result.code, describeRun(result)).toBe(0);
      expect(telemetryStatus(result), describeRun(result)).toBeNull();
      expect(receiver.arrivals.map((a) => a.path)).toEqual([]);
      expect(result.events.map((e) => e.state)).toContain('ended');
    } finally {
      receiver.close();
    }
  });

  it('a hang counts in loopwatch.hangs, by reason and action', async () => {
    const receiver = new OtlpReceiver();
    const endpoint = await receiver.listen();
    try {
      const result = await run(fixture('hang-recovers.cjs'), {
        mode: 'require',
        env: { ...env, LOOPWATCH_HANG_MS: '1000', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint },
      });
      expect(result.code, describeRun(result)).toBe(0);
      // The flush at exit sends the last collection.
      const hangs = receiver.arrivals
        .flatMap((a) => a.metrics)
        .filter((m) => m.name === 'loopwatch.hangs')
        .at(-1);
      expect(hangs?.unit, describeRun(result)).toBe('{hang}');
      expect(hangs?.sum?.isMonotonic).toBe(true);
      const points = hangs?.sum?.dataPoints ?? [];
      expect(points).toHaveLength(1);
      expect(Number(points[0]?.asInt ?? points[0]?.asDouble)).toBe(1);
      expect(attribute(points[0]?.attributes, 'loopwatch.hang.reason')).toBe('block');
      expect(attribute(points[0]?.attributes, 'loopwatch.hang.action')).toBe('none');
    } finally {
      receiver.close();
    }
  });

  it('a stalled collector: at most 512 alerts are kept for it, the rest dropped', async () => {
    const receiver = new OtlpReceiver();
    const endpoint = await receiver.listen();
    receiver.holding = true;
    let releasedAt = Number.POSITIVE_INFINITY;
    try {
      const result = await run(fixture('alert-storm.cjs'), {
        mode: 'require',
        timeoutMs: 40_000,
        // hangMs at the threshold: every block is also a hang (action none), one more alert
        // per block, so that a loaded machine still makes more than 512 within the 5 s after
        // which a hung export is abandoned.
        env: {
          LOOPWATCH_THRESHOLD_MS: '5',
          LOOPWATCH_HANG_MS: '5',
          LOOPWATCH_LOG: 'off',
          // The queue is what is tested here, not the alert budget that normally comes first.
          LOOPWATCH_MAX_ALERTS_PER_MINUTE: '1000000',
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        },
        onSpawn: (child) => {
          child.stdout?.on('data', (chunk: Buffer) => {
            if (!chunk.toString().includes('STORM-DONE')) return;
            // The storm is over: the collector answers again; once what was kept for it has
            // arrived, the app may end.
            releasedAt = Date.now();
            receiver.release();
            void receiver.waitFor((a) => a.logs.length > 0 && a.at >= releasedAt).then(() => child.kill('SIGUSR2'));
          });
        },
      });
      expect(result.code, describeRun(result)).toBe(0);
      const alerts = (a: Arrival): number =>
        a.logs.filter((l) => l.eventName === 'loopwatch.block' || l.eventName === 'loopwatch.hang').length;
      const sends = receiver.arrivals.filter((a) => alerts(a) > 0);
      const batches = sends.map(alerts);
      const emitted = result.events.length + result.hangs.length;
      const received = batches.reduce((n, x) => n + x, 0);
      // The alerts made while the first export hung (from its request to the next one: the
      // release, or its abandonment after 5 s): they could only wait in the queue.
      const madeAt = (e: BlockEvent): number => Date.parse(e.startedAt) + e.durationMs;
      const [first, second] = sends;
      const inWindow = (t: number): boolean => t >= (first?.at ?? NaN) && t < (second?.at ?? NaN);
      const whileHung =
        result.events.filter((e) => inWindow(madeAt(e))).length +
        result.hangs.filter((h) => inWindow(Date.parse(h.at))).length;
      record({
        scenario: 'stalled collector: alerts made, made while the export hung, received, batches',
        emitted,
        whileHung,
        received,
        batches,
      });
      const why = `${JSON.stringify({ emitted, whileHung, received, batches })}\n${describeRun(result)}`;
      expect(whileHung, why).toBeGreaterThan(512);
      // Of those, one full queue (512) was kept and sent as the next batch; the rest were
      // dropped, not kept (10 of slack: a record's time here is its event's, to the ms).
      expect(batches[1], why).toBe(512);
      expect(emitted - received, why).toBeGreaterThanOrEqual(whileHung - 512 - 10);
      expect(Math.max(...batches), why).toBeLessThanOrEqual(512);
    } finally {
      receiver.release();
      receiver.close();
    }
  });

  it('a storm of real blocks: at most maxAlertsPerMinute alert records leave, the rest are counted and summed up once', async () => {
    const receiver = new OtlpReceiver();
    const endpoint = await receiver.listen();
    const limit = 20;
    let doneAt = Number.POSITIVE_INFINITY;
    try {
      const result = await run(fixture('alert-storm.cjs'), {
        mode: 'require',
        timeoutMs: 60_000,
        env: {
          BLOCKS: '150',
          LOOPWATCH_THRESHOLD_MS: '5',
          LOOPWATCH_MAX_ALERTS_PER_MINUTE: String(limit),
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          OTEL_METRIC_EXPORT_INTERVAL: '1000',
        },
        onSpawn: (child) => {
          child.stdout?.on('data', (chunk: Buffer) => {
            if (!chunk.toString().includes('STORM-DONE')) return;
            doneAt = Date.now();
            // The storm is over once nothing was held back for 10 s: its summary then arrives.
            void receiver
              .waitFor((a) => a.logs.some((l) => l.eventName === 'loopwatch.alerts.suppressed'))
              .then(() => child.kill('SIGUSR2'));
          });
        },
      });
      expect(result.code, describeRun(result)).toBe(0);
      const logs = receiver.arrivals.flatMap((a) => a.logs);
      const exported = logs.filter((l) => l.eventName === 'loopwatch.block');
      const made = result.events.length;
      // The storm's length, and the run's from its first block to its end: the budget refills
      // (limit a minute) all along, and a short block in the quiet 10 s after the storm (a
      // loaded machine, a 5 ms threshold) may then go through whole.
      const firstAt = Date.parse(result.events[0]?.startedAt ?? '');
      const stormS = (doneAt - firstAt) / 1000;
      const runS = (Date.now() - firstAt) / 1000;
      const counter = receiver.arrivals
        .flatMap((a) => a.metrics)
        .filter((m) => m.name === 'loopwatch.alerts.suppressed')
        .at(-1)?.sum?.dataPoints;
      const suppressed = (counter ?? []).reduce((n, p) => n + Number(p.asInt ?? p.asDouble ?? 0), 0);
      const summaries = logs.filter((l) => l.eventName === 'loopwatch.alerts.suppressed');
      const why = `${JSON.stringify({ made, exported: exported.length, suppressed, stormS, runS, summaries: summaries.length })}\n${describeRun(result)}`;
      record({
        scenario: `alert storm, maxAlertsPerMinute ${limit}: block events, alert records exported, suppressed`,
        made,
        exported: exported.length,
        suppressed,
        stormS,
      });
      // A storm indeed, and every block still an event (stderr, events file, listeners).
      expect(made, why).toBeGreaterThan(4 * limit);
      expect(exported.length, why).toBeLessThanOrEqual(limit + Math.ceil((runS * limit) / 60) + 1);
      expect(exported.length, why).toBeGreaterThanOrEqual(limit - 1);
      // Whole blocks: each exported block has all its records.
      const states = new Map<unknown, unknown[]>();
      for (const l of exported) {
        const id = attribute(l.attributes, 'loopwatch.block.id');
        states.set(id, [...(states.get(id) ?? []), attribute(l.attributes, 'loopwatch.block.state')]);
      }
      // (A block found only once it ended, before the monitor was armed, has one.) The exception:
      // the run's last block, when its `ended` came as the process exited (the idle interval's
      // late timer on a loaded machine, ended by SIGUSR2): that record leaves with the final
      // export, which the exit bounds at 800 ms, and was once lost (Node 26, CI).
      const last = result.events.at(-1);
      let lostAtExit = 0;
      for (const [id, seen] of states) {
        const all = result.events.filter((e) => e.id === id).map((e) => e.state);
        if (
          last !== undefined &&
          id === last.id &&
          last.state === 'ended' &&
          seen.length === all.length - 1 &&
          !seen.includes('ended')
        ) {
          lostAtExit = 1;
          continue;
        }
        expect(seen, `block ${String(id)}\n${why}`).toEqual(all);
      }
      // Every record is either exported or counted, and one summary says how many.
      expect(exported.length + suppressed + lostAtExit, why).toBe(made);
      expect(attribute(counter?.[0]?.attributes, 'loopwatch.alert.event')).toBe('loopwatch.block');
      expect(summaries, why).toHaveLength(1);
      expect(attribute(summaries[0]?.attributes, 'loopwatch.alerts.suppressed')).toBe(suppressed);
      expect(attribute(summaries[0]?.attributes, 'loopwatch.alerts.limit')).toBe(limit);
      const lines = result.stderr.filter((l) => / alert log records were not exported /.test(l.text));
      expect(
        lines.map((l) => l.text),
        why,
      ).toEqual([
        expect.stringMatching(
          new RegExp(`^loopwatch: ${suppressed} alert log records .*maxAlertsPerMinute \\(${limit}\\)`),
        ),
      ]);
      // The metrics are not capped: every block counted.
      const blocks = receiver.arrivals
        .flatMap((a) => a.metrics)
        .filter((m) => m.name === 'loopwatch.blocks')
        .at(-1)
        ?.sum?.dataPoints.reduce((n, p) => n + Number(p.asInt ?? p.asDouble ?? 0), 0);
      expect(blocks, why).toBe(result.events.filter((e) => e.state === 'ongoing' || e.beforeArmed === true).length);
    } finally {
      receiver.close();
    }
  });

  it('what is left at exit is flushed: a block that ends as the process ends still arrives', async () => {
    const receiver = new OtlpReceiver();
    const endpoint = await receiver.listen();
    try {
      // The default export interval (60 s) never comes: only the flush at exit sends metrics.
      const result = await run(fixture('ends-after-block.cjs'), {
        mode: 'require',
        env: { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint },
      });
      expect(result.code, describeRun(result)).toBe(0);
      const states = receiver.arrivals
        .flatMap((a) => a.logs)
        .map((l) => attribute(l.attributes, 'loopwatch.block.state'));
      expect(states, describeRun(result)).toContain('ended');
      const names = new Set(receiver.arrivals.flatMap((a) => a.metrics.map((m) => m.name)));
      expect(names).toContain('loopwatch.block.duration');
    } finally {
      receiver.close();
    }
  });
});

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}
interface Exposition {
  readonly types: Map<string, string>;
  readonly units: Map<string, string>;
  readonly samples: Sample[];
}

/** The Prometheus text format, as far as these tests need it. */
function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const units = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const meta = /^# (TYPE|UNIT) (\S+) (\S+)$/.exec(line);
    if (meta !== null) (meta[1] === 'TYPE' ? types : units).set(meta[2] ?? '', meta[3] ?? '');
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (sample === null || line.startsWith('#')) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (sample[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[key ?? ''] = value ?? '';
    samples.push({ name: sample[1] ?? '', labels, value: Number(sample[3]) });
  }
  return { types, units, samples };
}

/**
 * The TCP port a process listens on, read from /proc (Linux, where the real-Prometheus test
 * runs): Prometheus binds port 0 and does not print the port it got. Undefined until it listens.
 */
function listeningPort(pid: number): number | undefined {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode !== undefined) inodes.add(inode);
    } catch {
      // closed meanwhile
    }
  }
  for (const line of readFileSync(`/proc/${pid}/net/tcp`, 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    // local_address is HEX_IP:HEX_PORT, st 0A is LISTEN, the inode is the tenth field.
    if (fields[3] === '0A' && inodes.has(fields[9] ?? '')) return parseInt(fields[1]?.split(':')[1] ?? '', 16);
  }
  return undefined;
}

/**
 * A TCP proxy on a port of its own (bound to 0, held for the whole test) that forwards to the
 * app's exporter once the app says where it listens; until then it refuses (resets) every
 * connection, as a port nothing listens on would. So Prometheus' configuration can name a port
 * before the app starts, without guessing a free one.
 */
async function scrapeProxy(): Promise<{ port: number; forwardTo(port: number): void; close(): void }> {
  let target: number | undefined;
  const server = createNetServer((socket) => {
    if (target === undefined) {
      socket.resetAndDestroy();
      return;
    }
    const upstream = connect(target, '127.0.0.1');
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    forwardTo: (port) => (target = port),
    close: () => server.close(),
  };
}

/** What loopwatch's Prometheus exporter serves: name, type, unit (in Prometheus' naming). */
export const PROMETHEUS_METRICS: readonly (readonly [string, string, string])[] = [
  ...['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99'].map(
    (q) => [`nodejs_eventloop_delay_${q}_seconds`, 'gauge', 's'] as const,
  ),
  ['nodejs_eventloop_utilization_ratio', 'gauge', '1'],
  ['nodejs_eventloop_time_seconds_total', 'counter', 's'],
  ['loopwatch_block_current_duration_seconds', 'gauge', 's'],
  ['loopwatch_blocks_total', 'counter', '{block}'],
  ['loopwatch_block_duration_seconds', 'histogram', 's'],
  ['loopwatch_captures_total', 'counter', '{capture}'],
];

describe('console exporter', () => {
  it('OTEL_METRICS_EXPORTER / OTEL_LOGS_EXPORTER=console print the block records and the metrics', async () => {
    const result = await run(fixture('otel-app.cjs'), {
      mode: 'require',
      env: {
        ...env,
        OTEL_METRICS_EXPORTER: 'console',
        OTEL_LOGS_EXPORTER: 'console',
        OTEL_METRIC_EXPORT_INTERVAL: '500',
        IDLE_MS: '300',
      },
    });
    expect(result.code, describeRun(result)).toBe(0);
    expect(telemetryStatus(result)).toEqual({ metrics: ['console'], logs: ['console'] });
    // The SDK's console exporters print with console.dir: on the worker's stdout, relayed by
    // the main thread (so after the block, unlike OTLP).
    const out = result.stdout.map((l) => l.text).join('\n');
    expect(out, describeRun(result)).toContain("eventName: 'loopwatch.block'");
    expect(out).toContain("'loopwatch.block.state': 'ongoing'");
    expect(out).toContain("'loopwatch.block.state': 'ended'");
    expect(out).toContain("'code.function.name': 'exportReport'");
    expect(out).toContain("name: 'loopwatch.blocks'");
    expect(out).toContain("name: 'nodejs.eventloop.delay.p99'");
  });
});

describe('Prometheus exporter', () => {
  it('serves every metric with its type and unit, and the live gauge during a block', async () => {
    let url = '';
    const scrapes: { during?: Promise<string>; after?: Promise<string> } = {};
    const result = await run(fixture('otel-app.cjs'), {
      mode: 'require',
      env: {
        ...env,
        OTEL_METRICS_EXPORTER: 'prometheus',
        OTEL_EXPORTER_PROMETHEUS_PORT: '0',
        OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
        IDLE_MS: '700',
      },
      onLine: ({ text }) => {
        if (text.startsWith('TELEMETRY '))
          url = (JSON.parse(text.slice(10)) as { prometheusUrl: string }).prometheusUrl;
        // loopwatch's alert line: the block is on; scrape now — the worker answers while it lasts.
        if (text.startsWith('{"type":"block"') && text.includes('"ongoing"'))
          scrapes.during = fetch(url).then((r) => r.text());
        if (text === 'done') scrapes.after = fetch(url).then((r) => r.text());
      },
    });
    expect(result.code, describeRun(result)).toBe(0);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const during = parseExposition(await (scrapes.during ?? Promise.reject(new Error('no scrape during the block'))));
    expect(
      during.samples.find((s) => s.name === 'loopwatch_block_current_duration_seconds')?.value,
      'the blocked-now gauge',
    ).toBeGreaterThan(0.09);
    expect(during.samples.find((s) => s.name === 'loopwatch_blocks_total')).toMatchObject({
      value: 1,
      labels: {
        code_function_name: 'exportReport',
        code_file_path: fixture('otel-app.cjs'),
        loopwatch_block_phase: 'running',
      },
    });
    const after = parseExposition(await (scrapes.after ?? Promise.reject(new Error('no scrape after the block'))));
    for (const [name, type, unit] of PROMETHEUS_METRICS) {
      expect(after.types.get(name), name).toBe(type);
      expect(after.units.get(name), name).toBe(unit);
      expect(
        after.samples.some((s) => s.name.startsWith(name)),
        name,
      ).toBe(true);
    }
    const value = (name: string, labels: Record<string, string> = {}): number | undefined =>
      after.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value('loopwatch_block_current_duration_seconds')).toBe(0);
    expect(value('loopwatch_block_duration_seconds_count')).toBe(1);
    expect(value('loopwatch_block_duration_seconds_sum')).toBeGreaterThan(1.8);
    expect(value('loopwatch_block_duration_seconds_bucket', { le: '1' })).toBe(0);
    expect(value('loopwatch_block_duration_seconds_bucket', { le: '2.5' })).toBe(1);
    expect(value('loopwatch_captures_total', { loopwatch_stack_timing: 'during' })).toBe(1);
    expect(value('nodejs_eventloop_delay_max_seconds')).toBeGreaterThan(1.8);
    expect(value('nodejs_eventloop_utilization_ratio')).toBeGreaterThan(0.3);
    expect(value('nodejs_eventloop_time_seconds_total', { nodejs_eventloop_state: 'active' })).toBeGreaterThan(1.8);
    expect(value('nodejs_eventloop_time_seconds_total', { nodejs_eventloop_state: 'idle' })).toBeGreaterThan(0);
  });

  const prometheus = (() => {
    try {
      return execFileSync('which', ['prometheus'], { encoding: 'utf8' }).trim();
    } catch {
      return undefined;
    }
  })();
  if (prometheus === undefined && process.env['CI'] !== undefined) {
    it("Debian's prometheus is installed (by .ci/run)", () => {
      expect.fail('prometheus is not on PATH: .ci/run installs the Debian package');
    });
  }

  // It checks Prometheus against loopwatch's exporter, not Node: the matrix (LOOPWATCH_TEST_NODE) skips it.
  it.skipIf(prometheus === undefined || process.env['LOOPWATCH_TEST_NODE'] !== undefined)(
    'a real Prometheus scrapes a blocking app: the block counter, a histogram_quantile and the live gauge',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'loopwatch-prometheus-'));
      const proxy = await scrapeProxy();
      writeFileSync(
        join(dir, 'prometheus.yml'),
        `global: { scrape_interval: 1s, scrape_timeout: 900ms }\nscrape_configs:\n  - job_name: app\n    static_configs: [ { targets: ['127.0.0.1:${proxy.port}'] } ]\n`,
      );
      const server = spawn(
        prometheus ?? 'prometheus',
        [
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          '--web.listen-address=127.0.0.1:0',
          '--log.level=warn',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let serverLog = '';
      server.stderr.on('data', (chunk: Buffer) => (serverLog += chunk.toString()));
      try {
        // Prometheus is ready when it listens and says so on /-/ready (polled: it has no
        // other readiness signal).
        let api = '';
        for (let i = 0; i < 100; i++) {
          const webPort = server.pid === undefined ? undefined : listeningPort(server.pid);
          if (webPort !== undefined) {
            const ready = await fetch(`http://127.0.0.1:${webPort}/-/ready`).then(
              (r) => r.ok,
              () => false,
            );
            if (ready) {
              api = `http://127.0.0.1:${webPort}`;
              break;
            }
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(api, serverLog).not.toBe('');
        const query = async (
          promql: string,
        ): Promise<{ metric: Record<string, string>; value: [number, string] }[]> => {
          const response = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(promql)}`);
          const json = (await response.json()) as {
            status: string;
            data: { result: { metric: Record<string, string>; value: [number, string] }[] };
          };
          expect(json.status, `${promql}\n${serverLog}`).toBe('success');
          return json.data.result;
        };
        // Prometheus applies its targets a few seconds after start: wait for its first scrape
        // attempt (`up` = 0, nothing listens yet) before the app starts.
        for (let i = 0; i < 150 && (await query('up{job="app"}')).length === 0; i++)
          await new Promise((resolve) => setTimeout(resolve, 100));
        const result = await run(fixture('otel-app.cjs'), {
          mode: 'require',
          env: {
            ...env,
            OTEL_METRICS_EXPORTER: 'prometheus',
            OTEL_EXPORTER_PROMETHEUS_PORT: '0',
            OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
            IDLE_MS: '2500',
          },
          onLine: ({ text }) => {
            if (text.startsWith('TELEMETRY '))
              proxy.forwardTo(
                Number(new URL((JSON.parse(text.slice(10)) as { prometheusUrl: string }).prometheusUrl).port),
              );
          },
        });
        expect(result.code, describeRun(result)).toBe(0);
        // The block under test is in the running phase; a loaded machine may add a start-up
        // block (the SDK loading), which is not what this checks.
        const blocks = await query('last_over_time(loopwatch_blocks_total{loopwatch_block_phase="running"}[2m])');
        expect(blocks, `${JSON.stringify(blocks)}\n${serverLog}`).toHaveLength(1);
        expect(blocks[0]?.metric).toMatchObject({ code_function_name: 'exportReport', job: 'app' });
        expect(Number(blocks[0]?.value[1])).toBe(1);
        const p99 = await query(
          'histogram_quantile(0.99, sum by (le) (last_over_time(loopwatch_block_duration_seconds_bucket[2m])))',
        );
        // 2 s falls in the (1, 2.5] bucket.
        expect(Number(p99[0]?.value[1])).toBeGreaterThan(1);
        expect(Number(p99[0]?.value[1])).toBeLessThanOrEqual(2.5);
        const live = await query('max_over_time(loopwatch_block_current_duration_seconds[2m])');
        expect(Number(live[0]?.value[1]), 'scraped while the main thread was blocked').toBeGreaterThan(0.5);
        const delay = await query('max_over_time(nodejs_eventloop_delay_p99_seconds[2m])');
        expect(delay).toHaveLength(1);
        record({
          scenario: 'real Prometheus: blocked-now gauge scraped during a 2 s block',
          maxSeconds: Number(live[0]?.value[1]),
        });
      } finally {
        server.kill('SIGTERM');
        proxy.close();
      }
    },
  );
});

describe("the app's own MeterProvider", () => {
  it('records block counts and durations on the main thread, after each block', async () => {
    const result = await run(fixture('own-meter.cjs'), { mode: 'require', env });
    expect(result.code, describeRun(result)).toBe(0);
    // The last collection (loading the OpenTelemetry SDK itself may be reported as a startup block before).
    const line = result.stdout.filter((l) => l.text.startsWith('METRICS ')).at(-1);
    const metrics = JSON.parse(line?.text.slice(8) ?? '[]') as {
      name: string;
      unit: string;
      points: { attributes: Record<string, string>; value: number | { count: number; sum: number } }[];
    }[];
    const blocks = metrics.find((m) => m.name === 'loopwatch.blocks');
    expect(blocks?.unit, describeRun(result)).toBe('{block}');
    const culprit = {
      'loopwatch.block.phase': 'running',
      'code.function.name': 'recalculatePrices',
      'code.file.path': fixture('own-meter.cjs'),
    };
    expect(blocks?.points).toContainEqual({ attributes: culprit, value: 1 });
    const duration = metrics.find((m) => m.name === 'loopwatch.block.duration');
    expect(duration?.unit).toBe('s');
    const value = duration?.points.find((p) => p.attributes['code.function.name'] === 'recalculatePrices')?.value as {
      count: number;
      sum: number;
    };
    expect(value.count).toBe(1);
    expect(value.sum).toBeGreaterThan(0.35);
  });
});

describe('hang reports over OTLP', () => {
  it('a process killed as hung has sent its hang record first', async () => {
    const receiver = new OtlpReceiver();
    const endpoint = await receiver.listen();
    try {
      let endedAt = 0;
      const result = await run(fixture('hang.cjs'), {
        mode: 'require',
        env: { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, LOOPWATCH_HANG_MS: '800', LOOPWATCH_HANG_ACTION: 'kill' },
        onSpawn: (child) => child.on('exit', () => (endedAt = Date.now())),
      });
      expect(result.signal, describeRun(result)).toBe('SIGKILL');
      const hang = receiver.arrivals.find((a) => a.logs.some((l) => l.eventName === 'loopwatch.hang'));
      expect(hang, JSON.stringify(receiver.arrivals.map((a) => a.logs.map((l) => l.eventName)))).toBeDefined();
      expect(hang?.at).toBeLessThanOrEqual(endedAt);
      const record0 = hang?.logs.find((l) => l.eventName === 'loopwatch.hang');
      expect(Number(record0?.severityNumber)).toBe(17);
      expect(attribute(record0?.attributes, 'loopwatch.hang.action')).toBe('kill');
      expect(attribute(record0?.attributes, 'code.function.name')).toBe('pollUntilReady');
    } finally {
      receiver.close();
    }
  });
});
