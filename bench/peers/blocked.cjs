// blocked: an interval on the main thread (default 100 ms) that reports how late it ran.
const blocked = require('blocked');
const { alert, threshold } = require('./_alert.cjs');

blocked((ms) => alert('blocked', { durationMs: ms }), { threshold });
