/**
 * Block metrics recorded with the app's own MeterProvider, on the main thread, from the events
 * the worker delivers once each block has ended. Same names, units and attributes as the
 * worker's export (src/worker/telemetry.ts), so one dashboard reads either.
 */
import type { BlockEvent, HangEvent, MeterProviderLike } from '../types.js';
import { culpritFrame } from '../worker/report.js';

const BUCKETS_S = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const MAX_CULPRITS = 50;
const OTHER = '_other';

export function mainThreadInstruments(provider: MeterProviderLike): { block(event: BlockEvent): void; hang(event: HangEvent): void } {
  const meter = provider.getMeter('loopwatch', '0.1.0');
  const blocks = meter.createCounter('loopwatch.blocks', { unit: '{block}', description: 'Blocks detected (recorded on the main thread, after each block)' });
  const duration = meter.createHistogram('loopwatch.block.duration', {
    unit: 's',
    description: 'Duration of each block, recorded when it ends',
    advice: { explicitBucketBoundaries: BUCKETS_S },
  });
  const hangs = meter.createCounter('loopwatch.hangs', { unit: '{hang}', description: 'Hangs: blocks past hangMs, processes past an exit deadline' });
  const culprits = new Set<string>();
  const open = new Map<number, Record<string, string>>();
  const attributesOf = (event: BlockEvent): Record<string, string> => {
    const frame = event.stackTiming === 'during' ? culpritFrame(event.stack) : undefined;
    if (frame === undefined) return { 'loopwatch.block.phase': event.phase };
    const key = `${frame.function}\0${frame.file}`;
    if (!culprits.has(key) && culprits.size >= MAX_CULPRITS) return { 'loopwatch.block.phase': event.phase, 'code.function.name': OTHER, 'code.file.path': OTHER };
    culprits.add(key);
    return { 'loopwatch.block.phase': event.phase, 'code.function.name': frame.function, 'code.file.path': frame.file };
  };
  return {
    block(event) {
      if (event.state === 'ongoing') {
        const attributes = attributesOf(event);
        open.set(event.id, attributes);
        blocks.add(1, attributes);
        return;
      }
      const attributes = open.get(event.id) ?? attributesOf(event);
      open.delete(event.id);
      duration.record(event.durationMs / 1000, attributes);
    },
    hang(event) {
      hangs.add(1, { 'loopwatch.hang.reason': event.reason, 'loopwatch.hang.action': event.action });
    },
  };
}
