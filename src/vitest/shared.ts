/** What the plugin (vitest's process) hands every test process through `provide`. */
import type { WireOptions } from '../testing/options.js';

export const PROVIDE_KEY = 'loopwatch';

export interface VitestWire {
  readonly options: WireOptions;
  /** The hang deadline in force (undefined: none). */
  readonly hangMs: number | undefined;
  /** Where the test processes write their events and what they run, for the hang report. */
  readonly runDir: string;
  readonly root: string;
}

/** What each test and each file records, read back by the summary. */
export const META_KEY = 'loopwatch';
