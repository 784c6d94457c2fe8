/**
 * The monitor's block counts for the prom-client bridge: the same counts, under the same
 * attributes and culprit cap, as the OpenTelemetry export records (src/worker/telemetry.ts),
 * published in the tally buffer (src/protocol/tally.ts) for the app's thread to read at scrape
 * time. Kept whether or not anyone reads them: a bridge registered late still sees every block
 * since start-up, and counting costs a map update per event.
 */
import { BlockAttributes } from '../common/block-attributes.js';
import { BLOCK_BUCKETS_S } from '../common/metrics.js';
import { type TallyAttributes, type TallyDocument, writeTally } from '../protocol/tally.js';
import type { BlockEvent, LoopwatchEvent, StackTiming } from '../types.js';
import type { Sink } from './sinks.js';
import type { Clock } from './time.js';

/**
 * Writes are spaced by at least this much: a storm of short blocks (a low threshold) publishes a
 * few times a second, not once per event. A lone block is published at once.
 */
const PUBLISH_EVERY_MS = 100;

interface Histogram {
  readonly attributes: TallyAttributes;
  readonly buckets: number[];
  sum: number;
  count: number;
}

/** The counts, as a pure function of the events (unit-tested without threads). */
export class BlockTally {
  readonly #attributes = new BlockAttributes();
  readonly #blocks = new Map<string, { attributes: TallyAttributes; count: number }>();
  readonly #durations = new Map<string, Histogram>();
  readonly #captures = new Map<StackTiming, number>();
  readonly #hangs = new Map<string, { attributes: TallyAttributes; count: number }>();

  /** Counts one event, as the OpenTelemetry export does. */
  add(event: LoopwatchEvent): void {
    if (event.type === 'hang') {
      count(this.#hangs, { 'loopwatch.hang.reason': event.reason, 'loopwatch.hang.action': event.action });
      return;
    }
    // A block found only after it ended (before the monitor was armed) is counted when it ends.
    if (event.state === 'ongoing' || event.beforeArmed === true) count(this.#blocks, this.#attributes.of(event));
    if (event.state === 'ended') this.#ended(event);
  }

  #ended(event: BlockEvent): void {
    const attributes = this.#attributes.of(event);
    const key = JSON.stringify(attributes);
    let histogram = this.#durations.get(key);
    if (histogram === undefined) {
      histogram = { attributes, buckets: new Array<number>(BLOCK_BUCKETS_S.length + 1).fill(0), sum: 0, count: 0 };
      this.#durations.set(key, histogram);
    }
    const seconds = event.durationMs / 1000;
    // OpenTelemetry's explicit buckets are (previous, bound]: a value equal to a bound counts in it.
    const bucket = BLOCK_BUCKETS_S.findIndex((bound) => seconds <= bound);
    const index = bucket === -1 ? BLOCK_BUCKETS_S.length : bucket;
    histogram.buckets[index] = (histogram.buckets[index] ?? 0) + 1;
    histogram.sum += seconds;
    histogram.count += 1;
    this.#captures.set(event.stackTiming, (this.#captures.get(event.stackTiming) ?? 0) + 1);
  }

  document(): TallyDocument {
    return {
      blocks: [...this.#blocks.values()],
      durations: [...this.#durations.values()],
      captures: [...this.#captures].map(([timing, n]) => ({
        attributes: { 'loopwatch.stack.timing': timing },
        count: n,
      })),
      hangs: [...this.#hangs.values()],
    };
  }
}

function count(map: Map<string, { attributes: TallyAttributes; count: number }>, attributes: TallyAttributes): void {
  const key = JSON.stringify(attributes);
  const entry = map.get(key);
  if (entry === undefined) map.set(key, { attributes, count: 1 });
  else entry.count += 1;
}

/** The tally as a sink: counts every event and publishes the counts, spaced in time. */
export class TallySink implements Sink {
  readonly name = 'tally';
  readonly #buffer: SharedArrayBuffer;
  readonly #clock: Clock;
  readonly #warn: (key: string, message: string) => void;
  readonly #tally = new BlockTally();
  #publishedAt = -Infinity;
  #timer: unknown;

  constructor(buffer: SharedArrayBuffer, clock: Clock, warn: (key: string, message: string) => void) {
    this.#buffer = buffer;
    this.#clock = clock;
    this.#warn = warn;
    // Published once at start, so a reader can tell "no blocks yet" from "not published yet".
    this.#publish();
  }

  write(event: LoopwatchEvent): void {
    this.#tally.add(event);
    if (this.#timer !== undefined) return;
    const wait = this.#publishedAt + PUBLISH_EVERY_MS - this.#clock.now();
    if (wait <= 0) {
      this.#publish();
      return;
    }
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#publish();
    }, wait);
  }

  #publish(): void {
    this.#publishedAt = this.#clock.now();
    if (!writeTally(this.#buffer, this.#tally.document()))
      this.#warn(
        'tally',
        'the block counts no longer fit the buffer the prom-client bridge reads; it shows older counts',
      );
  }

  close(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
  }
}
