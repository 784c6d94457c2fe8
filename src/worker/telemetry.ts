/**
 * OpenTelemetry in the monitor worker: event-loop metrics under the semantic conventions,
 * loopwatch's own block metrics, and block alerts as log records — exported from here, so they
 * leave the process while the main thread is frozen.
 *
 * The SDK is an optional peer dependency, loaded only when an exporter is configured, after a
 * check that the installed line fits (2.x: Node ≥ 20, api 1.9; 3.x: Node ≥ 22.15, api 1.10).
 * Each signal's packages are loaded only when that signal is exported (`sdk-logs` and its
 * exporter are ~1–3 MB of a Prometheus-only setup's memory).
 * The same code runs on both lines: no SDK type crosses this module's boundary, severities are
 * numbers, and semantic-convention names are copied as constants (several are unstable).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { format } from 'node:util';
import type * as Api from '@opentelemetry/api';
import type * as SdkLogs from '@opentelemetry/sdk-logs';
import type * as SdkMetrics from '@opentelemetry/sdk-metrics';
import type * as Resources from '@opentelemetry/resources';
import type * as Prometheus from '@opentelemetry/exporter-prometheus';
import type {
  BlockContext,
  BlockEvent,
  HangEvent,
  LoopwatchEvent,
  MonitorStatus,
  StackFrame,
  TelemetrySettings,
} from '../types.js';
import type { LagStats } from './lag.js';
import { BlockAttributes, threadAttributes } from '../common/block-attributes.js';
import { instrumentOptions, METRICS, PROMETHEUS_NAMES } from '../common/metrics.js';
import { messageOf } from '../common/text.js';
import { packageVersion } from '../common/version.js';
import { culpritFrame } from '../common/frames.js';
import { type Sink, writeFully } from './sinks.js';
import { AlertBudget } from './alert-budget.js';

export { METRIC } from '../common/metrics.js';
export { MAX_CULPRITS, OTHER } from '../common/block-attributes.js';
export { BLOCK_BUCKETS_S } from '../common/metrics.js';

type Severity = NonNullable<Parameters<Logger['emit']>[0]['severityNumber']>;
// The logs data model's numbers. The enum itself is in @opentelemetry/api-logs, which is not a
// peer of loopwatch, so it is not loaded to read three constants.
// eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- the numbers above, typed as that enum
const SEVERITY: Readonly<Record<'INFO' | 'WARN' | 'ERROR', Severity>> = { INFO: 9, WARN: 13, ERROR: 17 };

/**
 * The app's process as its main thread sees it. The worker's own `process.argv` is its script's
 * and its `execArgv` is empty, so the SDK's process detector, run here, would describe the
 * monitor instead of the app.
 */
export interface AppProcess {
  readonly pid: number;
  readonly argv?: readonly string[];
  readonly execArgv?: readonly string[];
}

/** What the metrics read from the worker, at each collection. */
export interface TelemetryView {
  lag(): LagStats;
  utilization(): number;
  /** Cumulative seconds the loop spent busy and idle since the monitor started. */
  loopTime(): { readonly active: number; readonly idle: number };
  /** How long the block being reported has lasted, ms (0 when none). */
  blockedForMs(): number;
}

/** The SDK's packages; a signal's is there only when that signal is exported. */
interface Sdk {
  readonly api: typeof Api;
  readonly metrics: typeof SdkMetrics | undefined;
  readonly logs: typeof SdkLogs | undefined;
  readonly resources: typeof Resources;
}

/** The version of an installed package, found by walking up from its entry point. */
function installedVersion(name: string): string | undefined {
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch {
    return undefined;
  }
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    try {
      const json = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (json.name === name) return json.version;
    } catch {
      // not this one
    }
  }
  return undefined;
}

function nodeAtLeast(major: number, minor: number): boolean {
  const [a = 0, b = 0] = process.versions.node.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

/** The packages a configuration needs: each signal's only when it is exported. */
function packagesFor(settings: TelemetrySettings): string[] {
  const needed = ['@opentelemetry/api', '@opentelemetry/resources'];
  if (settings.metricsExporters.length > 0) needed.push('@opentelemetry/sdk-metrics');
  if (settings.logsExporters.length > 0) needed.push('@opentelemetry/sdk-logs');
  if (settings.metricsExporters.includes('otlp'))
    needed.push(
      settings.metricsProtocol === 'http/json'
        ? '@opentelemetry/exporter-metrics-otlp-http'
        : '@opentelemetry/exporter-metrics-otlp-proto',
    );
  if (settings.logsExporters.includes('otlp'))
    needed.push(
      settings.logsProtocol === 'http/json'
        ? '@opentelemetry/exporter-logs-otlp-http'
        : '@opentelemetry/exporter-logs-otlp-proto',
    );
  if (settings.metricsExporters.includes('prometheus')) needed.push('@opentelemetry/exporter-prometheus');
  return needed;
}

/**
 * Why the installed OpenTelemetry packages cannot be used here, with the command that fixes it;
 * undefined when they can.
 */
export function sdkProblem(
  settings: TelemetrySettings,
  version: (name: string) => string | undefined = installedVersion,
): string | undefined {
  const needed = packagesFor(settings);
  const line = nodeAtLeast(22, 15) ? 3 : 2;
  const install = `npm install ${needed.map((name) => `${name}@${pin(name, line)}`).join(' ')}`;
  const missing = needed.filter((name) => version(name) === undefined);
  if (missing.length > 0)
    return `OpenTelemetry export needs ${missing.join(', ')} (optional peer dependencies of loopwatch): ${install}`;
  const api = version('@opentelemetry/api') ?? '0.0.0';
  const [, apiMinor = 0] = api.split('.').map(Number);
  // The SDK packages of the signals exported, with their line (sdk-logs 0.2xx is the 2.x line).
  const sdks = ['@opentelemetry/sdk-metrics', '@opentelemetry/sdk-logs']
    .filter((name) => needed.includes(name))
    .map((name) => {
      const found = version(name) ?? '0.0.0';
      const line = name.endsWith('logs') && found.startsWith('0.') ? 2 : Number(found.split('.')[0]);
      return { name, found, line };
    });
  const [first, second] = sdks;
  if (first === undefined) return undefined;
  const sdk = `${first.name} ${first.found}`;
  if (second !== undefined && second.line !== first.line)
    return `${sdk} and ${second.name} ${second.found} are from different SDK lines: ${install}`;
  if (first.line === 3 && !nodeAtLeast(22, 15))
    return `${sdk} needs Node ≥ 22.15 (this is ${process.versions.node}); on this Node use the 2.x line: ${install}`;
  if (first.line === 3 && apiMinor < 10)
    return `${sdk} needs @opentelemetry/api ≥ 1.10 (found ${api}): npm install @opentelemetry/api@1.10`;
  if (first.line !== 2 && first.line !== 3) return `${sdk} is not supported (2.x or 3.x): ${install}`;
  return undefined;
}

function pin(name: string, line: 2 | 3): string {
  if (name === '@opentelemetry/api') return line === 3 ? '1.10' : '1.9';
  if (name.includes('exporter') || (line === 2 && name === '@opentelemetry/sdk-logs'))
    return line === 3 ? '0.301' : '0.223';
  return line === 3 ? '3' : '2';
}

function load(settings: TelemetrySettings, metricReaders: boolean): Sdk {
  return {
    api: require('@opentelemetry/api') as typeof Api,
    metrics:
      settings.metricsExporters.length > 0 || metricReaders
        ? (require('@opentelemetry/sdk-metrics') as typeof SdkMetrics)
        : undefined,
    logs: settings.logsExporters.length > 0 ? (require('@opentelemetry/sdk-logs') as typeof SdkLogs) : undefined,
    resources: require('@opentelemetry/resources') as typeof Resources,
  };
}

/** The context's attributes for a log record (the app's keys as given, then the span's name). */
function contextAttributes(context: BlockContext | undefined): Attributes {
  if (context === undefined) return {};
  const out: Attributes = {};
  for (const [key, value] of Object.entries(context.attributes ?? {}))
    out[key] = typeof value === 'boolean' ? String(value) : value;
  if (context.spanName !== undefined) out['loopwatch.span.name'] = context.spanName;
  if (context.error !== undefined) out['loopwatch.context.error'] = context.error;
  return out;
}

/** V8's format: one `    at fn (file:line:col)` line per frame. */
export function v8Stack(stack: readonly StackFrame[]): string {
  return stack
    .map(
      (f) =>
        `${f.skipped === undefined ? '' : `    ... ${f.skipped} frames skipped\n`}    at ${f.async === true ? 'async ' : ''}${f.function} (${f.file}${f.line > 0 ? `:${f.line}:${f.column}` : ''})`,
    )
    .join('\n');
}

/**
 * The resource: the SDK's own detectors (env, host, process), as `sdk-node` runs them, with the
 * process's command line from the main thread, then loopwatch's instance id and settings.
 *
 * `service.instance.id` is a UUID per process unless `OTEL_RESOURCE_ATTRIBUTES` (or
 * `otel.resourceAttributes`) sets one: that is how it matches the app's own SDK, which reads the
 * same variable. A value the app's SDK makes up in code cannot be read from here (this thread has
 * its own module instances); pass it with `start({ otel: { resourceAttributes } })`.
 */
function appResource(
  resources: typeof Resources,
  settings: TelemetrySettings,
  app: AppProcess,
): ReturnType<typeof Resources.resourceFromAttributes> {
  const { defaultResource, detectResources, envDetector, hostDetector, processDetector, resourceFromAttributes } =
    resources;
  const detected = defaultResource().merge(
    detectResources({ detectors: [envDetector, hostDetector, processDetector] }),
  );
  const argv = app.argv ?? [];
  const command =
    argv.length === 0
      ? {}
      : {
          'process.command_args': [argv[0] ?? '', ...(app.execArgv ?? []), ...argv.slice(1)],
          ...(argv[1] === undefined ? {} : { 'process.command': argv[1] }),
        };
  return detected.merge(
    resourceFromAttributes({
      'service.instance.id': randomUUID(),
      'process.pid': app.pid,
      ...command,
      ...settings.resourceAttributes,
      ...(settings.serviceName === undefined ? {} : { 'service.name': settings.serviceName }),
    }),
  );
}

/**
 * Where the SDK's own diagnostics go. The worker has its own copy of the api module, so this
 * logger sees loopwatch's exporters only. Without `OTEL_LOG_LEVEL`: export failures (the only
 * way the SDK reports them) become one warning, not one a minute. With it: every message at that
 * level or above, one `loopwatch: otel <level>:` line each, written from this thread so that it
 * is out while the main thread is blocked.
 */
function setDiagLogger(
  api: typeof Api,
  settings: TelemetrySettings,
  warn: (key: string, message: string) => void,
): void {
  const level = settings.logLevel ?? 'WARN';
  const targets = [
    ...(settings.metricsExporters.includes('otlp') ? [settings.metricsEndpoint] : []),
    ...(settings.logsExporters.includes('otlp') ? [settings.logsEndpoint] : []),
  ];
  const failed = (message: string, ...args: unknown[]): void =>
    warn(
      'otel-export',
      `OpenTelemetry export${targets.length > 0 ? ` to ${targets.join(', ')}` : ''} failed (reported once; the app is not affected): ${format(message, ...args)}`,
    );
  const line =
    (name: string) =>
    (message: string, ...args: unknown[]): void => {
      try {
        writeFully(2, `loopwatch: otel ${name}: ${format(message, ...args)}\n`);
      } catch {
        // stderr is gone
      }
    };
  const verbose = level === 'INFO' || level === 'DEBUG' || level === 'VERBOSE' || level === 'ALL';
  api.diag.setLogger(
    verbose
      ? { error: line('error'), warn: line('warn'), info: line('info'), debug: line('debug'), verbose: line('verbose') }
      : { error: failed, warn: failed, info: () => undefined, debug: () => undefined, verbose: () => undefined },
    api.DiagLogLevel[level],
  );
}

type Attributes = Record<string, string | number>;
type Logger = ReturnType<SdkLogs.LoggerProvider['getLogger']>;
type Counter = ReturnType<ReturnType<SdkMetrics.MeterProvider['getMeter']>['createCounter']>;
type Histogram = ReturnType<ReturnType<SdkMetrics.MeterProvider['getMeter']>['createHistogram']>;
type Resource = ReturnType<typeof Resources.resourceFromAttributes>;

/** loopwatch's metric instruments and their provider. */
interface Instruments {
  readonly provider: SdkMetrics.MeterProvider;
  readonly blocks: Counter;
  readonly duration: Histogram;
  readonly captures: Counter;
  readonly hangs: Counter;
  readonly suppressed: Counter;
}

/** The log record processors and exporters configured, the provider and loopwatch's logger. */
function logsPipeline(
  logs: typeof SdkLogs,
  resource: Resource,
  settings: TelemetrySettings,
): { readonly provider: SdkLogs.LoggerProvider; readonly logger: Logger } {
  const processors: SdkLogs.LogRecordProcessor[] = [];
  for (const kind of settings.logsExporters) {
    if (kind === 'otlp') {
      const { OTLPLogExporter } = (
        settings.logsProtocol === 'http/json'
          ? require('@opentelemetry/exporter-logs-otlp-http')
          : require('@opentelemetry/exporter-logs-otlp-proto')
      ) as typeof import('@opentelemetry/exporter-logs-otlp-proto');
      const exporter = new OTLPLogExporter({
        url: settings.logsEndpoint,
        headers: { ...settings.logsHeaders },
        timeoutMillis: settings.logsTimeoutMs,
      });
      // Bounded: with the collector down, records beyond the queue are dropped, not kept.
      const batch = settings.logBatch;
      processors.push(
        new logs.BatchLogRecordProcessor({
          exporter,
          scheduledDelayMillis: batch.scheduleDelayMs,
          maxQueueSize: batch.maxQueueSize,
          maxExportBatchSize: batch.maxExportBatchSize,
          exportTimeoutMillis: batch.exportTimeoutMs,
        }),
      );
    } else {
      processors.push(new logs.SimpleLogRecordProcessor({ exporter: new logs.ConsoleLogRecordExporter() }));
    }
  }
  const provider = new logs.LoggerProvider({ resource, processors });
  return { provider, logger: provider.getLogger('loopwatch', packageVersion()) };
}

export class Telemetry implements Sink {
  readonly name = 'OpenTelemetry';
  readonly #settings: TelemetrySettings;
  #prometheusUrl: string | undefined;
  /** Undefined when no metrics are exported. */
  readonly #metrics: Instruments | undefined;
  /** Undefined when no logs are exported. */
  readonly #logs: { readonly provider: SdkLogs.LoggerProvider; readonly logger: Logger } | undefined;
  readonly #attributes = new BlockAttributes();
  readonly #ready: Promise<void>;
  readonly #api: typeof Api;
  readonly #warn: (key: string, message: string) => void;
  readonly #now: () => number;
  readonly #budget: AlertBudget;
  /** Fires when a storm of held-back alerts may be over, to sum it up (unref'd). */
  #stormTimer: NodeJS.Timeout | undefined;

  /**
   * @param readers extra metric readers (tests pass a pull reader).
   * @param warn reports a problem once per key.
   */
  constructor(
    settings: TelemetrySettings,
    view: TelemetryView,
    app: AppProcess,
    warn: (key: string, message: string) => void,
    sdk?: Sdk,
    readers: SdkMetrics.IMetricReader[] = [],
    now: () => number = Date.now,
  ) {
    this.#settings = settings;
    this.#warn = warn;
    this.#now = now;
    this.#budget = new AlertBudget(settings.maxAlertsPerMinute, now());
    const { api, metrics, logs, resources } = sdk ?? load(settings, readers.length > 0);
    this.#api = api;
    setDiagLogger(api, settings, warn);
    const resource = appResource(resources, settings, app);

    const starting: Promise<void>[] = [];
    this.#metrics =
      metrics === undefined ? undefined : this.#metricsPipeline(metrics, resource, view, readers, starting);
    this.#ready = Promise.all(starting).then(() => undefined);

    this.#logs = logs === undefined ? undefined : logsPipeline(logs, resource, settings);
  }

  /** The metric readers and exporters configured, the provider and loopwatch's instruments. */
  #metricsPipeline(
    metrics: typeof SdkMetrics,
    resource: Resource,
    view: TelemetryView,
    readers: readonly SdkMetrics.IMetricReader[],
    starting: Promise<void>[],
  ): Instruments {
    const settings = this.#settings;
    const warn = this.#warn;
    const allReaders: SdkMetrics.IMetricReader[] = [...readers];
    for (const kind of settings.metricsExporters) {
      if (kind === 'otlp') {
        const { OTLPMetricExporter } = (
          settings.metricsProtocol === 'http/json'
            ? require('@opentelemetry/exporter-metrics-otlp-http')
            : require('@opentelemetry/exporter-metrics-otlp-proto')
        ) as typeof import('@opentelemetry/exporter-metrics-otlp-proto');
        const exporter = new OTLPMetricExporter({
          url: settings.metricsEndpoint,
          headers: { ...settings.metricsHeaders },
          timeoutMillis: settings.metricsTimeoutMs,
        });
        allReaders.push(
          new metrics.PeriodicExportingMetricReader({
            exporter,
            exportIntervalMillis: settings.exportIntervalMs,
            exportTimeoutMillis: settings.metricExportTimeoutMs,
          }),
        );
      } else if (kind === 'prometheus') {
        const { PrometheusExporter } = require('@opentelemetry/exporter-prometheus') as typeof Prometheus;
        const Exporter = withPrometheusNames(PrometheusExporter);
        // Started by hand: a port in use must become one warning, not a diag message.
        const exporter = new Exporter({
          host: settings.prometheusHost,
          port: settings.prometheusPort,
          preventServerStart: true,
        });
        // The exporter reads its port with `||`, so 0 ("any free port") became its default 9464
        // (seen with exporter-prometheus 0.223): twenty processes asking for any port fought
        // over one. Its field is set back; `_server` below is read the same way.
        if (settings.prometheusPort === 0) (exporter as unknown as { _port: number })._port = 0;
        allReaders.push(exporter);
        const shown = settings.prometheusHost.includes(':') ? `[${settings.prometheusHost}]` : settings.prometheusHost;
        starting.push(
          exporter.startServer().then(
            () => {
              // Port 0 asks for any free port: say which one it got (the exporter keeps its server private).
              const bound = (exporter as unknown as { _server?: { address(): unknown } })._server?.address();
              const port =
                typeof bound === 'object' && bound !== null && 'port' in bound
                  ? (bound as { port: number }).port
                  : settings.prometheusPort;
              this.#prometheusUrl = `http://${shown}:${port}/metrics`;
            },
            (error: unknown) => {
              this.#prometheusUrl = undefined;
              warn(
                'prometheus',
                `cannot serve Prometheus metrics on ${settings.prometheusHost}:${settings.prometheusPort}: ${(error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'the port is already in use' : messageOf(error)}; the app runs on without them`,
              );
            },
          ),
        );
      } else {
        allReaders.push(
          new metrics.PeriodicExportingMetricReader({
            exporter: new metrics.ConsoleMetricExporter(),
            exportIntervalMillis: settings.exportIntervalMs,
          }),
        );
      }
    }
    const provider = new metrics.MeterProvider({ resource, readers: allReaders });
    const meter = provider.getMeter('loopwatch', packageVersion());
    const seconds = (ms: number): number => ms / 1000;
    const lag = meter.createObservableGauge(METRICS.delayP99.name, instrumentOptions(METRICS.delayP99));
    const delays = [
      [lag, 'p99Ms'],
      [meter.createObservableGauge(METRICS.delayMin.name, instrumentOptions(METRICS.delayMin)), 'minMs'],
      [meter.createObservableGauge(METRICS.delayMax.name, instrumentOptions(METRICS.delayMax)), 'maxMs'],
      [meter.createObservableGauge(METRICS.delayMean.name, instrumentOptions(METRICS.delayMean)), 'meanMs'],
      [meter.createObservableGauge(METRICS.delayStddev.name, instrumentOptions(METRICS.delayStddev)), 'stddevMs'],
      [meter.createObservableGauge(METRICS.delayP50.name, instrumentOptions(METRICS.delayP50)), 'p50Ms'],
      [meter.createObservableGauge(METRICS.delayP90.name, instrumentOptions(METRICS.delayP90)), 'p90Ms'],
    ] as const;
    meter.addBatchObservableCallback(
      (result) => {
        const stats = view.lag();
        for (const [gauge, field] of delays) result.observe(gauge, seconds(stats[field]));
      },
      delays.map(([gauge]) => gauge),
    );
    meter
      .createObservableGauge(METRICS.utilization.name, instrumentOptions(METRICS.utilization))
      .addCallback((result) => result.observe(view.utilization()));
    meter.createObservableCounter(METRICS.time.name, instrumentOptions(METRICS.time)).addCallback((result) => {
      const time = view.loopTime();
      result.observe(time.active, { 'nodejs.eventloop.state': 'active' });
      result.observe(time.idle, { 'nodejs.eventloop.state': 'idle' });
    });
    meter
      .createObservableGauge(METRICS.blockCurrent.name, instrumentOptions(METRICS.blockCurrent))
      .addCallback((result) => result.observe(seconds(view.blockedForMs())));
    return {
      provider,
      blocks: meter.createCounter(METRICS.blocks.name, instrumentOptions(METRICS.blocks)),
      duration: meter.createHistogram(METRICS.blockDuration.name, instrumentOptions(METRICS.blockDuration)),
      captures: meter.createCounter(METRICS.captures.name, instrumentOptions(METRICS.captures)),
      hangs: meter.createCounter(METRICS.hangs.name, instrumentOptions(METRICS.hangs)),
      suppressed: meter.createCounter(METRICS.alertsSuppressed.name, instrumentOptions(METRICS.alertsSuppressed)),
    };
  }

  /** What runs, for `monitor.ready` (after `ready()`, the Prometheus URL only if it listens). */
  get status(): NonNullable<MonitorStatus['telemetry']> {
    return {
      metrics: [...this.#settings.metricsExporters],
      logs: [...this.#settings.logsExporters],
      prometheusUrl: this.#prometheusUrl,
    };
  }

  /** Resolves once the Prometheus endpoint listens (or failed to, with a warning). */
  ready(): Promise<void> {
    return this.#ready;
  }

  write(event: LoopwatchEvent): void {
    if (event.type === 'hang') {
      this.#hang(event);
      return;
    }
    // A block found only after it ended (before the monitor was armed) is counted when it ends.
    const first = event.state === 'ongoing' || event.beforeArmed === true;
    const metrics = this.#metrics;
    if (metrics !== undefined) {
      if (first) metrics.blocks.add(1, this.#attributes.of(event));
      if (event.state === 'ended') {
        metrics.duration.record(event.durationMs / 1000, this.#attributes.of(event));
        metrics.captures.add(1, { 'loopwatch.stack.timing': event.stackTiming });
      }
    }
    if (this.#logs === undefined) return;
    if (this.#budget.block(this.#now(), `${event.thread}:${event.id}`, event.state, first)) this.#alert(event);
    else this.#heldBack('loopwatch.block');
  }

  /** An alert record not exported (over maxAlertsPerMinute): counted now, summed up later. */
  #heldBack(eventName: 'loopwatch.block' | 'loopwatch.hang'): void {
    this.#metrics?.suppressed.add(1, { 'loopwatch.alert.event': eventName });
    const at = this.#budget.stormEndsAt();
    if (at === undefined || this.#stormTimer !== undefined) return;
    this.#stormTimer = setTimeout(() => this.#stormCheck(), Math.max(0, at - this.#now()));
    this.#stormTimer.unref();
  }

  /** Sums the storm up once it is over (or now, with `force`), else looks again when it may be. */
  #stormCheck(force = false): void {
    this.#stormTimer = undefined;
    const storm = this.#budget.storm(this.#now(), force);
    if (storm === undefined) {
      const at = this.#budget.stormEndsAt();
      if (at !== undefined && !force) {
        this.#stormTimer = setTimeout(() => this.#stormCheck(), Math.max(0, at - this.#now()));
        this.#stormTimer.unref();
      }
      return;
    }
    const from = new Date(storm.firstAt).toISOString();
    const to = new Date(storm.lastAt).toISOString();
    const limit = this.#budget.perMinute;
    const text = `${storm.suppressed} alert log records were not exported from ${from} to ${to}: over maxAlertsPerMinute (${limit}); every block is still counted in the metrics`;
    this.#logs?.logger.emit({
      eventName: 'loopwatch.alerts.suppressed',
      severityNumber: SEVERITY.WARN,
      severityText: 'WARN',
      body: text,
      attributes: {
        'loopwatch.alerts.suppressed': storm.suppressed,
        'loopwatch.alerts.limit': limit,
        'loopwatch.alerts.first': from,
        'loopwatch.alerts.last': to,
      },
    });
    // One stderr line too, for whoever reads the process's output rather than the backend.
    this.#warn(`alert-storm:${storm.firstAt}`, text);
  }

  #alert(event: BlockEvent): void {
    const logs = this.#logs;
    if (logs === undefined) return;
    const ongoing = event.state === 'ongoing';
    const culprit = event.culprit;
    // A late stack may name code that ran after the culprit: kept in the attributes (with its
    // source), not written into the body as the culprit.
    const trusted = culprit?.source === 'late' ? undefined : culprit;
    const where = trusted === undefined ? '' : ` in ${trusted.function} (${trusted.file}:${trusted.line})`;
    logs.logger.emit({
      ...this.#traceContext(event.context),
      eventName: 'loopwatch.block',
      severityNumber: ongoing ? SEVERITY.WARN : SEVERITY.INFO,
      severityText: ongoing ? 'WARN' : 'INFO',
      body: ongoing
        ? `event loop blocked for ${Math.round(event.durationMs)} ms so far (threshold ${event.thresholdMs} ms)${where}`
        : `event loop block ended after ${Math.round(event.durationMs)} ms${where}`,
      attributes: {
        ...contextAttributes(event.context),
        ...threadAttributes(event),
        'loopwatch.block.id': event.id,
        'loopwatch.block.state': event.state,
        'loopwatch.block.phase': event.phase,
        'loopwatch.block.duration': event.durationMs / 1000,
        'loopwatch.block.threshold': event.thresholdMs / 1000,
        'loopwatch.stack.timing': event.stackTiming,
        ...(culprit === undefined
          ? {}
          : {
              'code.function.name': culprit.function,
              'code.file.path': culprit.file,
              'code.line.number': culprit.line,
              'code.column.number': culprit.column,
              'code.stacktrace': v8Stack(
                culprit.source === 'profile' && event.profile !== undefined ? event.profile.stack : event.stack,
              ),
              'loopwatch.culprit.source': culprit.source,
            }),
      },
    });
    // The alert must leave while the block lasts: do not wait for the batch delay.
    if (ongoing) void logs.provider.forceFlush().catch(() => undefined);
  }

  #hang(event: HangEvent): void {
    this.#metrics?.hangs.add(1, { 'loopwatch.hang.reason': event.reason, 'loopwatch.hang.action': event.action });
    const logs = this.#logs;
    if (logs === undefined) return;
    if (!this.#budget.other(this.#now())) {
      this.#heldBack('loopwatch.hang');
      return;
    }
    const culprit = culpritFrame(event.stack);
    logs.logger.emit({
      ...this.#traceContext(event.context),
      eventName: 'loopwatch.hang',
      severityNumber: SEVERITY.ERROR,
      severityText: 'ERROR',
      body:
        event.reason === 'block'
          ? `event loop blocked for ${Math.round(event.blockedMs)} ms (hang limit ${event.limitMs} ms)`
          : `process did not exit within ${event.limitMs} ms`,
      attributes: {
        ...contextAttributes(event.context),
        ...threadAttributes(event),
        'loopwatch.hang.reason': event.reason,
        'loopwatch.hang.action': event.action,
        'loopwatch.hang.limit': event.limitMs / 1000,
        'loopwatch.block.duration': event.blockedMs / 1000,
        ...(event.blockId === undefined ? {} : { 'loopwatch.block.id': event.blockId }),
        ...(culprit === undefined
          ? {}
          : {
              'code.function.name': culprit.function,
              'code.file.path': culprit.file,
              'code.line.number': culprit.line,
              'code.stacktrace': v8Stack(event.stack),
            }),
      },
    });
  }

  /**
   * The blocked request's span as the record's trace context, so a backend links the alert to
   * the trace that caused it.
   */
  #traceContext(context: BlockContext | undefined): { context?: Api.Context } {
    if (context?.traceId === undefined || context.spanId === undefined) return {};
    const { trace, ROOT_CONTEXT } = this.#api;
    return {
      context: trace.setSpanContext(ROOT_CONTEXT, {
        traceId: context.traceId,
        spanId: context.spanId,
        traceFlags: context.traceFlags ?? 1,
        isRemote: true,
      }),
    };
  }

  /** Hands everything buffered to the exporters (the caller bounds the wait). */
  async flush(): Promise<void> {
    await Promise.allSettled([this.#logs?.provider.forceFlush(), this.#metrics?.provider.forceFlush()]);
  }

  /** Exports what is left and stops (the caller bounds the wait). */
  async shutdown(): Promise<void> {
    // A storm still going on at exit is summed up with what it held back so far.
    if (this.#stormTimer !== undefined) {
      clearTimeout(this.#stormTimer);
      this.#stormCheck(true);
    }
    await Promise.allSettled([this.#logs?.provider.shutdown(), this.#metrics?.provider.shutdown()]);
  }

  close(): void {
    void this.shutdown();
  }
}

type CollectionResult = Awaited<ReturnType<SdkMetrics.MetricReader['collect']>>;

/**
 * The SDK's Prometheus exporter, serving the names the Collector's Prometheus exporter writes
 * (`loopwatch_block_duration_seconds`, `nodejs_eventloop_utilization_ratio`, …; see
 * `prometheusName()`), so that one dashboard and one rule set read every path. The exporter has
 * no option for unit suffixes, and a view would rename the instruments for the OTLP reader too:
 * this reader renames only what it collects, in copies (the descriptors are shared between
 * readers). Every version of the exporter serves a scrape through `this.collect()`.
 */
function withPrometheusNames(Base: typeof Prometheus.PrometheusExporter): typeof Prometheus.PrometheusExporter {
  return class extends Base {
    override async collect(options?: Parameters<SdkMetrics.MetricReader['collect']>[0]): Promise<CollectionResult> {
      const result = await super.collect(options);
      return {
        ...result,
        resourceMetrics: {
          ...result.resourceMetrics,
          scopeMetrics: result.resourceMetrics.scopeMetrics.map((scope) => ({
            ...scope,
            metrics: scope.metrics.map((metric) => {
              const name = PROMETHEUS_NAMES.get(metric.descriptor.name);
              return name === undefined ? metric : { ...metric, descriptor: { ...metric.descriptor, name } };
            }),
          })),
        },
      };
    }
  };
}

/** Packages that every OpenTelemetry SDK package depends on: more than one copy loaded means mismatched versions. */
const SHARED_PACKAGES = ['@opentelemetry/core', '@opentelemetry/otlp-transformer'] as const;

/**
 * The shared OpenTelemetry packages of which more than one copy is loaded, from the paths of the
 * loaded modules (`require.cache`): npm nests a private copy under each package whose pinned
 * version differs from the top-level one. Each copy is loaded and kept on the monitor's thread
 * (measured: 642 modules for OTLP metrics and logs instead of 297; 2.7 MB more RSS on Node 20,
 * 5 MB on Node 24).
 */
export function duplicateCopies(paths: readonly string[]): { name: string; copies: number }[] {
  const found: { name: string; copies: number }[] = [];
  const normalized = paths.map((path) => path.replaceAll('\\', '/'));
  for (const name of SHARED_PACKAGES) {
    const marker = `/node_modules/${name}/`;
    const roots = new Set<string>();
    for (const path of normalized) {
      const at = path.lastIndexOf(marker);
      if (at >= 0) roots.add(path.slice(0, at));
    }
    if (roots.size > 1) found.push({ name, copies: roots.size });
  }
  return found;
}

/**
 * Builds the pipeline, or reports once why it cannot (missing or mismatched packages) and
 * returns undefined: a telemetry problem never stops the app or the monitor.
 *
 * Loading the SDK holds this thread for hundreds of milliseconds (~0.3–0.5 s on a loaded
 * 2-core machine, 25–140 ms a package), and the watchdog is already armed on it: the packages
 * are loaded one at a time, with the loop let through between them, so that the watchdog's
 * timer waits for one package at most, never for the whole SDK.
 */
export async function startTelemetry(
  settings: TelemetrySettings,
  view: TelemetryView,
  app: AppProcess,
  warn: (key: string, message: string) => void,
): Promise<Telemetry | undefined> {
  const problem = sdkProblem(settings);
  if (problem !== undefined) {
    warn('otel', problem);
    return undefined;
  }
  try {
    for (const name of packagesFor(settings)) {
      require(name);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const copies = duplicateCopies(Object.keys(require.cache));
    if (copies.length > 0)
      warn(
        'otel-copies',
        `${copies.map((c) => `${c.copies} copies of ${c.name}`).join(' and ')} are loaded: the @opentelemetry packages are at mismatched versions, and each copy costs memory on the monitor's thread. Export works; to align them, install the SDK and exporter packages at versions of one release (\`npm ls ${copies[0]?.name ?? '@opentelemetry/core'}\` shows who brings each copy)`,
      );
    return new Telemetry(settings, view, app, warn);
  } catch (error) {
    warn('otel', `OpenTelemetry export could not start: ${messageOf(error)}`);
    return undefined;
  }
}
