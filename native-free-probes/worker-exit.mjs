// Probe: a worker can end its process while the main thread spins forever. For each signal,
// run a child whose main thread never yields and whose worker, after 300 ms, calls
// process.kill(process.pid, signal) (SIGTERM: no handler installed, so the default action
// applies; SIGABRT: what hangAction "abort" sends, as process.abort() throws in a worker).
// The parent checks the child died by that signal and how long it took. This is the hang
// watchdog's last resort; process.exit() in a worker would end only the worker.
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { report } from './_shared.mjs';

const NAME = 'worker-exit';
const SIGNALS = ['SIGKILL', 'SIGTERM', 'SIGABRT'];

// The worker writes its send time with fs.writeSync: its console output would be relayed
// through the spinning main thread and never appear. Times are Date.now(): the one clock
// two processes share (each process has its own performance.timeOrigin).
const child = (signal) => `
const { Worker } = require('node:worker_threads');
new Worker(\`
  setTimeout(() => {
    require('node:fs').writeSync(1, String(Date.now()));
    process.kill(process.pid, '${signal}');
  }, 300);
\`, { eval: true });
for (;;); // the worker thread was started by the constructor and runs on its own
`;

function run(signal) {
  return new Promise((resolve) => {
    // In the temporary folder: a core file from SIGABRT, where the system keeps them, lands there.
    const proc = spawn(process.execPath, ['-e', child(signal)], {
      cwd: tmpdir(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (c) => {
      out += c;
    });
    // Backstop: a child that survives is killed, and the probe fails.
    const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
    proc.on('exit', (code, sig) => {
      const exitedAt = Date.now();
      clearTimeout(timer);
      const sentAt = Number(out.trim());
      resolve({ signal, code, sig, afterSendMs: sentAt ? exitedAt - sentAt : NaN });
    });
  });
}

const results = [];
for (const signal of SIGNALS) results.push(await run(signal));
const bad = results.find((r) => r.sig !== r.signal || Number.isNaN(r.afterSendMs));
if (bad) {
  report(
    NAME,
    false,
    `${bad.signal}: child ended with code ${bad.code}, signal ${bad.sig}` +
      (Number.isNaN(bad.afterSendMs) ? ', the worker never sent its signal' : ''),
  );
}
report(
  NAME,
  true,
  results.map((r) => `${r.signal} ended the spinning child ${r.afterSendMs} ms after the worker sent it`).join('; '),
);
