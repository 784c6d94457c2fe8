// The ESM entry re-exports the CommonJS build, so a config that imports the plugin and tests
// that import allowBlocking() share one module instance.
import plugin from './index.js';

const loopwatch: typeof plugin.default = plugin.default;
export default loopwatch;
export const allowBlocking: typeof plugin.allowBlocking = plugin.allowBlocking;
export const expectNoBlocking: typeof plugin.expectNoBlocking = plugin.expectNoBlocking;
export const BlockingError: typeof plugin.BlockingError = plugin.BlockingError;
export type * from './index.js';
