// Prototype: one telemetry pipeline that compiles unchanged against the
// OpenTelemetry JS SDK 2.x line (sdk-metrics 2.12, sdk-logs 0.223) and the
// 3.x line (sdk-metrics/sdk-logs 3.1). Meant to run inside a worker thread.
import {
  MeterProvider,
  MetricReader,
  PeriodicExportingMetricReader,
  InMemoryMetricExporter,
  AggregationTemporality,
  type IMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import {
  LoggerProvider,
  BatchLogRecordProcessor,
  SimpleLogRecordProcessor,
  InMemoryLogRecordExporter,
  type LogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPMetricExporter as OtlpMetricsProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPMetricExporter as OtlpMetricsJson } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPLogExporter as OtlpLogsProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPLogExporter as OtlpLogsJson } from '@opentelemetry/exporter-logs-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { ObservableResult } from '@opentelemetry/api';
import * as os from 'node:os';

// SeverityNumber lives in @opentelemetry/api-logs (2.x) but in
// @opentelemetry/api >= 1.10 (3.x). Use the numeric value so that neither
// import is needed. 13 = WARN in the OTel log data model.
const SEVERITY_WARN = 13 as const;
const SEVERITY_INFO = 9 as const;

// Unstable semconv names copied as constants (design.md section 3).
export const M = {
  delayP99: 'nodejs.eventloop.delay.p99',
  utilization: 'nodejs.eventloop.utilization',
  blockCount: 'loopwatch.block.count',
  blockDuration: 'loopwatch.block.duration',
  blockedNow: 'loopwatch.block.current_duration',
} as const;

export const BLOCK_BUCKETS_S = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** A pull-only reader: tests call collect() whenever they want. */
export class PullReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

export type Exporters =
  | { kind: 'memory' }
  | { kind: 'otlp'; protocol: 'http/protobuf' | 'http/json'; endpoint: string; intervalMs: number }
  | { kind: 'prometheus'; host: string; port: number };

export interface Pipeline {
  meterProvider: MeterProvider;
  loggerProvider: LoggerProvider;
  pull?: PullReader;
  memMetrics?: InMemoryMetricExporter;
  memLogs?: InMemoryLogRecordExporter;
  prometheus?: PrometheusExporter;
  state: { blockedSince: number | null };
  recordBlock(
    durationS: number,
    phase: string,
    frame: { fn: string; file: string; line: number; col: number; stack: string },
    state: 'ongoing' | 'ended',
    id: number,
  ): void;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

export function buildPipeline(exp: Exporters, serviceName: string): Pipeline {
  const resource = resourceFromAttributes({
    'service.name': serviceName,
    'service.instance.id': `${os.hostname()}-${process.pid}`,
    'process.pid': process.pid,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': process.versions.node,
    'host.name': os.hostname(),
  });

  const readers: IMetricReader[] = [];
  const processors: LogRecordProcessor[] = [];
  const p: Partial<Pipeline> = {};

  if (exp.kind === 'memory') {
    p.pull = new PullReader();
    p.memMetrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    readers.push(
      p.pull,
      new PeriodicExportingMetricReader({ exporter: p.memMetrics, exportIntervalMillis: 3_600_000 }),
    );
    p.memLogs = new InMemoryLogRecordExporter();
    // Processors take ONE options object (sdk-logs >= 0.220 and 3.x).
    processors.push(new SimpleLogRecordProcessor({ exporter: p.memLogs }));
  } else if (exp.kind === 'otlp') {
    const base = exp.endpoint.replace(/\/$/, '');
    const metricExporter: PushMetricExporter =
      exp.protocol === 'http/json'
        ? new OtlpMetricsJson({ url: `${base}/v1/metrics` })
        : new OtlpMetricsProto({ url: `${base}/v1/metrics` });
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: metricExporter,
        exportIntervalMillis: exp.intervalMs,
        exportTimeoutMillis: Math.min(exp.intervalMs, 5_000),
      }),
    );
    const logExporter =
      exp.protocol === 'http/json'
        ? new OtlpLogsJson({ url: `${base}/v1/logs` })
        : new OtlpLogsProto({ url: `${base}/v1/logs` });
    processors.push(
      new BatchLogRecordProcessor({ exporter: logExporter, scheduledDelayMillis: 200, maxQueueSize: 512 }),
    );
  } else {
    p.prometheus = new PrometheusExporter({ host: exp.host, port: exp.port });
    readers.push(p.prometheus);
  }

  const meterProvider = new MeterProvider({ resource, readers });
  const loggerProvider = new LoggerProvider({ resource, processors });
  const meter = meterProvider.getMeter('loopwatch', '0.1.0');
  const logger = loggerProvider.getLogger('loopwatch', '0.1.0');
  const state: Pipeline['state'] = { blockedSince: null };

  const blockCount = meter.createCounter(M.blockCount, { unit: '{block}', description: 'Blocks detected' });
  const blockDuration = meter.createHistogram(M.blockDuration, {
    unit: 's',
    description: 'Final duration of each block',
    advice: { explicitBucketBoundaries: BLOCK_BUCKETS_S },
  });
  const blockedNow = meter.createObservableGauge(M.blockedNow, {
    unit: 's',
    description: 'How long the loop has been blocked right now',
  });
  blockedNow.addCallback((r: ObservableResult) => {
    r.observe(state.blockedSince === null ? 0 : (Date.now() - state.blockedSince) / 1000);
  });
  const delayP99 = meter.createObservableGauge(M.delayP99, { unit: 's' });
  delayP99.addCallback((r) => r.observe(0.0123));
  const elu = meter.createObservableGauge(M.utilization, { unit: '1' });
  elu.addCallback((r) => r.observe(0.5));

  return Object.assign(p, {
    meterProvider,
    loggerProvider,
    state,
    recordBlock(
      durationS: number,
      phase: string,
      frame: { fn: string; file: string; line: number; col: number; stack: string },
      st: 'ongoing' | 'ended',
      id: number,
    ) {
      const attrs = { phase, 'code.function.name': frame.fn, 'code.file.path': frame.file };
      if (st === 'ended') {
        blockCount.add(1, attrs);
        blockDuration.record(durationS, attrs);
      }
      logger.emit({
        eventName: 'loopwatch.block',
        severityNumber: st === 'ongoing' ? SEVERITY_WARN : SEVERITY_INFO,
        severityText: st === 'ongoing' ? 'WARN' : 'INFO',
        body: `event loop blocked ${st === 'ongoing' ? 'for at least' : 'for'} ${Math.round(durationS * 1000)} ms`,
        attributes: {
          ...attrs,
          'code.line.number': frame.line,
          'code.column.number': frame.col,
          'code.stacktrace': frame.stack,
          'loopwatch.block.id': id,
          'loopwatch.block.state': st,
          'loopwatch.block.duration': durationS,
        },
      });
    },
    async flush() {
      await Promise.all([loggerProvider.forceFlush(), meterProvider.forceFlush()]);
    },
    async shutdown() {
      await Promise.allSettled([loggerProvider.shutdown(), meterProvider.shutdown()]);
    },
  }) as Pipeline;
}
