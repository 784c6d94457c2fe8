// The worker-pool scenario's task: a small CPU job (a few hundred µs of hashing), or, when
// asked, a block of `spinMs` in a function of its own (the culprit the monitor must name).
const { createHash } = require('node:crypto');
const { threadId } = require('node:worker_threads');
const { mark, spin } = require('./_app.cjs');

function renderThumbnail(spinMs) {
  mark(`block-${threadId}`);
  return spin(spinMs);
}

module.exports = function task({ rounds, spinMs }) {
  if (spinMs !== undefined) return renderThumbnail(spinMs);
  let digest = 'seed';
  for (let i = 0; i < rounds; i++) digest = createHash('sha256').update(digest).digest('hex');
  return digest.length;
};
