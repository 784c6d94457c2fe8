import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { trackContext, untrackAll } from '../../src/main/context.js';
import { CONTEXT_HOOK } from '../../src/protocol/shared.js';
import { decodeContext } from '../../src/worker/capture.js';
import { livez } from '../../src/worker/health.js';
import { contextLine } from '../../src/common/pretty.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('decodeContext', () => {
  it('keeps a valid span and the app attributes, bounded', () => {
    const many = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i]));
    const context = decodeContext({
      s: [TRACE, SPAN, 1, 'GET /a', '/a', 'GET', '/a?x'],
      u: { 'request.id': 'x'.repeat(1000), obj: { a: 1 }, ...many },
    });
    expect(context?.traceId).toBe(TRACE);
    expect(context?.spanName).toBe('GET /a');
    expect(Object.keys(context?.attributes ?? {})).toHaveLength(16);
    expect(context?.attributes?.['http.route']).toBe('/a');
    expect(String(context?.attributes?.['request.id'])).toHaveLength(256);
    expect(context?.attributes?.['obj']).toBeUndefined();
  });

  it('drops invalid or all-zero ids, and says nothing when there is nothing', () => {
    expect(decodeContext({ s: ['0'.repeat(32), SPAN] })).toBeUndefined();
    expect(decodeContext({ s: ['xyz', SPAN] })).toBeUndefined();
    expect(decodeContext(undefined)).toBeUndefined();
    expect(decodeContext({ e: 'a trackContext() callback threw: x' })).toEqual({
      error: 'a trackContext() callback threw: x',
    });
  });
});

describe('trackContext (main thread)', () => {
  it('reads the store of the calling context through the global hook, and contains a throwing callback', () => {
    const storage = new AsyncLocalStorage<{ id: string }>();
    const stop = trackContext(storage, (store) => {
      if (store.id === 'bad') throw new Error('nope');
      return { 'request.id': store.id, big: 'y'.repeat(500) };
    });
    const hook = (globalThis as Record<symbol, () => unknown>)[Symbol.for(CONTEXT_HOOK)];
    expect(Object.keys(globalThis)).not.toContain(CONTEXT_HOOK);
    expect(hook?.()).toBeUndefined();
    expect(storage.run({ id: 'r1' }, () => hook?.())).toEqual({
      attributes: { 'request.id': 'r1', big: 'y'.repeat(256) },
    });
    expect(storage.run({ id: 'bad' }, () => hook?.())).toEqual({ error: 'a trackContext() callback threw: nope' });
    stop();
    expect((globalThis as Record<symbol, unknown>)[Symbol.for(CONTEXT_HOOK)]).toBeUndefined();
    untrackAll();
  });
});

describe('context in reports', () => {
  it('one line in the pretty report', () => {
    const lines: string[] = [];
    contextLine(lines, {
      traceId: TRACE,
      spanId: SPAN,
      spanName: 'GET /checkout',
      attributes: { 'http.route': '/checkout', 'request.id': 'r1' },
    });
    expect(lines).toEqual([
      `    request: span "GET /checkout" (trace ${TRACE}, span ${SPAN}) http.route=/checkout request.id=r1`,
    ]);
  });

  it('in the health body', () => {
    const answer = livez(
      {
        silentMs: () => 2000,
        started: () => true,
        block: () => ({ id: 1, culprit: undefined, context: { traceId: TRACE, spanId: SPAN } }),
        lag: () => ({
          windowMs: 1,
          samples: 0,
          minMs: 0,
          meanMs: 0,
          stddevMs: 0,
          p50Ms: 0,
          p90Ms: 0,
          p99Ms: 0,
          maxMs: 0,
        }),
        pressure: () => ({
          blockedMs: 1990,
          recentLagMs: 0,
          p99LagMs: 0,
          utilization: 1,
          heapUsedBytes: 0,
          rssBytes: 0,
          check: 0,
        }),
      },
      {
        thresholdMs: 100,
        livenessMs: 1000,
        pressure: { maxLagMs: 100, maxUtilization: undefined, maxHeapUsedBytes: undefined, maxRssBytes: undefined },
      },
    );
    expect(answer.body).toMatchObject({ loop: { block: { id: 1, context: { traceId: TRACE } } } });
  });
});
