// The load generator, in its own process: autocannon against every variant's server in turn,
// in short slices, the order rotating each round, so that each variant's slices are spread
// over the same stretch of time as the others'. Prints one JSON line per slice.
// argv: <json {servers: {name: port}, rounds, seconds, connections}>
import autocannon from 'autocannon';
import { get } from 'node:http';

const { servers, rounds, seconds, connections } = JSON.parse(process.argv[2]);
const names = Object.keys(servers);

const cpu = (port) =>
  new Promise((resolve, reject) => {
    get(`http://127.0.0.1:${port}/__cpu`, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(JSON.parse(body).cpuUs));
    }).on('error', reject);
  });

const slice = (port, duration) => autocannon({ url: `http://127.0.0.1:${port}/`, connections, duration });

// Warm-up: one slice per server, not recorded (JIT, connection pools).
for (const name of names) await slice(servers[name], 1);
for (let r = 0; r < rounds; r++) {
  const k = r % names.length;
  for (const name of [...names.slice(k), ...names.slice(0, k)]) {
    const port = servers[name];
    const before = await cpu(port);
    const res = await slice(port, seconds);
    const after = await cpu(port);
    if (res.errors || res.non2xx) throw new Error(`${name}: ${res.errors} errors, ${res.non2xx} non-2xx`);
    const line = {
      round: r,
      name,
      rps: res.requests.average,
      p99: res.latency.p99,
      cpuUsPerReq: (after - before) / res.requests.total,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
}
