/**
 * The context attribute of the block the test integrations make on purpose to prove loopwatch
 * is armed (the canary, see testing/runtime.ts). Whoever reads events — `loopwatch run`,
 * `loopwatch report` — leaves it out: it is not the app's block.
 */
export const CANARY_ATTRIBUTE = 'loopwatch.canary';
