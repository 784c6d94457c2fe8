/**
 * The dashboard and the alert rules in examples/otel-collector/ may only query metrics that
 * loopwatch really exports: the names come from a real pipeline (an in-memory reader), turned
 * into what the Collector's Prometheus exporter writes (dots to underscores, unit suffixes,
 * `_total` for counters, `_bucket`/`_sum`/`_count` for histograms).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AggregationTemporality, DataPointType, MetricReader } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { resolveTelemetry } from '../../src/telemetry-options.js';
import type { TelemetrySettings } from '../../src/types.js';
import { Telemetry } from '../../src/worker/telemetry.js';

const DIR = join(__dirname, '..', '..', 'examples', 'otel-collector');

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

/** The Prometheus names of every metric loopwatch exports, as the Collector writes them. */
async function collectorNames(): Promise<Set<string>> {
  const reader = new PullReader();
  const settings = resolveTelemetry({ OTEL_METRICS_EXPORTER: 'console' }, undefined) as TelemetrySettings;
  const view = {
    lag: () => ({ windowMs: 1, samples: 1, minMs: 0, meanMs: 0, stddevMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, maxMs: 0 }),
    utilization: () => 0,
    loopTime: () => ({ active: 0, idle: 0 }),
    blockedForMs: () => 0,
  };
  const telemetry = new Telemetry(
    { ...settings, metricsExporters: [], logsExporters: [] },
    view,
    { pid: 1 },
    () => undefined,
    undefined,
    [reader],
  );
  const stack = [{ function: 'f', file: '/a.js', line: 1, column: 1 }];
  const base = {
    type: 'block',
    id: 1,
    phase: 'running',
    thresholdMs: 100,
    startedAt: '',
    pid: 1,
    thread: 'main',
    stack,
    stackTiming: 'during',
  } as const;
  telemetry.write({ ...base, state: 'ongoing', durationMs: 100 });
  telemetry.write({ ...base, state: 'ended', durationMs: 300 });
  telemetry.write({
    type: 'hang',
    reason: 'block',
    action: 'none',
    limitMs: 1000,
    at: '',
    pid: 1,
    blockedMs: 1000,
    stack,
    stackTiming: 'during',
  });
  const { resourceMetrics } = await reader.collect();
  await telemetry.shutdown();
  const names = new Set<string>();
  for (const metric of resourceMetrics.scopeMetrics.flatMap((s) => s.metrics)) {
    const unit = metric.descriptor.unit;
    const isGauge = metric.dataPointType === DataPointType.GAUGE;
    const suffix = unit === 's' ? '_seconds' : unit === '1' && isGauge ? '_ratio' : '';
    const name = metric.descriptor.name.replace(/\./g, '_') + suffix;
    if (metric.dataPointType === DataPointType.HISTOGRAM)
      for (const part of ['_bucket', '_sum', '_count']) names.add(name + part);
    else if (metric.dataPointType === DataPointType.SUM && metric.isMonotonic) names.add(`${name}_total`);
    else names.add(name);
  }
  return names;
}

/** Label names that look like metric names. */
const LABELS = new Set([
  'loopwatch_stack_timing',
  'loopwatch_block_phase',
  'loopwatch_hang_reason',
  'loopwatch_hang_action',
  'nodejs_eventloop_state',
]);

function metricNamesIn(text: string): string[] {
  return [...new Set(text.match(/\b(?:loopwatch|nodejs)_[a-z0-9_]+\b/g) ?? [])].filter((name) => !LABELS.has(name));
}

describe('examples/otel-collector', () => {
  it('the dashboard queries only metrics loopwatch exports, and shows the main ones', async () => {
    const exported = await collectorNames();
    const dashboard = JSON.parse(readFileSync(join(DIR, 'grafana', 'dashboard.json'), 'utf8')) as {
      panels: { targets?: { expr: string }[] }[];
    };
    const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    expect(queries.length).toBeGreaterThan(5);
    const used = metricNamesIn(queries.join('\n'));
    for (const name of used) expect(exported, `${name} is not exported`).toContain(name);
    for (const name of [
      'loopwatch_block_current_duration_seconds',
      'loopwatch_blocks_total',
      'loopwatch_block_duration_seconds_bucket',
      'nodejs_eventloop_delay_p99_seconds',
      'nodejs_eventloop_utilization_ratio',
    ]) {
      expect(used).toContain(name);
    }
  });

  it('the alert rules query only metrics loopwatch exports', async () => {
    const exported = await collectorNames();
    const rules = readFileSync(join(DIR, 'alerts.yml'), 'utf8');
    const exprs = [...rules.matchAll(/^\s+expr: (.+)$/gm)].map((m) => m[1] ?? '');
    expect(exprs).toHaveLength(3);
    for (const name of metricNamesIn(exprs.join('\n'))) expect(exported, `${name} is not exported`).toContain(name);
  });

  const promtool = (() => {
    try {
      return execFileSync('which', ['promtool'], { encoding: 'utf8' }).trim();
    } catch {
      return undefined;
    }
  })();
  it.skipIf(promtool === undefined)('promtool accepts the Prometheus config and rules', () => {
    const out = execFileSync(promtool ?? 'promtool', ['check', 'config', join(DIR, 'prometheus.yml')], {
      encoding: 'utf8',
    });
    expect(out).toContain('SUCCESS: 3 rules found');
  });
});
