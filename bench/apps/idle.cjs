// An idle app for the cost section: prints when its first line runs (start-up cost of the
// preload), then, once the tool is armed and has settled, its resident set size.
const { writeSync } = require('node:fs');
writeSync(1, `STARTED ${Date.now()}\n`);
const { armed, result } = require('./_app.cjs');

(async () => {
  await armed();
  result({ rss: process.memoryUsage().rss });
  process.exit(0);
})();
