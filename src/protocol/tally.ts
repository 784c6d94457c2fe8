/**
 * The tally buffer: the monitor's block counts, published by the worker for readers on the
 * app's thread — the prom-client bridge reads it when Prometheus scrapes the app, so the app's
 * thread does nothing between scrapes, and a scrape needs no answer from the worker.
 *
 *   bytes 0–3   Int32 VERSION  worker: odd while it writes, even once the document is whole
 *   bytes 4–7   Int32 LENGTH   worker: the document's length in bytes
 *   bytes 8–    the document, UTF-8 JSON (a TallyDocument)
 *
 * A sequence lock: a reader copies the document between two reads of an even VERSION and keeps
 * the copy only if both reads agree. The worker writes at most a few times a second (see
 * worker/tally.ts), each write takes microseconds, so a reader practically never retries. The
 * buffer is growable: it starts small and grows when the culprits' names need more room.
 */
import type { StackTiming } from '../types.js';

export const TALLY_I32 = {
  /** Worker: bumped before and after each write (odd while writing); 0 until the first. */
  VERSION: 0,
  /** Worker: the document's length in bytes. */
  LENGTH: 1,
} as const;
export const TALLY_HEADER_BYTES = 8;
/** Room for a few dozen culprits' names at first. */
export const TALLY_INITIAL_BYTES = 16 * 1024;
/**
 * The most the buffer grows to. The culprit cap (MAX_CULPRITS) bounds the document well below
 * this; a document that does not fit is not published (the last one that did stays).
 */
export const TALLY_MAX_BYTES = 4 * 1024 * 1024;
/** A reader gives up after this many torn copies (and keeps what it read before). */
const READ_ATTEMPTS = 100;

/** Metric attributes, as the OpenTelemetry export writes them (`code.function.name`, …). */
export type TallyAttributes = Readonly<Record<string, string>>;

export interface TallyCount {
  readonly attributes: TallyAttributes;
  readonly count: number;
}

export interface TallyHistogram {
  readonly attributes: TallyAttributes;
  /** Counts per bucket of BLOCK_BUCKETS_S (not cumulative), then one for the values above the last. */
  readonly buckets: readonly number[];
  /** Seconds. */
  readonly sum: number;
  readonly count: number;
}

/** Everything counted since the monitor started, under the OpenTelemetry export's attributes. */
export interface TallyDocument {
  /** `loopwatch.blocks`: blocks by culprit and phase (and thread name for worker threads). */
  readonly blocks: readonly TallyCount[];
  /** `loopwatch.block.duration`: durations of ended blocks, by the same attributes. */
  readonly durations: readonly TallyHistogram[];
  /** `loopwatch.captures`: ended blocks by when their stack was taken. */
  readonly captures: readonly (TallyCount & { readonly attributes: { 'loopwatch.stack.timing': StackTiming } })[];
  /** `loopwatch.hangs`: by reason and action. */
  readonly hangs: readonly TallyCount[];
}

/** A buffer for the tally, growable where the runtime allows it. */
export function createTallyBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(TALLY_INITIAL_BYTES, { maxByteLength: TALLY_MAX_BYTES });
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Worker: publishes a document; false when it does not fit in the buffer even grown. */
export function writeTally(buffer: SharedArrayBuffer, document: TallyDocument): boolean {
  const bytes = encoder.encode(JSON.stringify(document));
  const needed = TALLY_HEADER_BYTES + bytes.length;
  if (needed > buffer.byteLength) {
    if (!buffer.growable || needed > buffer.maxByteLength) return false;
    buffer.grow(Math.min(buffer.maxByteLength, Math.max(needed, buffer.byteLength * 2)));
  }
  const i32 = new Int32Array(buffer, 0, 2);
  Atomics.add(i32, TALLY_I32.VERSION, 1);
  new Uint8Array(buffer, TALLY_HEADER_BYTES, bytes.length).set(bytes);
  Atomics.store(i32, TALLY_I32.LENGTH, bytes.length);
  Atomics.add(i32, TALLY_I32.VERSION, 1);
  return true;
}

/**
 * Reader: the last document published, with its version; undefined before the first, or when
 * every copy was torn by a write (READ_ATTEMPTS in a row: the caller keeps its previous copy).
 */
export function readTally(buffer: SharedArrayBuffer): { version: number; document: TallyDocument } | undefined {
  const i32 = new Int32Array(buffer, 0, 2);
  for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
    const version = Atomics.load(i32, TALLY_I32.VERSION);
    if (version === 0) return undefined;
    if ((version & 1) === 1) continue;
    const length = Atomics.load(i32, TALLY_I32.LENGTH);
    if (TALLY_HEADER_BYTES + length > buffer.byteLength) continue;
    // TextDecoder does not read shared memory: copy first, then check nothing moved meanwhile.
    const copy = new Uint8Array(length);
    copy.set(new Uint8Array(buffer, TALLY_HEADER_BYTES, length));
    if (Atomics.load(i32, TALLY_I32.VERSION) !== version) continue;
    return { version, document: JSON.parse(decoder.decode(copy)) as TallyDocument };
  }
  return undefined;
}
