/**
 * loopwatch beside the OpenTelemetry SDK an app already runs: `@opentelemetry/sdk-node`
 * configured by the standard variables, `instrumentation-http` making the server spans and
 * `instrumentation-runtime-node` exporting its own `nodejs.eventloop.*` series, all to one OTLP
 * receiver here. The block must carry the trace of the real server span, loopwatch's resource
 * must name the same `service.instance.id` as the app's, and the two sets of event-loop series
 * must be told apart by their scope.
 */
import { describe, expect, it } from 'vitest';
import type { BlockEvent } from '../../src/types.js';
import { describeRun, fixture, run, type RunResult } from './harness.js';
import { attribute, hexId, OtlpReceiver } from './otlp-receiver.js';

describe('beside @opentelemetry/sdk-node', () => {
  it('the block event and the alert record carry the real server span; one service.instance.id; scopes tell the loop metrics apart', async () => {
    const receiver = new OtlpReceiver();
    const endpoint = await receiver.listen();
    let app = '';
    let ended = 0;
    let onEnded: () => void = () => undefined;
    let appReady: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (appReady = resolve));
    try {
      const done = run(fixture('sdk-node-server.cjs'), {
        mode: 'plain',
        timeoutMs: 40_000,
        env: {
          // Above the app's own chunks of work: on a loaded machine, the SDK's export (~100 ms,
          // seen on Node 26) ran just before the handler, in the same turn of the loop, and the
          // stack taken at 100 ms was the export's, outside the request.
          LOOPWATCH_THRESHOLD_MS: '300',
          // Read by the app's SDK and by loopwatch alike.
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          OTEL_METRICS_EXPORTER: 'otlp',
          OTEL_METRIC_EXPORT_INTERVAL: '500',
          OTEL_SERVICE_NAME: 'shop',
          OTEL_RESOURCE_ATTRIBUTES: 'service.instance.id=shop-7,deployment.environment.name=test',
        },
        onLine: ({ text }) => {
          if (text.startsWith('APP ')) {
            app = text.slice(4);
            appReady();
          }
          // The request's block: a start-up block may end (be reported) after the app's line.
          if (
            app !== '' &&
            text.startsWith('BLOCK ') &&
            text.includes('"state":"ended"') &&
            text.includes('"phase":"running"')
          ) {
            ended++;
            onEnded();
          }
        },
      });
      await Promise.race([started, done.then((r) => Promise.reject(new Error(describeRun(r))))]);
      const blockEnded = new Promise<void>((resolve) => (onEnded = resolve));
      await fetch(`${app}/checkout`).then((r) => r.text());
      if (ended === 0) await blockEnded;
      // Both sides have exported their event-loop series at least once (500 ms interval).
      const both = (scope: string): Promise<unknown> =>
        receiver.waitFor((a) => a.metrics.some((m) => m.scope === scope && m.name === 'nodejs.eventloop.delay.p99'));
      await Promise.all([both('loopwatch'), both('@opentelemetry/instrumentation-runtime-node')]);
      await fetch(`${app}/exit`).then((r) => r.text());
      const result: RunResult = await done;
      expect(result.code, describeRun(result)).toBe(0);

      // The server span, as the app's SDK exported it.
      const spans = receiver.arrivals.flatMap((a) =>
        a.spans.map((s) => ({ ...s, contentType: a.contentType, resource: a.resource })),
      );
      const server = spans.find((s) => s.kind === 2 && attribute(s.attributes, 'url.path') === '/checkout');
      expect(server, JSON.stringify(spans.map((s) => [s.name, s.kind]))).toBeDefined();
      const traceId = hexId(server?.traceId, server?.contentType ?? '');
      const spanId = hexId(server?.spanId, server?.contentType ?? '');

      // The block events, as the app's 'block' listener got them.
      const events = result.stdout
        .filter((l) => l.text.startsWith('BLOCK '))
        .map((l) => JSON.parse(l.text.slice(6)) as BlockEvent);
      const ongoing = events.find((e) => e.state === 'ongoing' && e.stack[1]?.function === 'priceCart');
      expect(ongoing?.context?.traceId, describeRun(result)).toBe(traceId);
      expect(ongoing?.context?.spanId).toBe(spanId);
      const endedEvent = events.find((e) => e.state === 'ended' && e.id === ongoing?.id);
      expect(endedEvent?.context?.traceId).toBe(traceId);

      // The alert log record: a backend links it to that span.
      const alerts = receiver.arrivals.flatMap((a) =>
        a.logs
          .filter(
            (l) => l.eventName === 'loopwatch.block' && attribute(l.attributes, 'loopwatch.block.id') === ongoing?.id,
          )
          .map((l) => ({ ...l, contentType: a.contentType, resource: a.resource })),
      );
      expect(alerts.map((l) => attribute(l.attributes, 'loopwatch.block.state'))).toEqual(['ongoing', 'ended']);
      for (const alert of alerts) {
        expect(hexId(alert.traceId, alert.contentType)).toBe(traceId);
        expect(hexId(alert.spanId, alert.contentType)).toBe(spanId);
      }

      // One service.instance.id (from OTEL_RESOURCE_ATTRIBUTES, read by both), and loopwatch's
      // resource made by the SDK's own detectors, describing the app's process, not the worker.
      const mine = alerts[0]?.resource;
      for (const key of [
        'service.instance.id',
        'service.name',
        'deployment.environment.name',
        'process.pid',
        'host.name',
      ])
        expect(attribute(mine, key), key).toBe(attribute(server?.resource, key));
      expect(attribute(mine, 'service.instance.id')).toBe('shop-7');
      for (const key of ['host.arch', 'process.executable.path', 'process.runtime.version', 'telemetry.sdk.name'])
        expect(attribute(mine, key), key).toBe(attribute(server?.resource, key));
      expect(attribute(mine, 'process.command')).toBe(fixture('sdk-node-server.cjs'));

      // The same metric names from two meters of one resource: told apart by the scope name.
      const p99 = receiver.arrivals
        .flatMap((a) => a.metrics.map((m) => ({ ...m, instance: attribute(a.resource, 'service.instance.id') })))
        .filter((m) => m.name === 'nodejs.eventloop.delay.p99');
      expect(new Set(p99.map((m) => m.scope))).toEqual(
        new Set(['loopwatch', '@opentelemetry/instrumentation-runtime-node']),
      );
      expect(new Set(p99.map((m) => m.instance))).toEqual(new Set(['shop-7']));
      expect(new Set(p99.map((m) => m.unit))).toEqual(new Set(['s']));
    } finally {
      receiver.close();
    }
  });
});
