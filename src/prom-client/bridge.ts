/**
 * loopwatch's metrics in a prom-client registry, read at scrape time from the monitor's shared
 * state: the loop's figures the worker writes into the heartbeat buffer at each drain, and the
 * block counts it publishes in the tally buffer (src/protocol/tally.ts). Between scrapes the
 * app's thread does nothing for these metrics; a scrape reads a few floats and, only when a
 * block was counted since the last scrape, decodes the tally (a few kB of JSON).
 *
 * The metrics are plain objects that implement what a prom-client Registry reads (`name`,
 * `help`, `type`, `aggregator`, `get()`, `reset()`), not prom-client's classes: prom-client's
 * classes keep their own values, these have none to keep, and a registry of any prom-client copy
 * reads them. prom-client itself is loaded only for its default registry.
 */
import { LoopwatchError } from '../errors.js';
import { isObject } from '../common/guards.js';
import { BLOCK_BUCKETS_S, METRICS, type MetricDefinition, prometheusLabel, prometheusName } from '../common/metrics.js';
import { mustBe } from '../common/text.js';
import { sharedState, type SharedState } from '../main/monitor.js';
import { F64, F64_BYTE_OFFSET, F64_SLOTS } from '../protocol/shared.js';
import { readTally, TALLY_I32, type TallyAttributes, type TallyDocument } from '../protocol/tally.js';

/** What a prom-client Registry needs of a metric (prom-client 14 and 15). */
interface RegistryLike {
  registerMetric(metric: never): void;
  getSingleMetric(name: string): unknown;
}

/** Options of `collectLoopwatchMetrics()`. */
export interface LoopwatchMetricsOptions<Registry = unknown> {
  /**
   * The prom-client registry to register in.
   * @default prom-client's default registry (`require('prom-client').register`)
   */
  readonly register?: Registry | undefined;
  /**
   * Prepended to every metric name, as `collectDefaultMetrics({ prefix })` does.
   * @default '' (the names of the other paths, which the shipped dashboard reads)
   */
  readonly prefix?: string | undefined;
  /**
   * Labels added to every sample, as `collectDefaultMetrics({ labels })` does.
   * @default {}
   */
  readonly labels?: Readonly<Record<string, string | number>> | undefined;
}

type Labels = Record<string, string | number>;
interface Sample {
  readonly value: number;
  readonly labels: Labels;
  readonly metricName?: string;
}
type Aggregator = 'sum' | 'min' | 'max' | 'average' | 'first' | 'omit';
interface MetricObject {
  name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter' | 'histogram';
  readonly aggregator: Aggregator;
  readonly labelNames: readonly string[];
  get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: Aggregator;
    values: Sample[];
  }>;
  reset(): void;
}

/** The bridge's own gauge: whether a monitor watches this process (prom-client path only). */
const UP = {
  name: 'loopwatch_up',
  help: "1 while loopwatch's monitor watches this process's event loop; 0 when it was not started, was stopped or cannot watch (then the other loopwatch metrics have no samples)",
} as const;

/** Labels loopwatch's own series carry; the `labels` option may not reuse them. */
const OWN_LABELS = [
  'code.function.name',
  'code.file.path',
  'loopwatch.block.phase',
  'thread.name',
  'loopwatch.stack.timing',
  'loopwatch.hang.reason',
  'loopwatch.hang.action',
  'nodejs.eventloop.state',
].map(prometheusLabel);

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Reads the monitor's state at scrape time, once per scrape for the tally. */
class Reader {
  #state: SharedState | undefined;
  #f64: Float64Array | undefined;
  #tally: { buffer: SharedArrayBuffer; version: number; document: TallyDocument } | undefined;

  /** The running monitor's state, or undefined when none watches (looked up again each scrape). */
  state(): SharedState | undefined {
    const state = sharedState();
    if (state === undefined || !state.watching) return undefined;
    if (state.buffer !== this.#state?.buffer) {
      this.#state = state;
      this.#f64 = new Float64Array(state.buffer, F64_BYTE_OFFSET, F64_SLOTS);
    }
    return state;
  }

  /** A float the worker wrote into the heartbeat buffer. */
  f64(slot: number): number {
    return this.#f64?.[slot] ?? 0;
  }

  /** The block counts; decoded again only when the worker published since the last read. */
  tally(state: SharedState): TallyDocument | undefined {
    const known = this.#tally;
    if (
      known !== undefined &&
      known.buffer === state.tally &&
      Atomics.load(new Int32Array(state.tally, 0, 2), TALLY_I32.VERSION) === known.version
    )
      return known.document;
    const read = readTally(state.tally);
    if (read === undefined) return known?.buffer === state.tally ? known.document : undefined;
    this.#tally = { buffer: state.tally, ...read };
    return read.document;
  }
}

function metric(
  name: string,
  help: string,
  type: MetricObject['type'],
  aggregator: Aggregator,
  labelNames: readonly string[],
  values: () => Sample[],
): MetricObject {
  return {
    name,
    help,
    type,
    aggregator,
    labelNames,
    // prom-client reads `name` after standardising it for OpenMetrics (it may rewrite it).
    get() {
      return Promise.resolve({ name: this.name, help, type, aggregator, values: values() });
    },
    // Nothing to reset: the counts are the monitor's, since it started.
    reset() {},
  };
}

function labelsOf(attributes: TallyAttributes, base: Labels): Labels {
  const labels: Labels = {};
  for (const [key, value] of Object.entries(attributes)) labels[prometheusLabel(key)] = value;
  return { ...labels, ...base };
}

function checkOptions(options: unknown): {
  register: RegistryLike | undefined;
  prefix: string;
  labels: Labels;
} {
  if (options !== undefined && !isObject(options))
    throw new LoopwatchError(
      'ERR_LOOPWATCH_INVALID_OPTION',
      mustBe('collectLoopwatchMetrics(options)', 'an object', typeof options),
    );
  const given = (options ?? {}) as LoopwatchMetricsOptions;
  const register = given.register;
  if (
    register !== undefined &&
    (!isObject(register) ||
      typeof (register as Partial<RegistryLike>).registerMetric !== 'function' ||
      typeof (register as Partial<RegistryLike>).getSingleMetric !== 'function')
  )
    throw new LoopwatchError(
      'ERR_LOOPWATCH_INVALID_OPTION',
      mustBe('`register`', 'a prom-client Registry (with registerMetric() and getSingleMetric())', typeof register),
    );
  const prefix = given.prefix ?? '';
  if (typeof prefix !== 'string' || (prefix !== '' && !METRIC_NAME.test(prefix)))
    throw new LoopwatchError(
      'ERR_LOOPWATCH_INVALID_OPTION',
      mustBe('`prefix`', 'a Prometheus metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*)', JSON.stringify(prefix)),
    );
  const labels = given.labels ?? {};
  if (!isObject(labels) || Array.isArray(labels))
    throw new LoopwatchError('ERR_LOOPWATCH_INVALID_OPTION', mustBe('`labels`', 'an object', String(labels)));
  for (const [key, value] of Object.entries(labels)) {
    if (!LABEL_NAME.test(key) || key.startsWith('__') || key === 'le' || OWN_LABELS.includes(key))
      throw new LoopwatchError(
        'ERR_LOOPWATCH_INVALID_OPTION',
        mustBe(
          `label name ${JSON.stringify(key)} in \`labels\``,
          `a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not __*, le or one of loopwatch's: ${OWN_LABELS.join(', ')})`,
          JSON.stringify(key),
        ),
      );
    if (typeof value !== 'string' && typeof value !== 'number')
      throw new LoopwatchError(
        'ERR_LOOPWATCH_INVALID_OPTION',
        mustBe(`\`labels.${key}\``, 'a string or a number', typeof value),
      );
  }
  return { register: register as RegistryLike | undefined, prefix, labels: { ...labels } };
}

function defaultRegistry(): RegistryLike {
  try {
    return (require('prom-client') as { register: RegistryLike }).register;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
    throw new LoopwatchError(
      'ERR_LOOPWATCH_MISSING_PEER',
      'loopwatch/prom-client needs prom-client (an optional peer dependency of loopwatch): npm install prom-client',
    );
  }
}

/** Registers loopwatch's metrics in a prom-client registry (documented on the entry point, index.ts). */
export function collectLoopwatchMetrics(options?: LoopwatchMetricsOptions): void {
  const { register = defaultRegistry(), prefix, labels } = checkOptions(options);
  const reader = new Reader();
  const base = labels;
  const baseNames = Object.keys(base);
  const named = (definition: MetricDefinition): string => `${prefix}${prometheusName(definition)}`;
  const whenWatching =
    (values: (state: SharedState) => Sample[]): (() => Sample[]) =>
    () => {
      const state = reader.state();
      return state === undefined ? [] : values(state);
    };
  const gauge = (definition: MetricDefinition, aggregator: Aggregator, value: () => number): MetricObject =>
    metric(
      named(definition),
      definition.description,
      'gauge',
      aggregator,
      baseNames,
      whenWatching(() => [{ value: value(), labels: { ...base } }]),
    );
  // Whole microseconds: the worker keeps tenths of a millisecond, and `x / 1000` prints float noise.
  const ms = (slot: number) => (): number => Math.round(reader.f64(slot) * 1000) / 1_000_000;
  const counts = (
    definition: MetricDefinition,
    labelNames: readonly string[],
    pick: (document: TallyDocument) => TallyDocument['blocks'],
  ): MetricObject =>
    metric(
      named(definition),
      definition.description,
      'counter',
      'sum',
      [...labelNames.map(prometheusLabel), ...baseNames],
      whenWatching((state) => {
        const document = reader.tally(state);
        return document === undefined
          ? []
          : pick(document).map((entry) => ({ value: entry.count, labels: labelsOf(entry.attributes, base) }));
      }),
    );
  const blockLabels = ['loopwatch.block.phase', 'code.function.name', 'code.file.path', 'thread.name'];
  const durationName = named(METRICS.blockDuration);

  const metrics: MetricObject[] = [
    metric(`${prefix}${UP.name}`, UP.help, 'gauge', 'sum', baseNames, () => [
      { value: reader.state() === undefined ? 0 : 1, labels: { ...base } },
    ]),
    // Across a cluster's workers (prom-client's AggregatorRegistry), the worst loop is the one to see.
    gauge(METRICS.delayMin, 'min', ms(F64.LAG_MIN)),
    gauge(METRICS.delayMax, 'max', ms(F64.LAG_MAX)),
    gauge(METRICS.delayMean, 'average', ms(F64.LAG_MEAN)),
    gauge(METRICS.delayStddev, 'max', ms(F64.LAG_STDDEV)),
    gauge(METRICS.delayP50, 'max', ms(F64.LAG_P50)),
    gauge(METRICS.delayP90, 'max', ms(F64.LAG_P90)),
    gauge(METRICS.delayP99, 'max', ms(F64.LAG_P99)),
    gauge(METRICS.utilization, 'average', () => reader.f64(F64.METRIC_UTILIZATION)),
    // Always 0 here, and truthfully so: this scrape runs on the thread the gauge is about, so that
    // thread is not blocked now. A scrape that waited through a block is answered once it ended
    // (the worker may not have seen the end yet: reading its flag made LoopwatchBlockedNow fire
    // for a block already over, seen on Node 26). The live view needs the worker's exporters.
    gauge(METRICS.blockCurrent, 'max', () => 0),
    metric(
      named(METRICS.time),
      METRICS.time.description,
      'counter',
      'sum',
      ['nodejs_eventloop_state', ...baseNames],
      whenWatching(() => [
        { value: reader.f64(F64.LOOP_ACTIVE_S), labels: { nodejs_eventloop_state: 'active', ...base } },
        { value: reader.f64(F64.LOOP_IDLE_S), labels: { nodejs_eventloop_state: 'idle', ...base } },
      ]),
    ),
    counts(METRICS.blocks, blockLabels, (document) => document.blocks),
    counts(METRICS.captures, ['loopwatch.stack.timing'], (document) => document.captures),
    counts(METRICS.hangs, ['loopwatch.hang.reason', 'loopwatch.hang.action'], (document) => document.hangs),
    metric(
      durationName,
      METRICS.blockDuration.description,
      'histogram',
      'sum',
      [...blockLabels.map(prometheusLabel), ...baseNames],
      whenWatching((state) => {
        const document = reader.tally(state);
        const samples: Sample[] = [];
        for (const histogram of document?.durations ?? []) {
          const labels = labelsOf(histogram.attributes, base);
          let cumulative = 0;
          BLOCK_BUCKETS_S.forEach((bound, i) => {
            cumulative += histogram.buckets[i] ?? 0;
            samples.push({ value: cumulative, labels: { ...labels, le: bound }, metricName: `${durationName}_bucket` });
          });
          samples.push(
            { value: histogram.count, labels: { ...labels, le: '+Inf' }, metricName: `${durationName}_bucket` },
            { value: histogram.sum, labels, metricName: `${durationName}_sum` },
            { value: histogram.count, labels, metricName: `${durationName}_count` },
          );
        }
        return samples;
      }),
    ),
  ];
  // All or nothing: a name already taken stops the call before anything is registered.
  const taken = metrics.find((m) => register.getSingleMetric(m.name) !== undefined);
  if (taken !== undefined)
    throw new LoopwatchError(
      'ERR_LOOPWATCH_INVALID_OPTION',
      `the registry already has a metric named ${taken.name}: collectLoopwatchMetrics() registers each name once per registry (give another \`prefix\` or another \`register\`)`,
    );
  for (const m of metrics) register.registerMetric(m as never);
}
