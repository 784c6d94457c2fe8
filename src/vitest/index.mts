// The ESM entry re-exports the CommonJS build, so a config that imports the plugin and tests
// that import allowBlocking() share one module instance.
import plugin from './index.js';
// The types come from named imports, never from the default import: TypeScript reads the
// default import of this CommonJS module as the whole module under moduleResolution node16
// but as the plugin function under bundler; named imports read the same under both.
import type {
  allowBlocking as AllowBlocking,
  expectNoBlocking as ExpectNoBlocking,
  BlockingError as BlockingErrorClass,
  LoopwatchVitestOptions,
  LoopwatchVitestPlugin,
} from './index.js';

const loopwatch: (options?: LoopwatchVitestOptions) => LoopwatchVitestPlugin = plugin.default;
export default loopwatch;
export const allowBlocking: typeof AllowBlocking = plugin.allowBlocking;
export const expectNoBlocking: typeof ExpectNoBlocking = plugin.expectNoBlocking;
export const BlockingError: typeof BlockingErrorClass = plugin.BlockingError;
export type * from './index.js';
