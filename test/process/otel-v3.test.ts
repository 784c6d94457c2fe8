/**
 * The OpenTelemetry SDK 3.x line, installed as an app installs it (packed loopwatch + the 3.x
 * packages, by scripts/otel-v3.mjs), on Node ≥ 22.15. Skipped unless that script runs it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeRun, run } from './harness.js';
import { attribute, hexId, OtlpReceiver } from './otlp-receiver.js';
import { record } from './report.js';

const dir = process.env['LOOPWATCH_OTEL_V3_DIR'];

const APP = `// An app in a folder of its own, with loopwatch and the OpenTelemetry 3.x line installed.
const { writeSync } = require('node:fs');
const { dirname, join } = require('node:path');
const say = (text) => writeSync(1, text + '\\n');
function version(name) {
  let d = dirname(require.resolve(name));
  while (!require('node:fs').existsSync(join(d, 'package.json')) || require(join(d, 'package.json')).name !== name) d = dirname(d);
  return require(join(d, 'package.json')).version;
}
function exportReport() {
  const end = Date.now() + 1500;
  while (Date.now() < end);
}
// The app traces with the 3.x SDK: a span is active around the block.
const api = require('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
const { TracerProvider } = require('@opentelemetry/sdk-trace');
api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
api.trace.setGlobalTracerProvider(new TracerProvider());
require('loopwatch').start().ready.then((status) => {
  say('SDK ' + version('@opentelemetry/sdk-metrics') + ' ' + version('@opentelemetry/sdk-logs') + ' api ' + version('@opentelemetry/api'));
  say('TELEMETRY ' + JSON.stringify(status.telemetry ?? null));
  setTimeout(() => {
    api.trace.getTracer('app').startActiveSpan('nightly export', (span) => {
      say('TRACE ' + span.spanContext().traceId);
      say('MARK block ' + Date.now());
      exportReport();
      say('MARK unblock ' + Date.now());
      span.end();
    });
    setTimeout(() => say('done'), 1200);
  }, 100);
});
`;

describe.skipIf(dir === undefined)('OpenTelemetry SDK 3.x', () => {
  it('OTLP: the alert arrives during the block, metrics follow', async () => {
    const app = join(dir ?? '', 'app.cjs');
    writeFileSync(app, APP);
    const receiver = new OtlpReceiver();
    const endpoint = await receiver.listen();
    try {
      const result = await run(app, {
        mode: 'plain',
        cwd: dir ?? '',
        nodeArgs: ['-r', 'loopwatch/register'],
        env: {
          LOOPWATCH_THRESHOLD_MS: '100',
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          OTEL_METRIC_EXPORT_INTERVAL: '500',
        },
      });
      expect(result.code, describeRun(result)).toBe(0);
      const sdk = result.stdout.find((l) => l.text.startsWith('SDK '))?.text;
      expect(sdk, describeRun(result)).toMatch(/^SDK 3\.\d+\.\d+ 3\.\d+\.\d+ api 1\.10\./);
      // The block of the test, not one while the app loads its packages (phase "startup"),
      // which a loaded machine makes long enough to report too.
      const isAlert = (l: (typeof receiver.arrivals)[number]['logs'][number]): boolean =>
        attribute(l.attributes, 'loopwatch.block.state') === 'ongoing' &&
        attribute(l.attributes, 'loopwatch.block.phase') === 'running';
      const alert = receiver.arrivals.find((a) => a.logs.some(isAlert));
      const early = (result.marks.get('unblock') ?? 0) - (alert?.at ?? Infinity);
      record({ scenario: 'OTLP with SDK 3.x: alert arrived before the block ended', byMs: early, sdk });
      expect(early, describeRun(result)).toBeGreaterThan(500);
      const ongoing = alert?.logs.find(isAlert);
      expect(ongoing?.eventName).toBe('loopwatch.block');
      expect(
        attribute(ongoing?.attributes, 'code.function.name'),
        `${JSON.stringify(ongoing?.attributes)}\n${describeRun(result)}`,
      ).toBe('exportReport');
      // The block context: the app's active span, read through api 1.10, on the record.
      const trace = result.stdout.find((l) => l.text.startsWith('TRACE '))?.text.slice(6);
      expect(hexId(ongoing?.traceId, alert?.contentType ?? ''), describeRun(result)).toBe(trace);
      expect(attribute(ongoing?.attributes, 'loopwatch.span.name')).toBe('nightly export');
      const names = new Set(receiver.arrivals.flatMap((a) => a.metrics.map((m) => m.name)));
      for (const name of [
        'loopwatch.blocks',
        'loopwatch.block.duration',
        'nodejs.eventloop.delay.p99',
        'nodejs.eventloop.utilization',
      ])
        expect(names, name).toContain(name);
    } finally {
      receiver.close();
    }
  });
});
