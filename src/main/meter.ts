/**
 * Block metrics recorded with the app's own MeterProvider, on the main thread, from the events
 * the worker delivers once each block has ended. Same names, units and attributes as the
 * worker's export (src/worker/telemetry.ts), so one dashboard reads either.
 */
import { BLOCK_BUCKETS_S, BlockAttributes } from '../common/block-attributes.js';
import { packageVersion } from '../common/version.js';
import type { BlockEvent, HangEvent, MeterProviderLike } from '../types.js';

export function mainThreadInstruments(provider: MeterProviderLike): { block(event: BlockEvent): void; hang(event: HangEvent): void } {
  const meter = provider.getMeter('loopwatch', packageVersion());
  const blocks = meter.createCounter('loopwatch.blocks', { unit: '{block}', description: 'Blocks detected (recorded on the main thread, after each block)' });
  const duration = meter.createHistogram('loopwatch.block.duration', {
    unit: 's',
    description: 'Duration of each block, recorded when it ends',
    advice: { explicitBucketBoundaries: BLOCK_BUCKETS_S },
  });
  const hangs = meter.createCounter('loopwatch.hangs', { unit: '{hang}', description: 'Hangs: blocks past hangMs, processes past an exit deadline' });
  const attributes = new BlockAttributes();
  return {
    block(event) {
      if (event.state === 'ongoing') blocks.add(1, attributes.of(event));
      else duration.record(event.durationMs / 1000, attributes.of(event));
    },
    hang(event) {
      hangs.add(1, { 'loopwatch.hang.reason': event.reason, 'loopwatch.hang.action': event.action });
    },
  };
}
