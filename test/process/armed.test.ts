/**
 * No block lost before the monitor is armed (issue 13): the worker arms tens of milliseconds
 * after start() (hundreds on a loaded machine), and loading the OpenTelemetry SDK used to come
 * first (~0.4 s). A start-up block is reported every time: seen while it lasts, or found in the
 * heartbeat's history when the watchdog arms.
 */
import { describe, expect, it } from 'vitest';
import { describeRun, fixture, run } from './harness.js';
import { OtlpReceiver } from './otlp-receiver.js';
import { record } from './report.js';

const REPEAT = 20;
const BLOCK_MS = 250;

describe('a block before the monitor is armed', () => {
  it(
    `a ${BLOCK_MS} ms top-level block with the OTel exporter configured is reported, ${REPEAT} times in a row`,
    { timeout: 180_000 },
    async () => {
      const receiver = new OtlpReceiver();
      const endpoint = await receiver.listen();
      const paths: string[] = [];
      try {
        for (let i = 0; i < REPEAT; i++) {
          const result = await run(fixture('startup-otel.cjs'), {
            mode: 'require',
            env: {
              LOOPWATCH_THRESHOLD_MS: '100',
              OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
              OTEL_METRIC_EXPORT_INTERVAL: '60000',
            },
          });
          const why = `run ${i + 1}: ${describeRun(result)}`;
          expect(result.code, why).toBe(0);
          const ended = result.events.filter((e) => e.state === 'ended');
          expect(ended, why).toHaveLength(1);
          const block = ended[0];
          expect(block?.phase, why).toBe('startup');
          // Its real duration: the 250 ms of top-level code (and the rest of the entry's loading).
          expect(block?.durationMs, why).toBeGreaterThanOrEqual(BLOCK_MS - 1);
          expect(block?.durationMs, why).toBeLessThan(BLOCK_MS + 1000);
          if (block?.beforeArmed === true) {
            expect(block.stackTiming, why).toBe('none');
            expect(result.events, why).toHaveLength(1);
          } else {
            expect(
              result.events.map((e) => e.state),
              why,
            ).toEqual(['ongoing', 'ended']);
          }
          paths.push(block?.beforeArmed === true ? 'history' : 'live');
        }
      } finally {
        receiver.close();
      }
      record({
        scenario: `start-up block with OTel, ${REPEAT} runs: reported`,
        live: paths.filter((p) => p === 'live').length,
        history: paths.filter((p) => p === 'history').length,
      });
    },
  );
});
