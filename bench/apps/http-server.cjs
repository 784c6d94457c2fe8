// node:http hello world, the server half of the HTTP overhead benchmark. GET /__cpu answers the
// process's CPU time so far (all threads, so a monitor's worker counts): the bench reads it
// before and after each load slice to get CPU time per request, a figure that other jobs on a
// shared machine disturb much less than requests/s.
const http = require('node:http');
const { armed } = require('./_app.cjs');

const server = http.createServer((req, res) => {
  if (req.url === '/__cpu') {
    const { user, system } = process.cpuUsage();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ cpuUs: user + system }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('hello world');
});
server.listen(0, '127.0.0.1', async () => {
  await armed();
  process.stdout.write(`READY ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
