// The prom-client bridge's contract without a monitor: what a scrape shows before start(), and
// the coded errors. With a monitor, see test/process/prometheus.test.ts and package.test.ts.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LoopwatchError } from '../../src/errors.js';
import { collectLoopwatchMetrics } from '../../src/prom-client/index.js';

function thrown(fn: () => unknown): LoopwatchError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(LoopwatchError);
    return error as LoopwatchError;
  }
  throw new Error('expected a LoopwatchError');
}

describe('collectLoopwatchMetrics() before start()', () => {
  it('registers every name; a scrape shows loopwatch_up 0 and no other sample', async () => {
    const register = new Registry();
    collectLoopwatchMetrics({ register, labels: { service: 'shop' } });
    const text = await register.metrics();
    const samples = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    expect(samples).toEqual(['loopwatch_up{service="shop"} 0']);
    for (const name of [
      'loopwatch_blocks_total',
      'loopwatch_block_duration_seconds',
      'loopwatch_block_current_duration_seconds',
      'nodejs_eventloop_delay_p99_seconds',
      'nodejs_eventloop_utilization_ratio',
      'nodejs_eventloop_time_seconds_total',
    ])
      expect(text).toContain(`# TYPE ${name} `);
    // The cluster aggregator and resetMetrics() find what prom-client's own metrics have.
    expect((await register.getMetricsAsJSON()).map((m) => m.aggregator)).toContain('max');
    register.resetMetrics();
  });

  it('takes a prefix, and refuses a second registration of the same names', () => {
    const register = new Registry();
    collectLoopwatchMetrics({ register, prefix: 'app_' });
    expect(register.getSingleMetric('app_loopwatch_blocks_total')).toBeDefined();
    const error = thrown(() => collectLoopwatchMetrics({ register, prefix: 'app_' }));
    expect(error.code).toBe('ERR_LOOPWATCH_INVALID_OPTION');
    expect(error.message).toContain('app_loopwatch_up');
    collectLoopwatchMetrics({ register });
  });

  it('names the option, the value and what is expected', () => {
    const register = new Registry();
    expect(thrown(() => collectLoopwatchMetrics({ register, prefix: 'my-app' })).message).toBe(
      '`prefix` must be a Prometheus metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*), got "my-app"',
    );
    expect(thrown(() => collectLoopwatchMetrics({ register, labels: { code_function_name: 'x' } })).message).toMatch(
      /^label name "code_function_name" in `labels` must be a Prometheus label name/,
    );
    expect(thrown(() => collectLoopwatchMetrics({ register, labels: { env: {} as string } })).message).toBe(
      '`labels.env` must be a string or a number, got object',
    );
    expect(thrown(() => collectLoopwatchMetrics({ register: JSON.parse('{}') as Registry })).code).toBe(
      'ERR_LOOPWATCH_INVALID_OPTION',
    );
    // Nothing was registered by the refused calls.
    expect(register.getMetricsAsArray()).toHaveLength(0);
  });
});
