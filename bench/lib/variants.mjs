// The variants compared: no monitor, loopwatch (default — the sampling profiler on —, with the
// profiler off, and exporting OpenTelemetry), and
// the tools a user would pick instead. Each is loaded the way its docs say — a preload
// (`-r`) before the app — and configured with the same threshold, with its data going to the
// bench's loopback sink.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BENCH = join(ROOT, 'bench');
const peer = (file) => join(BENCH, 'peers', file);

/**
 * kind: how the tool reports a block — `worker` (from another thread, during the block),
 * `after` (from the main thread once the block is over), `metrics` (no alert, only gauges).
 * oneReportPerProcess: the tool reports only the first block of a process (Sentry's
 * rate limits), so latency runs give it one block per process.
 */
export const VARIANTS = [
  { name: 'none', label: 'no monitor', kind: 'none', setup: () => ({ args: [], env: {} }) },
  {
    name: 'loopwatch',
    label: 'loopwatch (default)',
    kind: 'worker',
    setup: ({ thresholdMs, forBlocks }) => ({
      args: ['-r', join(ROOT, 'dist', 'register.js')],
      env: {
        ...(thresholdMs === undefined ? {} : { LOOPWATCH_THRESHOLD_MS: String(thresholdMs) }),
        // In block runs the report is read as JSON lines; in overhead runs the default holds.
        ...(forBlocks ? { LOOPWATCH_LOG: 'json' } : {}),
        BENCH_TOOL: 'loopwatch',
      },
    }),
  },
  {
    name: 'loopwatch-no-profiler',
    label: 'loopwatch, profiler off',
    kind: 'worker',
    setup: ({ thresholdMs, forBlocks }) => ({
      args: ['-r', join(ROOT, 'dist', 'register.js')],
      env: {
        ...(thresholdMs === undefined ? {} : { LOOPWATCH_THRESHOLD_MS: String(thresholdMs) }),
        ...(forBlocks ? { LOOPWATCH_LOG: 'json' } : {}),
        LOOPWATCH_PROFILER: 'off',
        BENCH_TOOL: 'loopwatch',
      },
    }),
  },
  {
    name: 'loopwatch-otel',
    label: 'loopwatch + OTel export',
    kind: 'worker',
    setup: ({ thresholdMs, sinkUrl, forBlocks }) => ({
      args: ['-r', join(ROOT, 'dist', 'register.js')],
      env: {
        ...(thresholdMs === undefined ? {} : { LOOPWATCH_THRESHOLD_MS: String(thresholdMs) }),
        ...(forBlocks ? { LOOPWATCH_LOG: 'json' } : {}),
        OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl,
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_LOGS_EXPORTER: 'otlp',
        // 1 s rather than the 60 s default so that a run of a few seconds really exports.
        OTEL_METRIC_EXPORT_INTERVAL: '1000',
        BENCH_TOOL: 'loopwatch',
      },
    }),
  },
  {
    name: 'sentry-native',
    label: '@sentry/node + node-native eventLoopBlock',
    kind: 'worker',
    oneReportPerProcess: true,
    setup: ({ thresholdMs, sinkUrl }) => ({
      args: ['-r', peer('sentry-native.cjs')],
      env: peerEnv(thresholdMs, sinkUrl),
    }),
  },
  {
    name: 'sentry-anr',
    label: '@sentry/node anrIntegration (inspector)',
    kind: 'worker',
    oneReportPerProcess: true,
    setup: ({ thresholdMs, sinkUrl }) => ({ args: ['-r', peer('sentry-anr.cjs')], env: peerEnv(thresholdMs, sinkUrl) }),
  },
  {
    name: 'blocked-at',
    label: 'blocked-at',
    kind: 'after',
    setup: ({ thresholdMs, sinkUrl }) => ({ args: ['-r', peer('blocked-at.cjs')], env: peerEnv(thresholdMs, sinkUrl) }),
  },
  {
    name: 'blocked',
    label: 'blocked',
    kind: 'after',
    setup: ({ thresholdMs, sinkUrl }) => ({ args: ['-r', peer('blocked.cjs')], env: peerEnv(thresholdMs, sinkUrl) }),
  },
  {
    name: 'otel-runtime-node',
    label: '@opentelemetry/instrumentation-runtime-node',
    kind: 'metrics',
    setup: ({ sinkUrl }) => ({ args: ['-r', peer('otel-runtime-node.cjs')], env: peerEnv(undefined, sinkUrl) }),
  },
  {
    name: 'prom-client',
    label: 'prom-client default metrics',
    kind: 'metrics',
    setup: ({ sinkUrl }) => ({ args: ['-r', peer('prom-client.cjs')], env: peerEnv(undefined, sinkUrl) }),
  },
];

export const byName = (name) => {
  const v = VARIANTS.find((x) => x.name === name);
  if (!v) throw new Error(`unknown variant ${name}`);
  return v;
};

/** Variants that alert on a block (the latency and attribution sections compare those). */
export const ALERTING = VARIANTS.filter((v) => v.kind === 'worker' || v.kind === 'after');

function peerEnv(thresholdMs, sinkUrl) {
  // The same 100 ms as loopwatch's default unless a section asks for another threshold.
  return { BENCH_THRESHOLD_MS: String(thresholdMs ?? 100), BENCH_SINK_URL: sinkUrl };
}
