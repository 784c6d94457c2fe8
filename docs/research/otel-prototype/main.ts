import { Worker } from 'node:worker_threads';
import * as path from 'node:path';
import * as fs from 'node:fs';
import type { Exporters } from './telemetry.js';

const [mode = 'memory', arg1 = '', arg2 = ''] = process.argv.slice(2);
const timingFile = process.env.TIMING_FILE;
function stamp(what: string): void {
  if (timingFile) fs.appendFileSync(timingFile, JSON.stringify({ what, t: Date.now() }) + '\n');
}

let exporters: Exporters;
if (mode === 'memory') exporters = { kind: 'memory' };
else if (mode === 'prometheus') exporters = { kind: 'prometheus', host: '127.0.0.1', port: Number(arg1) };
else
  exporters = {
    kind: 'otlp',
    protocol: arg1 === 'http/json' ? 'http/json' : 'http/protobuf',
    endpoint: arg2,
    intervalMs: 1000,
  };

const spinMs = Number(process.env.SPIN_MS ?? 0);
const w = new Worker(path.join(__dirname, 'worker.js'), {
  workerData: { exporters, timingFile, emitDelayMs: Number(process.env.EMIT_DELAY_MS ?? 300) },
  execArgv: [],
  env: process.env,
  stdout: false,
  stderr: false,
});
w.on('error', (e) => {
  console.error('worker error event', e);
  process.exitCode = 1;
});
w.on('message', (m: { ready?: boolean }) => {
  if (m.ready) {
    if (spinMs > 0) {
      stamp('spin-start');
      const end = Date.now() + spinMs;
      while (Date.now() < end) {
        /* block the main thread */
      }
      stamp('spin-end');
    }
    if (mode === 'prometheus')
      setTimeout(() => w.postMessage({ stop: true }), Number(process.env.PROM_KEEP_MS ?? 1000));
    return;
  }
  console.log(JSON.stringify(m, null, 1));
});
w.on('exit', (c) => {
  stamp('worker-exit');
  if (c !== 0) process.exitCode = c;
});
