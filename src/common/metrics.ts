/**
 * One definition of each metric loopwatch records: name, unit, kind, description and bucket
 * advice. The monitor's OpenTelemetry export (src/worker/telemetry.ts), `useMeterProvider()` on
 * the main thread (src/main/meter.ts) and the prom-client bridge (src/prom-client/) all build
 * their instruments from it, so one dashboard reads every path. The `nodejs.*` names are the
 * semantic conventions' (Development status), copied here as the conventions advise for
 * unstable names; values are in seconds.
 */

export interface MetricDefinition {
  readonly name: string;
  readonly unit: string;
  /** The OpenTelemetry instrument: it decides the Prometheus name's suffixes. */
  readonly kind: 'gauge' | 'counter' | 'histogram';
  readonly description: string;
  /** Explicit histogram bucket boundaries, in the metric's unit. */
  readonly buckets?: readonly number[];
}

/** Block durations from 10 ms to a minute, in seconds (OTel's default buckets are for ms). */
export const BLOCK_BUCKETS_S: readonly number[] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export const METRICS = {
  delayMin: {
    name: 'nodejs.eventloop.delay.min',
    unit: 's',
    kind: 'gauge',
    description: 'Event loop delay, minimum over the last 10 s',
  },
  delayMax: {
    name: 'nodejs.eventloop.delay.max',
    unit: 's',
    kind: 'gauge',
    description: 'Event loop delay, maximum over the last 10 s',
  },
  delayMean: {
    name: 'nodejs.eventloop.delay.mean',
    unit: 's',
    kind: 'gauge',
    description: 'Event loop delay, mean over the last 10 s',
  },
  delayStddev: {
    name: 'nodejs.eventloop.delay.stddev',
    unit: 's',
    kind: 'gauge',
    description: 'Event loop delay, standard deviation over the last 10 s',
  },
  delayP50: {
    name: 'nodejs.eventloop.delay.p50',
    unit: 's',
    kind: 'gauge',
    description: 'Event loop delay, median over the last 10 s',
  },
  delayP90: {
    name: 'nodejs.eventloop.delay.p90',
    unit: 's',
    kind: 'gauge',
    description: 'Event loop delay, 90th percentile over the last 10 s',
  },
  delayP99: {
    name: 'nodejs.eventloop.delay.p99',
    unit: 's',
    kind: 'gauge',
    description: 'Event loop delay, 99th percentile over the last 10 s (per heartbeat, measured by loopwatch)',
  },
  utilization: {
    name: 'nodejs.eventloop.utilization',
    unit: '1',
    kind: 'gauge',
    description: 'Event loop utilization over the last 10 s',
  },
  time: {
    name: 'nodejs.eventloop.time',
    unit: 's',
    kind: 'counter',
    description: 'Cumulative time the event loop spent in each state since loopwatch started',
  },
  blocks: { name: 'loopwatch.blocks', unit: '{block}', kind: 'counter', description: 'Blocks detected' },
  blockDuration: {
    name: 'loopwatch.block.duration',
    unit: 's',
    kind: 'histogram',
    description: 'Duration of each block, recorded when it ends',
    buckets: BLOCK_BUCKETS_S,
  },
  blockCurrent: {
    name: 'loopwatch.block.current_duration',
    unit: 's',
    kind: 'gauge',
    description: 'How long the event loop has been blocked now (0 when it is not)',
  },
  captures: {
    name: 'loopwatch.captures',
    unit: '{capture}',
    kind: 'counter',
    description: 'Stack captures of ended blocks, by when the stack was taken',
  },
  hangs: {
    name: 'loopwatch.hangs',
    unit: '{hang}',
    kind: 'counter',
    description: 'Hangs: blocks past hangMs, processes past an exit deadline',
  },
  alertsSuppressed: {
    name: 'loopwatch.alerts.suppressed',
    unit: '{record}',
    kind: 'counter',
    description: 'Alert log records not exported because the process was over maxAlertsPerMinute',
  },
} as const satisfies Record<string, MetricDefinition>;

type Metrics = typeof METRICS;

/** The metric names, by key. */
export const METRIC = Object.fromEntries(Object.entries(METRICS).map(([key, metric]) => [key, metric.name])) as {
  readonly [K in keyof Metrics]: Metrics[K]['name'];
};

/** The options an OpenTelemetry `create*` call takes for a metric. */
export function instrumentOptions(metric: MetricDefinition): {
  unit: string;
  description: string;
  advice?: { explicitBucketBoundaries: number[] };
} {
  return {
    unit: metric.unit,
    description: metric.description,
    ...(metric.buckets === undefined ? {} : { advice: { explicitBucketBoundaries: [...metric.buckets] } }),
  };
}

/**
 * The name a metric has in Prometheus, as the OpenTelemetry Collector's Prometheus exporter
 * writes it with its default unit suffixes: dots become underscores, a unit in seconds adds
 * `_seconds`, a gauge of unit `1` adds `_ratio`, an annotation unit (`{block}`) adds nothing, and
 * a counter ends in `_total`. loopwatch's built-in exporter and the prom-client bridge use these
 * names too, so one dashboard and one rule set read all three paths.
 */
export function prometheusName(metric: MetricDefinition): string {
  let name = metric.name.replace(/[^a-zA-Z0-9_:]/g, '_');
  const unit = metric.unit === 's' ? 'seconds' : metric.unit === '1' && metric.kind === 'gauge' ? 'ratio' : '';
  if (unit !== '' && !name.endsWith(`_${unit}`)) name += `_${unit}`;
  if (metric.kind === 'counter' && !name.endsWith('_total')) name += '_total';
  return name;
}

/** An OpenTelemetry attribute key as a Prometheus label name (`code.function.name` → `code_function_name`). */
export function prometheusLabel(key: string): string {
  return key.replace(/[^a-zA-Z0-9_]/g, '_');
}

/** Prometheus names by OpenTelemetry name, for every metric loopwatch records. */
export const PROMETHEUS_NAMES: ReadonlyMap<string, string> = new Map(
  Object.values(METRICS).map((metric) => [metric.name, prometheusName(metric)]),
);
