/**
 * Which request was blocking: a real node:http server traced with the OpenTelemetry SDK (server
 * spans exported over OTLP to a receiver here) and an AsyncLocalStorage store per request. The
 * block's context must name the exported span's trace, the store's attributes, nothing outside
 * a request, and survive a throwing callback.
 */
import { describe, expect, it } from 'vitest';
import type { BlockEvent } from '../../src/types.js';
import { describeRun, fixture, run, type RunResult } from './harness.js';
import { attribute, hexId, OtlpReceiver } from './otlp-receiver.js';

describe('block context', () => {
  it('names the trace, span, route and request of the blocked code; nothing outside requests; a throwing callback is contained', async () => {
    const receiver = new OtlpReceiver();
    const endpoint = await receiver.listen();
    let app = '';
    // Blocks are counted from the app's readiness line: loading the SDK may itself be reported
    // as a startup block before it, with whatever id.
    let endedSinceReady = 0;
    let waiter: { count: number; resolve: () => void } | undefined;
    let appReady: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (appReady = resolve));
    const waitEnded = (count: number): Promise<void> =>
      endedSinceReady >= count ? Promise.resolve() : new Promise((resolve) => (waiter = { count, resolve }));
    try {
      const done = run(fixture('traced-server.cjs'), {
        mode: 'require',
        timeoutMs: 30_000,
        env: {
          LOOPWATCH_THRESHOLD_MS: '100',
          TRACES_URL: `${endpoint}/v1/traces`,
          OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${endpoint}/v1/logs`,
          OTEL_LOGS_EXPORTER: 'otlp',
        },
        onLine: ({ text }) => {
          if (text.startsWith('APP ')) {
            app = text.slice(4);
            appReady();
          }
          // A request's block: a start-up block may end (be reported) after the app's line.
          if (app !== '' && /^\{"type":"block".*"phase":"running".*"state":"ended"/.test(text)) {
            endedSinceReady++;
            if (waiter !== undefined && endedSinceReady >= waiter.count) waiter.resolve();
          }
        },
      });
      await Promise.race([started, done.then((r) => Promise.reject(new Error(describeRun(r))))]);
      for (const [count, path] of ['/checkout', '/timer', '/boom'].entries()) {
        await fetch(`${app}${path}`).then((r) => r.text());
        await waitEnded(count + 1);
      }
      await fetch(`${app}/exit`).then((r) => r.text());
      const result: RunResult = await done;
      expect(result.code, describeRun(result)).toBe(0);

      // The alert's event; on a loaded machine its capture may miss the alert's deadline, and
      // the block's `ended` event then carries the stack and context taken during it.
      const ongoing = (test: (e: BlockEvent) => boolean): BlockEvent | undefined =>
        result.events.find((e) => e.state === 'ongoing' && test(e)) ??
        result.events.find((e) => e.state === 'ended' && e.stackTiming === 'during' && test(e));
      const spanLine = (requestId: string): string[] =>
        result.stdout.find((l) => l.text.startsWith('SPAN ') && l.text.endsWith(` ${requestId}`))?.text.split(' ') ??
        [];
      const [, traceId, spanId] = spanLine('req-1');

      // /checkout: the exported server span's trace, the route, the store's attributes.
      const checkout = ongoing((e) => e.context?.spanName === 'GET /checkout');
      expect(checkout?.stack[0]?.function, describeRun(result)).toBe('priceCart');
      expect(checkout?.context).toEqual({
        traceId,
        spanId,
        traceFlags: 1,
        spanName: 'GET /checkout',
        attributes: {
          'http.route': '/checkout',
          'http.request.method': 'GET',
          'url.path': '/checkout',
          'request.id': 'req-1',
          'tenant.id': 'acme',
        },
      });
      const exported = receiver.arrivals
        .flatMap((a) => a.spans.map((s) => ({ ...s, contentType: a.contentType })))
        .find((s) => s.name === 'GET /checkout');
      expect(hexId(exported?.traceId, exported?.contentType ?? ''), 'the span as exported').toBe(
        checkout?.context?.traceId,
      );
      expect(result.events.find((e) => e.id === checkout?.id && e.state === 'ended')?.context?.traceId).toBe(traceId);

      // The alert log record carries the trace context: a backend links it to the trace.
      const isAlert = (l: { attributes?: Parameters<typeof attribute>[0] }): boolean =>
        attribute(l.attributes, 'loopwatch.block.id') === checkout?.id &&
        attribute(l.attributes, 'loopwatch.block.state') === 'ongoing';
      const alertArrival = receiver.arrivals.find((a) => a.logs.some(isAlert));
      const alert = alertArrival?.logs.find(isAlert);
      expect(hexId(alert?.traceId, alertArrival?.contentType ?? '')).toBe(traceId);
      expect(hexId(alert?.spanId, alertArrival?.contentType ?? '')).toBe(spanId);
      expect(attribute(alert?.attributes, 'request.id')).toBe('req-1');
      expect(attribute(alert?.attributes, 'http.route')).toBe('/checkout');

      // A timer outside any request: no context.
      const timer = ongoing((e) => e.stack[1]?.function === 'cleanUpSessions');
      expect(timer?.stack[0]?.function, describeRun(result)).toBe('priceCart');
      expect(timer?.context).toBeUndefined();

      // A throwing callback loses the store's attributes, never the report or the span.
      const boom = ongoing((e) => e.context?.spanName === 'GET /boom');
      expect(boom?.stack[0]?.function, describeRun(result)).toBe('priceCart');
      expect(boom?.context?.error).toBe('a trackContext() callback threw: boom');
      expect(boom?.context?.attributes?.['request.id']).toBeUndefined();
      expect(boom?.context?.spanName).toBe('GET /boom');
    } finally {
      receiver.close();
    }
  });
});
