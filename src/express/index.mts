// The ESM entry re-exports the CommonJS build: one monitor, whichever way the app loads it.
import middleware from './index.js';
// Types from named imports (see vitest/index.mts).
import type { expressLoopwatch as Factory } from './index.js';

export const expressLoopwatch: typeof Factory = middleware.expressLoopwatch;
export default expressLoopwatch;
export type * from './index.js';
