// `node --test --import loopwatch/node-test`: the CommonJS build does the work (one instance
// per process, whichever way it is loaded).
import nodeTest from './index.js';

export const allowBlocking: typeof nodeTest.allowBlocking = nodeTest.allowBlocking;
export const expectNoBlocking: typeof nodeTest.expectNoBlocking = nodeTest.expectNoBlocking;
export const BlockingError: typeof nodeTest.BlockingError = nodeTest.BlockingError;
export const DEFAULT_NODE_TEST_HANG_MS: typeof nodeTest.DEFAULT_NODE_TEST_HANG_MS = nodeTest.DEFAULT_NODE_TEST_HANG_MS;
export type * from './index.js';
