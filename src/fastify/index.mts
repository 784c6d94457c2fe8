// The ESM entry re-exports the CommonJS build: one monitor, one plugin function, whichever way
// the app loads it.
import plugin from './index.js';
// Types from named imports (see vitest/index.mts: the default import of a CommonJS module reads
// differently under moduleResolution node16 and bundler).
import type { fastifyLoopwatch as Plugin } from './index.js';

export const fastifyLoopwatch: typeof Plugin = plugin.fastifyLoopwatch;
export default fastifyLoopwatch;
export type * from './index.js';
