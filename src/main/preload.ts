/**
 * What `loopwatch/register` (a `-r` / `--import` preload, as `loopwatch run` puts in
 * NODE_OPTIONS) started in this process, so that a test integration loaded later can take over
 * the tests it owns. Under a `Symbol.for` key: the CJS and ESM builds may both be loaded.
 */
import type { Monitor, ResolvedOptions } from '../types.js';

const PRELOADED = Symbol.for('loopwatch.preload.v1');

export interface Preloaded {
  /** The preload's options (from the LOOPWATCH_* environment). */
  readonly options: ResolvedOptions;
  /** Its monitor; undefined where it watches nothing (node --test's runner) or was replaced. */
  monitor: Monitor | undefined;
}

type Global = typeof globalThis & { [PRELOADED]?: Preloaded };

export function markPreloaded(preloaded: Preloaded): void {
  (globalThis as Global)[PRELOADED] = preloaded;
}

export function preloaded(): Preloaded | undefined {
  return (globalThis as Global)[PRELOADED];
}
