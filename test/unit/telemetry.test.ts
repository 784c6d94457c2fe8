import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { AggregationTemporality, DataPointType, MetricReader } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { LoopwatchError } from '../../src/errors.js';
import { resolveTelemetry } from '../../src/telemetry-options.js';
import type { TelemetrySettings } from '../../src/types.js';
import {
  duplicateCopies,
  MAX_CULPRITS,
  METRIC,
  OTHER,
  sdkProblem,
  Telemetry,
  v8Stack,
} from '../../src/worker/telemetry.js';
import { blockEvent } from './events.js';

const ROOT = join(__dirname, '..', '..');

function error(fn: () => unknown): LoopwatchError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LoopwatchError);
    return e as LoopwatchError;
  }
  throw new Error('expected a LoopwatchError');
}

describe('resolveTelemetry (OTEL_* variables and start({ otel }))', () => {
  it('exports nothing unless asked, or unless an OTLP endpoint is set', () => {
    expect(resolveTelemetry({}, undefined)).toBeUndefined();
    const settings = resolveTelemetry({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318/' }, undefined);
    expect(settings).toMatchObject({
      metricsExporters: ['otlp'],
      logsExporters: ['otlp'],
      metricsEndpoint: 'http://127.0.0.1:4318/v1/metrics',
      logsEndpoint: 'http://127.0.0.1:4318/v1/logs',
      metricsProtocol: 'http/protobuf',
      exportIntervalMs: 60_000,
    });
  });

  it('reads the standard variables, signal-specific ones first', () => {
    const settings = resolveTelemetry(
      {
        OTEL_METRICS_EXPORTER: 'prometheus,otlp',
        OTEL_LOGS_EXPORTER: 'none',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'https://metrics.example/v1/metrics',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc,x-team=a',
        OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-team=b',
        OTEL_METRIC_EXPORT_INTERVAL: '5000',
        OTEL_EXPORTER_PROMETHEUS_HOST: '0.0.0.0',
        OTEL_EXPORTER_PROMETHEUS_PORT: '9465',
        OTEL_SERVICE_NAME: 'checkout',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod,service.name=ignored',
      },
      undefined,
    );
    expect(settings).toMatchObject({
      metricsExporters: ['prometheus', 'otlp'],
      logsExporters: [],
      metricsEndpoint: 'https://metrics.example/v1/metrics',
      metricsProtocol: 'http/json',
      metricsHeaders: { authorization: 'Bearer abc', 'x-team': 'b' },
      exportIntervalMs: 5000,
      prometheusHost: '0.0.0.0',
      prometheusPort: 9465,
      serviceName: 'checkout',
      resourceAttributes: { 'deployment.environment.name': 'prod' },
    });
  });

  it('reads the export tuning variables (timeouts, OTEL_BLRP_*, OTEL_LOG_LEVEL), signal-specific ones first', () => {
    const warnings: string[] = [];
    const settings = resolveTelemetry(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_EXPORTER_OTLP_TIMEOUT: '7000',
        OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '1500',
        OTEL_METRIC_EXPORT_INTERVAL: '10000',
        OTEL_METRIC_EXPORT_TIMEOUT: '8000',
        OTEL_BLRP_SCHEDULE_DELAY: '50',
        OTEL_BLRP_EXPORT_TIMEOUT: '2500',
        OTEL_BLRP_MAX_QUEUE_SIZE: '100',
        OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '20',
        OTEL_LOG_LEVEL: 'debug',
        LOOPWATCH_MAX_ALERTS_PER_MINUTE: '10',
      },
      undefined,
      warnings,
    );
    expect(warnings).toEqual([]);
    expect(settings).toMatchObject({
      metricsTimeoutMs: 7000,
      logsTimeoutMs: 1500,
      metricExportTimeoutMs: 8000,
      logBatch: { scheduleDelayMs: 50, exportTimeoutMs: 2500, maxQueueSize: 100, maxExportBatchSize: 20 },
      logLevel: 'DEBUG',
      maxAlertsPerMinute: 10,
    });
    // Unset: loopwatch's defaults, the metric export timeout never above the interval.
    expect(
      resolveTelemetry(
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_METRIC_EXPORT_INTERVAL: '1000' },
        undefined,
      ),
    ).toMatchObject({
      metricsTimeoutMs: 5000,
      logsTimeoutMs: 5000,
      metricExportTimeoutMs: 1000,
      logBatch: { scheduleDelayMs: 200, exportTimeoutMs: 5000, maxQueueSize: 512, maxExportBatchSize: 512 },
      logLevel: undefined,
      maxAlertsPerMinute: 60,
    });
    expect(resolveTelemetry({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, { maxAlertsPerMinute: 0 })).toMatchObject(
      {
        maxAlertsPerMinute: 0,
      },
    );
  });

  it('an invalid tuning variable is, as in the SDK, one warning and the default, never a failure', () => {
    const warnings: string[] = [];
    const settings = resolveTelemetry(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_EXPORTER_OTLP_TIMEOUT: '3000',
        OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: 'soon',
        OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '-1',
        OTEL_METRIC_EXPORT_INTERVAL: '2000',
        OTEL_METRIC_EXPORT_TIMEOUT: '9000',
        OTEL_BLRP_MAX_QUEUE_SIZE: '64',
        OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '128',
        OTEL_BLRP_SCHEDULE_DELAY: '0',
        OTEL_LOG_LEVEL: 'loud',
      },
      undefined,
      warnings,
    );
    expect(settings).toMatchObject({
      metricsTimeoutMs: 3000,
      logsTimeoutMs: 3000,
      metricExportTimeoutMs: 2000,
      logBatch: { scheduleDelayMs: 200, maxQueueSize: 64, maxExportBatchSize: 64 },
      logLevel: 'INFO',
    });
    expect(warnings).toEqual([
      'OTEL_METRIC_EXPORT_TIMEOUT (9000) is greater than the export interval (2000 ms); using 2000 ms',
      'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT must be a number greater than 0, got "soon"; using OTEL_EXPORTER_OTLP_TIMEOUT or 5000 ms',
      'OTEL_EXPORTER_OTLP_LOGS_TIMEOUT must be a number greater than 0, got "-1"; using OTEL_EXPORTER_OTLP_TIMEOUT or 5000 ms',
      'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE (128) is greater than OTEL_BLRP_MAX_QUEUE_SIZE (64); using 64',
      'OTEL_BLRP_SCHEDULE_DELAY must be a number greater than 0, got "0"; using 200 ms',
      'OTEL_LOG_LEVEL must be one of NONE, ERROR, WARN, INFO, DEBUG, VERBOSE, ALL, got "loud"; using INFO',
    ]);
  });

  it('lets start({ otel }) override the environment', () => {
    const settings = resolveTelemetry(
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318' },
      { endpoint: 'http://b:4318', logsExporter: 'none', exportIntervalMs: 1000 },
    );
    expect(settings).toMatchObject({
      metricsEndpoint: 'http://b:4318/v1/metrics',
      logsExporters: [],
      exportIntervalMs: 1000,
    });
    expect(resolveTelemetry({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318' }, { disabled: true })).toBeUndefined();
    expect(
      resolveTelemetry({ OTEL_SDK_DISABLED: 'true', OTEL_METRICS_EXPORTER: 'prometheus' }, undefined),
    ).toBeUndefined();
  });

  it('uses the specification default endpoint when otlp is asked for without one', () => {
    expect(resolveTelemetry({ OTEL_METRICS_EXPORTER: 'otlp' }, undefined)?.metricsEndpoint).toBe(
      'http://localhost:4318/v1/metrics',
    );
  });

  it('warns about gRPC (valid for the app, not for loopwatch) instead of stopping the app', () => {
    const warnings: string[] = [];
    expect(
      resolveTelemetry(
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
        undefined,
        warnings,
      ),
    ).toBeUndefined();
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/OTLP over HTTP only/);
  });

  it.each([
    [
      { OTEL_METRICS_EXPORTER: 'zipkin' },
      'OTEL_METRICS_EXPORTER must be a comma-separated list of otlp, prometheus, console, none, got "zipkin"',
    ],
    [
      { OTEL_LOGS_EXPORTER: 'prometheus' },
      'OTEL_LOGS_EXPORTER must be a comma-separated list of otlp, console, none, got "prometheus"',
    ],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' },
      'OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL, got "collector:4318"',
    ],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift' },
      'OTEL_EXPORTER_OTLP_PROTOCOL must be one of "http/protobuf", "http/json", "grpc", got "thrift"',
    ],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_METRIC_EXPORT_INTERVAL: '5s' },
      'OTEL_METRIC_EXPORT_INTERVAL must be a whole number of milliseconds, got "5s"',
    ],
    [
      { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_PROMETHEUS_PORT: '99999' },
      'OTEL_EXPORTER_PROMETHEUS_PORT must be a TCP port number from 0 to 65535, got "99999"',
    ],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'novalue' },
      'OTEL_EXPORTER_OTLP_HEADERS must be a comma-separated list of key=value pairs, got "novalue"',
    ],
    [{ OTEL_SDK_DISABLED: 'yes' }, 'OTEL_SDK_DISABLED must be "true" or "false", got "yes"'],
    // Checked even when nothing is exported, as every LOOPWATCH_* variable is.
    [
      { LOOPWATCH_MAX_ALERTS_PER_MINUTE: 'lots' },
      'LOOPWATCH_MAX_ALERTS_PER_MINUTE must be a whole number from 0 to 1000000, got "lots"',
    ],
  ])('%j', (env, message) => {
    const e = error(() => resolveTelemetry(env, undefined));
    expect(e.code).toBe('ERR_LOOPWATCH_INVALID_ENV');
    expect(e.message).toBe(message);
  });

  it.each([
    [
      { metricsExporter: 'statsd' },
      '`otel.metricsExporter` must be one of "otlp", "prometheus", "console", "none", or an array of them, got "statsd"',
    ],
    [{ exportIntervalMs: 10 }, '`otel.exportIntervalMs` must be an integer from 100 to 3600000 (milliseconds), got 10'],
    [{ endpoint: 'ftp://x' }, '`otel.endpoint` must be an http:// or https:// URL, got "ftp://x"'],
    [
      { enpoint: 'http://x' },
      'unknown option `otel.enpoint`; known options are disabled, serviceName, resourceAttributes, metricsExporter, logsExporter, endpoint, metricsEndpoint, logsEndpoint, protocol, headers, exportIntervalMs, prometheusHost, prometheusPort, maxAlertsPerMinute',
    ],
    [{ maxAlertsPerMinute: -1 }, '`otel.maxAlertsPerMinute` must be an integer from 0 to 1000000, got -1'],
  ])('option %j', (otel, message) => {
    const e = error(() => resolveTelemetry({}, { metricsExporter: 'prometheus', ...otel } as never));
    expect(e.code).toBe('ERR_LOOPWATCH_INVALID_OPTION');
    expect(e.message).toBe(message);
  });
});

describe('duplicateCopies', () => {
  const app = '/srv/app/node_modules/@opentelemetry';
  it('counts the copies of a shared package that npm nested under packages of another version', () => {
    expect(
      duplicateCopies([
        `${app}/core/build/src/index.js`,
        `${app}/core/build/src/utils.js`,
        `${app}/sdk-logs/node_modules/@opentelemetry/core/build/src/index.js`,
        `${app}/resources/node_modules/@opentelemetry/core/build/src/index.js`,
        `${app}/otlp-transformer/build/src/index.js`,
        `${app}/sdk-logs/build/src/index.js`,
      ]),
    ).toEqual([{ name: '@opentelemetry/core', copies: 3 }]);
  });

  it('finds nothing in an aligned install', () => {
    expect(
      duplicateCopies([
        `${app}/core/build/src/index.js`,
        `${app}/core/build/src/utils.js`,
        `${app}/otlp-transformer/build/src/index.js`,
        `${app}/sdk-logs/build/src/index.js`,
      ]),
    ).toEqual([]);
  });

  it('reads Windows paths', () => {
    const win = 'C:\\app\\node_modules\\@opentelemetry';
    const one = [`${win}\\core\\build\\src\\index.js`, `${win}\\core\\build\\src\\utils.js`];
    expect(duplicateCopies(one)).toEqual([]);
    expect(
      duplicateCopies([...one, `${win}\\sdk-logs\\node_modules\\@opentelemetry\\core\\build\\src\\index.js`]),
    ).toEqual([{ name: '@opentelemetry/core', copies: 2 }]);
  });
});

describe('sdkProblem', () => {
  const settings = resolveTelemetry({ OTEL_METRICS_EXPORTER: 'prometheus' }, undefined) as TelemetrySettings;
  const installed = (versions: Record<string, string>) => (name: string) => versions[name];
  const line2 = {
    '@opentelemetry/api': '1.9.1',
    '@opentelemetry/resources': '2.12.0',
    '@opentelemetry/sdk-metrics': '2.12.0',
    '@opentelemetry/sdk-logs': '0.223.1',
    '@opentelemetry/exporter-prometheus': '0.223.0',
  };

  it('accepts a consistent line', () => {
    expect(sdkProblem(settings, installed(line2))).toBeUndefined();
  });

  it('names the missing packages and the command that installs them', () => {
    const problem = sdkProblem(
      settings,
      installed({ ...line2, '@opentelemetry/exporter-prometheus': undefined as unknown as string }),
    );
    expect(problem).toMatch(
      /^OpenTelemetry export needs @opentelemetry\/exporter-prometheus \(optional peer dependencies of loopwatch\): npm install @opentelemetry\/api@1\.\d+ /,
    );
  });

  it('refuses SDK 3.x with api 1.9 (it crashes at the first log record)', () => {
    const problem = sdkProblem(
      settings,
      installed({ ...line2, '@opentelemetry/sdk-metrics': '3.1.1', '@opentelemetry/sdk-logs': '3.1.1' }),
    );
    expect(problem).toMatch(/needs (Node ≥ 22\.15|@opentelemetry\/api ≥ 1\.10)/);
  });

  it('refuses mixed lines', () => {
    const both = { ...settings, logsExporters: ['console'] } as TelemetrySettings;
    const problem = sdkProblem(
      both,
      installed({ ...line2, '@opentelemetry/api': '1.10.0', '@opentelemetry/sdk-logs': '3.1.1' }),
    );
    expect(problem).toMatch(/different SDK lines/);
  });

  it("needs a signal's SDK package only when that signal is exported", () => {
    const noLogs = { ...line2, '@opentelemetry/sdk-logs': undefined as unknown as string };
    expect(sdkProblem(settings, installed(noLogs))).toBeUndefined();
    const logsOnly = { ...settings, metricsExporters: [], logsExporters: ['console'] } as TelemetrySettings;
    const noMetrics = { ...line2, '@opentelemetry/sdk-metrics': undefined as unknown as string };
    expect(sdkProblem(logsOnly, installed(noMetrics))).toBeUndefined();
    expect(sdkProblem(logsOnly, installed(noLogs))).toMatch(/needs @opentelemetry\/sdk-logs /);
  });
});

describe('the SDK packages loaded', () => {
  /** The OpenTelemetry packages a fresh process loads to start loopwatch's telemetry with `env`. */
  function loadedWith(env: Record<string, string>): string[] {
    const script = `
      const { resolveTelemetry } = require(${JSON.stringify(join(ROOT, 'dist', 'telemetry-options.js'))});
      const { startTelemetry } = require(${JSON.stringify(join(ROOT, 'dist', 'worker', 'telemetry.js'))});
      const settings = resolveTelemetry(JSON.parse(process.env.TELEMETRY_ENV), undefined);
      const stats = { windowMs: 1, samples: 1, minMs: 0, meanMs: 0, stddevMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, maxMs: 0 };
      const view = { lag: () => stats, utilization: () => 0, loopTime: () => ({ active: 0, idle: 0 }), blockedForMs: () => 0 };
      startTelemetry(settings, view, { pid: process.pid }, (key, message) => console.error(message)).then(async (telemetry) => {
        if (telemetry === undefined) process.exit(1);
        const names = Object.keys(require.cache).map((file) => /@opentelemetry\\/([a-z-]+)\\//.exec(file)?.[1]);
        console.log('LOADED ' + JSON.stringify([...new Set(names.filter((name) => name !== undefined))].sort()));
        await telemetry.shutdown();
      });`;
    const out = execFileSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      env: { ...process.env, TELEMETRY_ENV: JSON.stringify(env) },
    });
    // The console exporters write to stdout too.
    const line = out.split('\n').find((l) => l.startsWith('LOADED '));
    return JSON.parse(line?.slice('LOADED '.length) ?? 'null') as string[];
  }

  it('loads sdk-logs only when logs are exported, and sdk-metrics only when metrics are', () => {
    const prometheusOnly = loadedWith({ OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_PROMETHEUS_PORT: '0' });
    expect(prometheusOnly).toContain('sdk-metrics');
    expect(prometheusOnly).toContain('exporter-prometheus');
    expect(prometheusOnly).not.toContain('sdk-logs');
    const logsOnly = loadedWith({ OTEL_LOGS_EXPORTER: 'console' });
    expect(logsOnly).toContain('sdk-logs');
    expect(logsOnly).not.toContain('sdk-metrics');
    const both = loadedWith({ OTEL_METRICS_EXPORTER: 'console', OTEL_LOGS_EXPORTER: 'console' });
    expect(both).toEqual(expect.arrayContaining(['sdk-logs', 'sdk-metrics']));
  });
});

/** A reader the test collects from whenever it wants. */
class PullReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

describe('the metrics, through an in-memory reader', () => {
  const settings = resolveTelemetry(
    { OTEL_LOGS_EXPORTER: 'console', OTEL_METRICS_EXPORTER: 'none' },
    undefined,
  ) as TelemetrySettings;
  const view = {
    lag: () => ({
      windowMs: 10_000,
      samples: 10,
      minMs: 0.1,
      meanMs: 1,
      stddevMs: 0.5,
      p50Ms: 0.8,
      p90Ms: 2,
      p99Ms: 5,
      maxMs: 250,
    }),
    utilization: () => 0.25,
    loopTime: () => ({ active: 3, idle: 9 }),
    blockedForMs: () => 1500,
  };

  it('have their names, units, types and values', async () => {
    const reader = new PullReader();
    const telemetry = new Telemetry({ ...settings, logsExporters: [] }, view, { pid: 42 }, () => undefined, undefined, [
      reader,
    ]);
    telemetry.write(blockEvent(1, 'ongoing', 'parse', 101));
    telemetry.write(blockEvent(1, 'ended', 'parse', 2000));
    telemetry.write(blockEvent(2, 'ongoing', 'render', 101));
    telemetry.write(blockEvent(2, 'ended', 'render', 40));
    const { resourceMetrics } = await reader.collect();
    const metrics = new Map(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]));
    const gauge = (name: string): unknown => metrics.get(name)?.dataPoints[0]?.value;
    expect([...metrics.keys()].sort()).toEqual(
      [
        METRIC.delayMin,
        METRIC.delayMax,
        METRIC.delayMean,
        METRIC.delayStddev,
        METRIC.delayP50,
        METRIC.delayP90,
        METRIC.delayP99,
        METRIC.utilization,
        METRIC.time,
        METRIC.blocks,
        METRIC.blockDuration,
        METRIC.blockCurrent,
        METRIC.captures,
      ].sort(),
    );
    for (const name of [
      METRIC.delayMin,
      METRIC.delayMax,
      METRIC.delayMean,
      METRIC.delayStddev,
      METRIC.delayP50,
      METRIC.delayP90,
      METRIC.delayP99,
      METRIC.blockCurrent,
    ]) {
      expect(metrics.get(name)?.descriptor.unit, name).toBe('s');
      expect(metrics.get(name)?.dataPointType, name).toBe(DataPointType.GAUGE);
    }
    expect(gauge(METRIC.delayP99)).toBe(0.005);
    expect(gauge(METRIC.delayMax)).toBe(0.25);
    expect(gauge(METRIC.blockCurrent)).toBe(1.5);
    expect(metrics.get(METRIC.utilization)?.descriptor.unit).toBe('1');
    expect(gauge(METRIC.utilization)).toBe(0.25);
    const time = metrics.get(METRIC.time);
    expect(time?.dataPointType).toBe(DataPointType.SUM);
    expect(time?.dataPoints.map((p) => [p.attributes['nodejs.eventloop.state'], p.value])).toEqual([
      ['active', 3],
      ['idle', 9],
    ]);
    const blocks = metrics.get(METRIC.blocks);
    expect(blocks?.descriptor.unit).toBe('{block}');
    expect(blocks?.dataPoints.map((p) => [p.attributes['code.function.name'], p.value])).toEqual([
      ['parse', 1],
      ['render', 1],
    ]);
    const duration = metrics.get(METRIC.blockDuration);
    expect(duration?.descriptor.unit).toBe('s');
    expect(duration?.dataPointType).toBe(DataPointType.HISTOGRAM);
    const parse = duration?.dataPoints.find((p) => p.attributes['code.function.name'] === 'parse')?.value as {
      buckets: { boundaries: number[]; counts: number[] };
      sum: number;
      count: number;
    };
    expect(parse.buckets.boundaries).toEqual([0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]);
    expect(parse.count).toBe(1);
    expect(parse.sum).toBe(2);
    expect(parse.buckets.counts[7]).toBe(1); // (1, 2.5]
    const captures = metrics.get(METRIC.captures);
    expect(captures?.dataPoints.map((p) => [p.attributes['loopwatch.stack.timing'], p.value])).toEqual([['during', 2]]);
    await telemetry.shutdown();
  });

  it('cap the culprits kept as attributes', async () => {
    const reader = new PullReader();
    const telemetry = new Telemetry({ ...settings, logsExporters: [] }, view, { pid: 42 }, () => undefined, undefined, [
      reader,
    ]);
    for (let i = 1; i <= MAX_CULPRITS + 20; i++) telemetry.write(blockEvent(i, 'ongoing', `fn${i}`, 101));
    const { resourceMetrics } = await reader.collect();
    const blocks = resourceMetrics.scopeMetrics
      .flatMap((s) => s.metrics)
      .find((m) => m.descriptor.name === METRIC.blocks);
    expect(blocks?.dataPoints).toHaveLength(MAX_CULPRITS + 1);
    expect(blocks?.dataPoints.find((p) => p.attributes['code.function.name'] === OTHER)?.value).toBe(20);
    await telemetry.shutdown();
  });
});

describe('v8Stack', () => {
  it('writes frames the way V8 does', () => {
    expect(
      v8Stack([
        { function: 'a', file: '/x.js', line: 1, column: 2 },
        { function: 'b', file: 'node:internal/timers', line: 0, column: 0, async: true },
      ]),
    ).toBe('    at a (/x.js:1:2)\n    at async b (node:internal/timers)');
  });
});
