// Independent OTLP/HTTP receiver: decodes with protobufjs + the official
// opentelemetry-proto .proto files (as vendored in @elastic/mockotlpserver).
// usage: node receiver.js <protoRootDir> <outFile.jsonl>   (prints "PORT <n>")
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const protobuf = require('/tmp/otel-research/tools/node_modules/protobufjs');

const [protoDir, outFile] = process.argv.slice(2);
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => path.join(protoDir, target);
root.loadSync([
  'opentelemetry/proto/collector/logs/v1/logs_service.proto',
  'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
]);
const LogRecord = root.lookupType('opentelemetry.proto.logs.v1.LogRecord');
let patched = false;
if (!LogRecord.fields.eventName) {
  // opentelemetry-proto < v1.5.0 lacks LogRecord.event_name (field 12): add it.
  LogRecord.add(new protobuf.Field('eventName', 12, 'string'));
  patched = true;
}
const types = {
  '/v1/logs': root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'),
  '/v1/metrics': root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest'),
};
const toObj = { longs: String, enums: String, bytes: String, defaults: false, oneofs: false };

const server = http.createServer((req, res) => {
  const arrived = Date.now();
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const ct = String(req.headers['content-type'] || '');
    const T = types[req.url];
    let decoded = null,
      error = null;
    try {
      if (!T) throw new Error('unknown path ' + req.url);
      if (ct.includes('json')) {
        const raw = JSON.parse(body.toString('utf8'));
        const err = T.verify(T.fromObject(raw)); // validate against the schema
        if (err) throw new Error('verify: ' + err);
        decoded = raw;
      } else {
        decoded = T.toObject(T.decode(body), toObj);
      }
    } catch (e) {
      error = String((e && e.message) || e);
    }
    fs.appendFileSync(
      outFile,
      JSON.stringify({
        arrived,
        path: req.url,
        ct,
        encoding: req.headers['content-encoding'] || null,
        bytes: body.length,
        ua: req.headers['user-agent'],
        error,
        decoded,
      }) + '\n',
    );
    if (ct.includes('json')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    } else {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`PORT ${server.address().port} patchedEventName=${patched}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
