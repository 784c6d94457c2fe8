// Helpers for the bench's child programs (the "apps" the tools watch).
const { writeSync } = require('node:fs');
const { join } = require('node:path');

/** `MARK name epochMs`, written synchronously so it leaves before a block that follows. */
exports.mark = function mark(name) {
  writeSync(1, `MARK ${name} ${Date.now()}\n`);
};

exports.result = function result(value) {
  writeSync(1, `RESULT ${JSON.stringify(value)}\n`);
};

/**
 * Resolves once the tool under test is armed: loopwatch says so (`start().ready` returns the
 * monitor its preload started); the others do not, so every variant then waits the same
 * settle time (BENCH_SETTLE_MS), which also covers their workers' start.
 */
exports.armed = async function armed() {
  if (process.env.BENCH_TOOL === 'loopwatch') {
    await require(join(__dirname, '..', '..', 'dist', 'index.js')).start().ready;
  }
  await new Promise((resolve) => setTimeout(resolve, Number(process.env.BENCH_SETTLE_MS ?? 300)));
};

/** A JavaScript busy loop of `ms` (the loop a tool must attribute). */
exports.spin = function spin(ms) {
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) n++;
  return n;
};
