// prom-client's default metrics (event-loop lag, GC, heap, handles). Prometheus pulls; to keep
// the data flowing to a loopback sink without a scraper process, the registry's text is
// pushed every second, as a Pushgateway client would.
const client = require('prom-client');
const http = require('node:http');
const { sinkUrl } = require('./_alert.cjs');

client.collectDefaultMetrics();
setInterval(async () => {
  const body = await client.register.metrics();
  const req = http.request(`${sinkUrl}/metrics/job/bench`, {
    method: 'POST',
    headers: { 'content-type': client.register.contentType },
  });
  req.on('error', () => {});
  req.end(body);
}, 1000).unref();
