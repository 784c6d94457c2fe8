// `npm run demo`: runs examples/server.mjs under `node --import loopwatch/register`, sends it
// one request that blocks its event loop and one that has to wait, and shows what loopwatch
// reported — live on stderr, and in the events file.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const server = fileURLToPath(new URL('./server.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'loopwatch-demo-'));
const eventsFile = join(dir, 'events.ndjson');
const say = (text) => process.stdout.write(`demo: ${text}\n`);

function request(base, path) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    get(`${base}${path}`, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: Math.round(performance.now() - started) }));
    }).on('error', reject);
  });
}

say('starting `node --import loopwatch/register examples/server.mjs` (LOOPWATCH_THRESHOLD_MS=100)');
const child = spawn(process.execPath, ['--import', 'loopwatch/register', server], {
  env: { ...process.env, LOOPWATCH_THRESHOLD_MS: '100', LOOPWATCH_EVENTS_FILE: eventsFile },
  stdio: ['ignore', 'pipe', 'pipe'],
});
// loopwatch writes its report to the app's stderr: pass it through, and notice the end of
// the block (so the demo stops the server after the report, not in the middle of it).
let blockEnded;
const ended = new Promise((resolve) => (blockEnded = resolve));
child.stderr.on('data', (chunk) => {
  process.stderr.write(chunk);
  if (/block #\d+ ended after/.test(chunk.toString())) blockEnded();
});
const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
const base = await new Promise((resolve, reject) => {
  let out = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
    const match = /listening on (\S+)/.exec(out);
    if (match) resolve(match[1]);
  });
  child.on('exit', () => reject(new Error(`the server exited before listening:\n${out}`)));
});

const quick = await request(base, '/health');
say(`GET /health → ${quick.status} in ${quick.ms} ms`);
say('GET /catalog (its handler blocks the loop) and GET /health right behind it…');
const [catalog, waiting] = await Promise.all([
  request(base, '/catalog'),
  new Promise((resolve) => setTimeout(resolve, 20)).then(() => request(base, '/health')),
]);
say(
  `GET /catalog → ${catalog.status} in ${catalog.ms} ms; GET /health → ${waiting.status} in ${waiting.ms} ms (it waited for the loop)`,
);

await ended;
child.kill('SIGTERM');
await exited;
const records = readFileSync(eventsFile, 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line));
// Progress records say how long a block had lasted so far, in case the process died in it.
const events = records.filter((record) => record.type !== 'progress');
const progress = records.length - events.length;
say(
  `${eventsFile} has ${events.length} events${progress === 0 ? '' : ` and ${progress} progress record${progress === 1 ? '' : 's'}`}; the last one:`,
);
const last = events.at(-1);
// Frames past the first two (of the stack and of the profiler's stack) are left out here.
const profile =
  last.profile === undefined ? {} : { profile: { ...last.profile, stack: last.profile.stack.slice(0, 2) } };
process.stdout.write(`${JSON.stringify({ ...last, stack: last.stack.slice(0, 2), ...profile }, null, 2)}\n`);
rmSync(dir, { recursive: true, force: true });
