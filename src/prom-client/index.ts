/**
 * loopwatch/prom-client: loopwatch's metrics in the app's prom-client registry.
 * @example
 *   const client = require('prom-client');
 *   const { collectLoopwatchMetrics } = require('loopwatch/prom-client');
 *   client.collectDefaultMetrics();
 *   collectLoopwatchMetrics(); // or { register, prefix, labels }
 */
import type { Registry } from 'prom-client';
import { collectLoopwatchMetrics as collect, type LoopwatchMetricsOptions as Options } from './bridge.js';

/** Options of `collectLoopwatchMetrics()`; `register` is a prom-client `Registry`. */
export type LoopwatchMetricsOptions = Options<Registry>;

/**
 * Registers loopwatch's metrics in a prom-client registry, the counterpart of prom-client's
 * `collectDefaultMetrics()`. Their values are read when the registry is scraped, from what the
 * monitor's worker keeps in shared memory; nothing runs on the app's thread in between.
 *
 * The names are those of loopwatch's other paths (OTLP through the Collector, the built-in
 * Prometheus exporter), so the shipped dashboard and alert rules read all three:
 * `loopwatch_blocks_total`, `loopwatch_block_duration_seconds`,
 * `loopwatch_block_current_duration_seconds`, `loopwatch_captures_total`, `loopwatch_hangs_total`,
 * `nodejs_eventloop_delay_{min,max,mean,stddev,p50,p90,p99}_seconds`,
 * `nodejs_eventloop_utilization_ratio`, `nodejs_eventloop_time_seconds_total`; plus
 * `loopwatch_up` (1 while a monitor watches).
 *
 * It may be called before `start()`: until a monitor watches, a scrape shows `loopwatch_up 0`
 * and no samples of the others (not zeros, which would read as "no blocks").
 *
 * @throws LoopwatchError `ERR_LOOPWATCH_MISSING_PEER` without `register` when prom-client is not
 *   installed; `ERR_LOOPWATCH_INVALID_OPTION` for an invalid option, or when the registry
 *   already holds one of these names (a second call with the same registry and prefix).
 * @example
 *   import { register } from 'prom-client';
 *   import { collectLoopwatchMetrics } from 'loopwatch/prom-client';
 *   collectLoopwatchMetrics({ register });
 */
export const collectLoopwatchMetrics: (options?: LoopwatchMetricsOptions) => void = collect;
