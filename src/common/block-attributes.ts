/**
 * Metric attributes of blocks, shared by the worker's export and `useMeterProvider()` on the
 * main thread, so both write the same series: the phase and, within a cap, the culprit.
 */
import type { BlockEvent } from '../types.js';
import { culpritOfEvent } from './culprit.js';

/**
 * Distinct culprits (function, file) that keep their names as metric attributes; later ones
 * are counted under `code.function.name="_other"`. Keeps a process's series bounded however
 * many different places block.
 */
export const MAX_CULPRITS = 50;
export const OTHER = '_other';
/**
 * Distinct worker-thread names that keep their name as the `thread.name` attribute; later ones
 * count under `_other`. A pool's threads share a name, or have none (`worker`), so this is
 * rarely reached; thread ids are never metric attributes (a churning pool has thousands).
 */
export const MAX_THREAD_NAMES = 16;

/**
 * `thread.id` and `thread.name` (OpenTelemetry's general attributes) of a worker thread's event,
 * for log records; nothing for the main thread's, whose records stay as they were.
 */
export function threadAttributes(event: {
  thread?: string | undefined;
  threadName?: string | undefined;
}): Record<string, string | number> {
  const id = /^worker (\d+)$/.exec(event.thread ?? '')?.[1];
  if (id === undefined) return {};
  return { 'thread.id': Number(id), 'thread.name': event.threadName ?? 'worker' };
}

export class BlockAttributes {
  readonly #culprits = new Set<string>();
  readonly #threadNames = new Set<string>();
  /** Attributes of each open block, by id: its `ended` event counts under the same ones. */
  readonly #open = new Map<number, Record<string, string>>();

  /** The attributes of this event's block (an `ongoing` event opens it, `ended` closes it). */
  of(event: BlockEvent): Record<string, string> {
    if (event.state === 'ongoing') {
      const attributes = this.#compute(event);
      this.#open.set(event.id, attributes);
      return attributes;
    }
    const attributes = this.#open.get(event.id) ?? this.#compute(event);
    this.#open.delete(event.id);
    return attributes;
  }

  #compute(event: BlockEvent): Record<string, string> {
    return { ...this.#code(event), ...this.#thread(event) };
  }

  /** `thread.name` of a worker thread's block (bounded, see MAX_THREAD_NAMES); none for main. */
  #thread(event: BlockEvent): Record<string, string> {
    if (event.thread === 'main') return {};
    const name = event.threadName ?? 'worker';
    if (!this.#threadNames.has(name) && this.#threadNames.size >= MAX_THREAD_NAMES) return { 'thread.name': OTHER };
    this.#threadNames.add(name);
    return { 'thread.name': name };
  }

  #code(event: BlockEvent): Record<string, string> {
    // Only culprits read during the block (or from its samples) name a series: a late stack may
    // name code that ran after the culprit.
    const named = culpritOfEvent(event);
    const culprit = named?.source === 'late' ? undefined : named;
    if (culprit === undefined) return { 'loopwatch.block.phase': event.phase };
    const key = `${culprit.function}\0${culprit.file}`;
    if (!this.#culprits.has(key) && this.#culprits.size >= MAX_CULPRITS) {
      return { 'loopwatch.block.phase': event.phase, 'code.function.name': OTHER, 'code.file.path': OTHER };
    }
    this.#culprits.add(key);
    return {
      'loopwatch.block.phase': event.phase,
      'code.function.name': culprit.function,
      'code.file.path': culprit.file,
    };
  }
}
