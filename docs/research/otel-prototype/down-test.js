// node down-test.js <line-dir> <endpoint>   — how does flush behave when the collector is down / slow?
const { buildPipeline } = require(process.argv[2] + '/dist/telemetry.js');
const { diag, DiagLogLevel } = require(process.argv[2] + '/node_modules/@opentelemetry/api');
const msgs = [];
diag.setLogger(
  {
    error: (...a) => msgs.push('error: ' + a.join(' ').slice(0, 160)),
    warn: (...a) => msgs.push('warn: ' + a.join(' ').slice(0, 160)),
    info() {},
    debug() {},
    verbose() {},
  },
  DiagLogLevel.WARN,
);
const pl = buildPipeline(
  { kind: 'otlp', protocol: 'http/protobuf', endpoint: process.argv[3], intervalMs: 1000 },
  'down',
);
const frame = { fn: 'f', file: '/x.js', line: 1, col: 1, stack: 'Error' };
pl.recordBlock(1, 'running', frame, 'ongoing', 1);
const t0 = Date.now();
pl.flush()
  .then(
    () => console.log('flush resolved after', Date.now() - t0, 'ms'),
    (e) => console.log('flush rejected after', Date.now() - t0, 'ms', e.message),
  )
  .then(() => pl.shutdown())
  .then(() => {
    console.log('shutdown done after', Date.now() - t0, 'ms');
    console.log(msgs.slice(0, 6).join('\n'));
  });
