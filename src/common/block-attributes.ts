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

export class BlockAttributes {
  readonly #culprits = new Set<string>();
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
