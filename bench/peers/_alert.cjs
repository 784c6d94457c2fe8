// How a peer's preload reports an alert it gets on the main thread: one line on stderr,
// written synchronously, timestamped by the bench when it arrives.
const { writeSync } = require('node:fs');

exports.alert = function alert(tool, fields) {
  writeSync(2, `BENCHALERT ${JSON.stringify({ tool, at: Date.now(), ...fields })}\n`);
};

exports.threshold = Number(process.env.BENCH_THRESHOLD_MS ?? 100);
exports.sinkUrl = process.env.BENCH_SINK_URL ?? 'http://127.0.0.1:9';
// The project id in the DSN is the bench's run id: envelopes arrive at /api/<id>/envelope/, so
// runs going on at the same time are told apart.
exports.sentryDsn = () => `${exports.sinkUrl.replace('://', '://bench@')}/${process.env.BENCH_RUN_ID ?? 1}`;
