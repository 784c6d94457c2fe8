/**
 * OpenTelemetry settings: the standard `OTEL_*` variables, read by loopwatch itself because it
 * builds its own providers in the monitor worker (the JS SDK reads most of them only in
 * `sdk-node`), overridden by `start({ otel })`. Validated eagerly, on the main thread, so a
 * bad value stops start-up with a message naming the variable.
 */
import { LoopwatchError } from './errors.js';
import type {
  LogBatchSettings,
  MetricsExporterKind,
  LogsExporterKind,
  OtelLogLevel,
  OtelOptions,
  OtlpProtocol,
  TelemetrySettings,
} from './types.js';
import { mustBe } from './common/text.js';
import { isObject } from './common/guards.js';

const METRICS_EXPORTERS: readonly MetricsExporterKind[] = ['otlp', 'prometheus', 'console'];
const LOGS_EXPORTERS: readonly LogsExporterKind[] = ['otlp', 'console'];
const PROTOCOLS: readonly OtlpProtocol[] = ['http/protobuf', 'http/json'];
/** The specification's default: a minute. Lower it (5–10 s) to see the loop live on dashboards. */
export const DEFAULT_EXPORT_INTERVAL_MS = 60_000;
export const DEFAULT_PROMETHEUS_PORT = 9464;
export const DEFAULT_PROMETHEUS_HOST = 'localhost';
export const DEFAULT_OTLP_ENDPOINT = 'http://localhost:4318';
/**
 * One OTLP request's timeout, and a whole export's. Shorter than the specification's 10 s and
 * 30 s: while an export to a collector that does not answer is pending, the next alerts can only
 * wait in the queue, and an alert is worth sending only while its block is news.
 */
export const DEFAULT_OTLP_TIMEOUT_MS = 5000;
/**
 * The batch log processor's defaults (the specification's: 5000 ms, 30000 ms, 2048, 512). The
 * alert that a block is ongoing is flushed at once anyway; a 200 ms delay sends the rest of a
 * burst together. 512 queued records (about 1 MB of alerts with stacks) is what a process keeps
 * for a collector that is down; the rest are dropped, not kept.
 */
export const DEFAULT_LOG_BATCH: LogBatchSettings = Object.freeze({
  scheduleDelayMs: 200,
  exportTimeoutMs: DEFAULT_OTLP_TIMEOUT_MS,
  maxQueueSize: 512,
  maxExportBatchSize: 512,
});
/**
 * Alert log records a process exports per minute. One block is two records (ongoing, ended):
 * 60 lets 30 blocks a minute through, one every 2 s, which is already more than a person reads;
 * at 1.4 KB a record (measured, bench/otlp-bytes.mjs, docs/fleet.md) a saturated process then
 * sends ~84 KB of alerts a minute instead of ~900 KB (at 360 blocks a minute, and more the more
 * it blocks): 0.84 GB a minute over 10,000 processes instead of 9 GB.
 */
export const DEFAULT_MAX_ALERTS_PER_MINUTE = 60;
const LOG_LEVELS: readonly OtelLogLevel[] = ['NONE', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'VERBOSE', 'ALL'];
const KNOWN = new Set([
  'disabled',
  'serviceName',
  'resourceAttributes',
  'metricsExporter',
  'logsExporter',
  'endpoint',
  'metricsEndpoint',
  'logsEndpoint',
  'protocol',
  'headers',
  'exportIntervalMs',
  'prometheusHost',
  'prometheusPort',
  'maxAlertsPerMinute',
]);

type Env = Readonly<Record<string, string | undefined>>;

function envError(variable: string, value: string, expected: string): never {
  throw new LoopwatchError('ERR_LOOPWATCH_INVALID_ENV', mustBe(variable, expected, JSON.stringify(value)));
}

function optionError(option: string, value: unknown, expected: string): never {
  const shown =
    typeof value === 'string'
      ? JSON.stringify(value)
      : typeof value === 'object' && value !== null
        ? 'an object'
        : String(value);
  throw new LoopwatchError('ERR_LOOPWATCH_INVALID_OPTION', mustBe(`\`otel.${option}\``, expected, shown));
}

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** `k=v,k2=v2` with percent-encoded values (W3C Baggage style, as the specification says). */
function keyValues(variable: string, text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? '' : part.slice(0, eq).trim();
    if (key === '') envError(variable, text, 'a comma-separated list of key=value pairs');
    try {
      out[key] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      envError(variable, text, 'a comma-separated list of key=value pairs with percent-encoded values');
    }
  }
  return out;
}

function exporters<T extends string>(variable: string, text: string, allowed: readonly T[]): T[] {
  const kinds = text
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  for (const kind of kinds) {
    if (kind !== 'none' && !allowed.includes(kind as T))
      envError(variable, text, `a comma-separated list of ${[...allowed, 'none'].join(', ')}`);
  }
  return kinds.includes('none') ? [] : [...new Set(kinds as T[])];
}

function url(source: string, value: string, isOption: boolean): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(value);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    if (isOption) optionError(source, value, 'an http:// or https:// URL');
    envError(source, value, 'an http:// or https:// URL');
  }
  return value;
}

/**
 * A positive number from an `OTEL_*` variable, or undefined when unset. Anything else is, as in
 * the OpenTelemetry SDK, a warning and the default (undefined): these tune the export, and a
 * typo in one must not stop the app.
 */
function positive(env: Env, variable: string, warnings: string[], fallback: string, whole = false): number | undefined {
  const text = read(env, variable);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (Number.isFinite(value) && value > 0 && (!whole || Number.isInteger(value))) return value;
  warnings.push(
    `${mustBe(variable, whole ? 'a whole number greater than 0' : 'a number greater than 0', JSON.stringify(text))}; using ${fallback}`,
  );
  return undefined;
}

function logBatch(env: Env, warnings: string[]): LogBatchSettings {
  const d = DEFAULT_LOG_BATCH;
  const maxQueueSize = positive(env, 'OTEL_BLRP_MAX_QUEUE_SIZE', warnings, String(d.maxQueueSize), true);
  const queue = maxQueueSize ?? d.maxQueueSize;
  let batch =
    positive(env, 'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE', warnings, String(d.maxExportBatchSize), true) ??
    Math.min(d.maxExportBatchSize, queue);
  if (batch > queue) {
    warnings.push(
      `OTEL_BLRP_MAX_EXPORT_BATCH_SIZE (${batch}) is greater than OTEL_BLRP_MAX_QUEUE_SIZE (${queue}); using ${queue}`,
    );
    batch = queue;
  }
  return Object.freeze({
    scheduleDelayMs:
      positive(env, 'OTEL_BLRP_SCHEDULE_DELAY', warnings, `${d.scheduleDelayMs} ms`) ?? d.scheduleDelayMs,
    exportTimeoutMs:
      positive(env, 'OTEL_BLRP_EXPORT_TIMEOUT', warnings, `${d.exportTimeoutMs} ms`) ?? d.exportTimeoutMs,
    maxQueueSize: queue,
    maxExportBatchSize: batch,
  });
}

/** The signal's own timeout variable first, then the shared one, as the OTLP exporters read them. */
function requestTimeout(env: Env, signal: 'METRICS' | 'LOGS', warnings: string[]): number {
  const fallback = `${DEFAULT_OTLP_TIMEOUT_MS} ms`;
  return (
    positive(env, `OTEL_EXPORTER_OTLP_${signal}_TIMEOUT`, warnings, `OTEL_EXPORTER_OTLP_TIMEOUT or ${fallback}`) ??
    positive(env, 'OTEL_EXPORTER_OTLP_TIMEOUT', warnings, fallback) ??
    DEFAULT_OTLP_TIMEOUT_MS
  );
}

function logLevel(env: Env, warnings: string[]): OtelLogLevel | undefined {
  const text = read(env, 'OTEL_LOG_LEVEL');
  if (text === undefined) return undefined;
  const level = text.toUpperCase() as OtelLogLevel;
  if (LOG_LEVELS.includes(level)) return level;
  // The SDK's own fallback for an unknown level.
  warnings.push(`${mustBe('OTEL_LOG_LEVEL', `one of ${LOG_LEVELS.join(', ')}`, JSON.stringify(text))}; using INFO`);
  return 'INFO';
}

function maxAlerts(env: Env, option: unknown): number {
  const text = read(env, 'LOOPWATCH_MAX_ALERTS_PER_MINUTE');
  if (option === undefined && text === undefined) return DEFAULT_MAX_ALERTS_PER_MINUTE;
  const value = option ?? (/^\d+$/.test(text ?? '') ? Number(text) : NaN);
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 1_000_000) return value;
  if (option !== undefined) optionError('maxAlertsPerMinute', option, 'an integer from 0 to 1000000');
  envError('LOOPWATCH_MAX_ALERTS_PER_MINUTE', text ?? '', 'a whole number from 0 to 1000000');
}

function withPath(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

/**
 * The telemetry settings in force, or undefined when nothing is to be exported. Throws
 * `LoopwatchError` for an invalid variable (`ERR_LOOPWATCH_INVALID_ENV`) or option
 * (`ERR_LOOPWATCH_INVALID_OPTION`). `warnings` collects what is valid but not supported
 * (OTLP over gRPC), for the caller to report once.
 */
export function resolveTelemetry(
  env: Env,
  input: OtelOptions | undefined,
  warnings: string[] = [],
): TelemetrySettings | undefined {
  if (input !== undefined && (!isObject(input) || Array.isArray(input))) optionError('', input, 'an object');
  for (const key of Object.keys(input ?? {})) {
    if (!KNOWN.has(key))
      throw new LoopwatchError(
        'ERR_LOOPWATCH_INVALID_OPTION',
        `unknown option \`otel.${key}\`; known options are ${[...KNOWN].join(', ')}`,
      );
  }
  const o: OtelOptions = input ?? {};
  // Checked even when nothing is exported: an invalid LOOPWATCH_* variable stops start-up.
  const maxAlertsPerMinute = maxAlerts(env, o.maxAlertsPerMinute);

  const disabledText = read(env, 'OTEL_SDK_DISABLED');
  if (disabledText !== undefined && !/^(true|false)$/i.test(disabledText))
    envError('OTEL_SDK_DISABLED', disabledText, '"true" or "false"');
  const disabled = o.disabled ?? disabledText?.toLowerCase() === 'true';
  if (typeof disabled !== 'boolean') optionError('disabled', disabled, 'true or false');
  if (disabled) return undefined;

  // Endpoints: the signal's own, else the base one with the signal's path.
  const base = o.endpoint ?? read(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (base !== undefined)
    url(o.endpoint === undefined ? 'OTEL_EXPORTER_OTLP_ENDPOINT' : 'endpoint', base, o.endpoint !== undefined);
  const signal = (option: 'metricsEndpoint' | 'logsEndpoint', variable: string, path: string): string | undefined => {
    const own = o[option] ?? read(env, variable);
    if (own !== undefined) return url(o[option] === undefined ? variable : option, own, o[option] !== undefined);
    return base === undefined ? undefined : withPath(base, path);
  };
  const metricsEndpoint = signal('metricsEndpoint', 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', '/v1/metrics');
  const logsEndpoint = signal('logsEndpoint', 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT', '/v1/logs');

  // Exporters: none unless asked for, or unless an OTLP endpoint is set.
  const pick = <T extends string>(
    option: 'metricsExporter' | 'logsExporter',
    variable: string,
    allowed: readonly T[],
    endpoint: string | undefined,
  ): T[] => {
    const given = o[option] as readonly string[] | string | undefined;
    if (given !== undefined) {
      const list = typeof given === 'string' ? [given] : given;
      if (!Array.isArray(list) || list.some((k) => k !== 'none' && !allowed.includes(k as T))) {
        optionError(
          option,
          given,
          `one of ${[...allowed, 'none'].map((k) => `"${k}"`).join(', ')}, or an array of them`,
        );
      }
      return list.includes('none') ? [] : [...new Set(list as T[])];
    }
    const text = read(env, variable);
    if (text !== undefined) return exporters(variable, text, allowed);
    return endpoint === undefined ? [] : (['otlp'] as T[]);
  };
  let metrics = pick('metricsExporter', 'OTEL_METRICS_EXPORTER', METRICS_EXPORTERS, metricsEndpoint);
  let logs = pick('logsExporter', 'OTEL_LOGS_EXPORTER', LOGS_EXPORTERS, logsEndpoint);

  const protocolFor = (variable: string): OtlpProtocol | 'grpc' => {
    const text =
      (o.protocol as string | undefined) ??
      read(env, variable) ??
      read(env, 'OTEL_EXPORTER_OTLP_PROTOCOL') ??
      'http/protobuf';
    if (text === 'grpc') return 'grpc';
    if (!PROTOCOLS.includes(text as OtlpProtocol)) {
      if (o.protocol !== undefined) optionError('protocol', o.protocol, '"http/protobuf" or "http/json"');
      const from = read(env, variable) === undefined ? 'OTEL_EXPORTER_OTLP_PROTOCOL' : variable;
      envError(from, text, 'one of "http/protobuf", "http/json", "grpc"');
    }
    return text as OtlpProtocol;
  };
  const metricsProtocol = protocolFor('OTEL_EXPORTER_OTLP_METRICS_PROTOCOL');
  const logsProtocol = protocolFor('OTEL_EXPORTER_OTLP_LOGS_PROTOCOL');
  // gRPC is a valid setting of the app's own SDK: loopwatch must not stop the app for it.
  if (metricsProtocol === 'grpc' && metrics.includes('otlp')) {
    warnings.push(
      'loopwatch exports OTLP over HTTP only (http/protobuf, http/json); with the OTLP protocol set to grpc its metrics are not exported over OTLP',
    );
    metrics = metrics.filter((k) => k !== 'otlp');
  }
  if (logsProtocol === 'grpc' && logs.includes('otlp')) {
    warnings.push(
      'loopwatch exports OTLP over HTTP only (http/protobuf, http/json); with the OTLP protocol set to grpc its block alerts are not exported over OTLP',
    );
    logs = logs.filter((k) => k !== 'otlp');
  }
  if (metrics.length === 0 && logs.length === 0) return undefined;

  const headersFor = (variable: string): Record<string, string> => ({
    ...keyValues('OTEL_EXPORTER_OTLP_HEADERS', read(env, 'OTEL_EXPORTER_OTLP_HEADERS') ?? ''),
    ...keyValues(variable, read(env, variable) ?? ''),
    ...checkHeaders(o.headers),
  });

  const intervalText = read(env, 'OTEL_METRIC_EXPORT_INTERVAL');
  if (intervalText !== undefined && !/^\d+$/.test(intervalText))
    envError('OTEL_METRIC_EXPORT_INTERVAL', intervalText, 'a whole number of milliseconds');
  const exportIntervalMs =
    o.exportIntervalMs ?? (intervalText === undefined ? DEFAULT_EXPORT_INTERVAL_MS : Number(intervalText));
  if (
    typeof exportIntervalMs !== 'number' ||
    !Number.isInteger(exportIntervalMs) ||
    exportIntervalMs < 100 ||
    exportIntervalMs > 3_600_000
  ) {
    if (o.exportIntervalMs !== undefined)
      optionError('exportIntervalMs', exportIntervalMs, 'an integer from 100 to 3600000 (milliseconds)');
    envError('OTEL_METRIC_EXPORT_INTERVAL', intervalText ?? '', 'a number of milliseconds from 100 to 3600000');
  }

  const portText = read(env, 'OTEL_EXPORTER_PROMETHEUS_PORT');
  if (portText !== undefined && !/^\d+$/.test(portText))
    envError('OTEL_EXPORTER_PROMETHEUS_PORT', portText, 'a TCP port number from 0 to 65535');
  const prometheusPort = o.prometheusPort ?? (portText === undefined ? DEFAULT_PROMETHEUS_PORT : Number(portText));
  if (
    typeof prometheusPort !== 'number' ||
    !Number.isInteger(prometheusPort) ||
    prometheusPort < 0 ||
    prometheusPort > 65_535
  ) {
    if (o.prometheusPort !== undefined) optionError('prometheusPort', prometheusPort, 'an integer from 0 to 65535');
    envError('OTEL_EXPORTER_PROMETHEUS_PORT', portText ?? '', 'a TCP port number from 0 to 65535');
  }
  const prometheusHost = o.prometheusHost ?? read(env, 'OTEL_EXPORTER_PROMETHEUS_HOST') ?? DEFAULT_PROMETHEUS_HOST;
  if (typeof prometheusHost !== 'string' || !/^[A-Za-z0-9.:_-]+$/.test(prometheusHost)) {
    if (o.prometheusHost !== undefined) optionError('prometheusHost', prometheusHost, 'an IP address or a host name');
    envError('OTEL_EXPORTER_PROMETHEUS_HOST', prometheusHost, 'an IP address or a host name');
  }

  // Loopwatch's own default (5 s), and never more than the interval, as sdk-node clamps it.
  const metricExportTimeoutText = read(env, 'OTEL_METRIC_EXPORT_TIMEOUT');
  let metricExportTimeoutMs =
    positive(
      env,
      'OTEL_METRIC_EXPORT_TIMEOUT',
      warnings,
      `${Math.min(exportIntervalMs, DEFAULT_OTLP_TIMEOUT_MS)} ms`,
    ) ?? Math.min(exportIntervalMs, DEFAULT_OTLP_TIMEOUT_MS);
  if (metricExportTimeoutMs > exportIntervalMs) {
    warnings.push(
      `OTEL_METRIC_EXPORT_TIMEOUT (${metricExportTimeoutText ?? ''}) is greater than the export interval (${exportIntervalMs} ms); using ${exportIntervalMs} ms`,
    );
    metricExportTimeoutMs = exportIntervalMs;
  }

  const resourceAttributes = {
    ...keyValues('OTEL_RESOURCE_ATTRIBUTES', read(env, 'OTEL_RESOURCE_ATTRIBUTES') ?? ''),
    ...checkHeaders(o.resourceAttributes, 'resourceAttributes'),
  };
  const serviceName = o.serviceName ?? read(env, 'OTEL_SERVICE_NAME') ?? resourceAttributes['service.name'];
  if (serviceName !== undefined && (typeof serviceName !== 'string' || serviceName === ''))
    optionError('serviceName', serviceName, 'a non-empty string');

  return Object.freeze({
    metricsExporters: metrics,
    logsExporters: logs,
    // The specification's default endpoint, when an exporter is asked for without one.
    metricsEndpoint: metricsEndpoint ?? withPath(DEFAULT_OTLP_ENDPOINT, '/v1/metrics'),
    logsEndpoint: logsEndpoint ?? withPath(DEFAULT_OTLP_ENDPOINT, '/v1/logs'),
    metricsProtocol: metricsProtocol === 'grpc' ? 'http/protobuf' : metricsProtocol,
    logsProtocol: logsProtocol === 'grpc' ? 'http/protobuf' : logsProtocol,
    metricsHeaders: headersFor('OTEL_EXPORTER_OTLP_METRICS_HEADERS'),
    logsHeaders: headersFor('OTEL_EXPORTER_OTLP_LOGS_HEADERS'),
    exportIntervalMs,
    prometheusHost,
    prometheusPort,
    serviceName,
    resourceAttributes,
    metricsTimeoutMs: requestTimeout(env, 'METRICS', warnings),
    logsTimeoutMs: requestTimeout(env, 'LOGS', warnings),
    metricExportTimeoutMs,
    logBatch: logBatch(env, warnings),
    logLevel: logLevel(env, warnings),
    maxAlertsPerMinute,
  });
}

function checkHeaders(value: unknown, option = 'headers'): Record<string, string> {
  if (value === undefined) return {};
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    Object.values(value).some((v) => typeof v !== 'string')
  ) {
    optionError(option, value, 'an object of string values');
  }
  return value as Record<string, string>;
}
