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

/** A slice that has not ended this long after its duration: the server stopped answering. */
const GRACE_MS = 15_000;
/** Resolves with undefined instead when `ms` pass first. */
const within = (promise, ms) =>
  Promise.race([promise, new Promise((resolve) => setTimeout(resolve, ms, undefined).unref())]);

function slice(port, duration) {
  let instance;
  const done = new Promise((resolve, reject) => {
    instance = autocannon({ url: `http://127.0.0.1:${port}/`, connections, duration }, (error, res) =>
      error ? reject(error) : resolve(res),
    );
  });
  return within(done, duration * 1000 + GRACE_MS).then((res) => {
    if (res === undefined) instance.stop();
    return res;
  });
}

// A server that stops answering (a tool wedged its app: seen with one peer) is measured no
// further; its remaining slices are written as `wedged`, and the others go on.
const wedged = new Set();
const write = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

// Warm-up: one slice per server, not recorded (JIT, connection pools).
for (const name of names) if ((await slice(servers[name], 1)) === undefined) wedged.add(name);
for (let r = 0; r < rounds; r++) {
  const k = r % names.length;
  for (const name of [...names.slice(k), ...names.slice(0, k)]) {
    if (wedged.has(name)) {
      write({ round: r, name, wedged: true });
      continue;
    }
    const port = servers[name];
    const before = await within(cpu(port), GRACE_MS);
    const res = before === undefined ? undefined : await slice(port, seconds);
    const after = res === undefined ? undefined : await within(cpu(port), GRACE_MS);
    if (after === undefined) {
      wedged.add(name);
      write({ round: r, name, wedged: true });
      continue;
    }
    if (res.errors || res.non2xx) throw new Error(`${name}: ${res.errors} errors, ${res.non2xx} non-2xx`);
    write({
      round: r,
      name,
      rps: res.requests.average,
      p99: res.latency.p99,
      cpuUsPerReq: (after - before) / res.requests.total,
    });
  }
}
// Connections to a wedged server would keep this process alive.
process.exit(0);
