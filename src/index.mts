// The ESM entry re-exports the CommonJS build, so `import` and `require` share one module
// instance (and one monitor) in a process that loads loopwatch both ways.
import loopwatch from './index.js';

export const start: typeof loopwatch.start = loopwatch.start;
export const LoopwatchError: typeof loopwatch.LoopwatchError = loopwatch.LoopwatchError;
export const DEFAULT_THRESHOLD_MS: typeof loopwatch.DEFAULT_THRESHOLD_MS = loopwatch.DEFAULT_THRESHOLD_MS;
export type * from './index.js';
