// The ESM entry re-exports the CommonJS build, so both read the one monitor of the process.
import bridge from './index.js';

export const collectLoopwatchMetrics: typeof bridge.collectLoopwatchMetrics = bridge.collectLoopwatchMetrics;
export type * from './index.js';
