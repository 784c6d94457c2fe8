// A block at start-up: the entry module's top level runs for a while before the loop turns.
const { mark, spin } = require('./_app.cjs');

function loadConfiguration() {
  return spin(Number(process.env.BENCH_BLOCK_MS ?? 600));
}

mark('block');
loadConfiguration();
mark('unblock');
mark('done');
setTimeout(() => process.exit(0), 600);
