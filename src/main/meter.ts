/**
 * Block metrics recorded with the app's own MeterProvider, on the main thread, from the events
 * the worker delivers once each block has ended. Same definitions (src/common/metrics.ts) and attributes
 * as the worker's export (src/worker/telemetry.ts), so one dashboard reads either.
 */
import { BlockAttributes } from '../common/block-attributes.js';
import { instrumentOptions, METRICS } from '../common/metrics.js';
import { packageVersion } from '../common/version.js';
import type { BlockEvent, HangEvent, MeterProviderLike } from '../types.js';

export function mainThreadInstruments(provider: MeterProviderLike): {
  block(event: BlockEvent): void;
  hang(event: HangEvent): void;
} {
  const meter = provider.getMeter('loopwatch', packageVersion());
  const blocks = meter.createCounter(METRICS.blocks.name, instrumentOptions(METRICS.blocks));
  const duration = meter.createHistogram(METRICS.blockDuration.name, instrumentOptions(METRICS.blockDuration));
  const hangs = meter.createCounter(METRICS.hangs.name, instrumentOptions(METRICS.hangs));
  const attributes = new BlockAttributes();
  return {
    block(event) {
      // A block found only after it ended (before the monitor was armed) is counted when it ends.
      if (event.state === 'ongoing' || event.beforeArmed === true) blocks.add(1, attributes.of(event));
      if (event.state === 'ended') duration.record(event.durationMs / 1000, attributes.of(event));
    },
    hang(event) {
      hangs.add(1, { 'loopwatch.hang.reason': event.reason, 'loopwatch.hang.action': event.action });
    },
  };
}
