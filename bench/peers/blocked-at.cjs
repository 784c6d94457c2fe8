// blocked-at: async_hooks around every async resource; reports, after the fact, the stack where
// the resource whose callback blocked was created.
const blockedAt = require('blocked-at');
const { alert, threshold } = require('./_alert.cjs');

blockedAt((ms, stack) => alert('blocked-at', { durationMs: ms, stack }), { threshold });
