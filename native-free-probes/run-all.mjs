// Runs every probe in this folder, each in its own child process under the Node running this
// script, and prints a table (or a JSON array with --json). Exit code 0 if all are ok.
// A probe counts as ok only if its last stdout line says "ok" AND it exited with code 0.
// Files starting with "_" are helpers, not probes.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const TIMEOUT_MS = 20_000;
const here = dirname(fileURLToPath(import.meta.url));
const self = basename(fileURLToPath(import.meta.url));
const json = process.argv.includes('--json');

const probes = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && f !== self && !f.startsWith('_'))
  .sort();

function run(file) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    // Probes measure timing: run them one at a time, with no inspector/preload flags inherited.
    const child = spawn(process.execPath, [join(here, file)], {
      cwd: here,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let stdout = '',
      stderr = '',
      timedOut = false;
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const ms = Math.round(performance.now() - t0);
      const last = stdout.trim().split('\n').pop() ?? '';
      const m = /^(ok|FAIL)\s+([^:]+):\s?(.*)$/.exec(last);
      const ok = Boolean(m) && m[1] === 'ok' && code === 0;
      let detail = m ? m[3] : last || stderr.trim().split('\n').pop() || '(no output)';
      if (timedOut) detail = `timed out after ${TIMEOUT_MS} ms; ${detail}`;
      else if (m?.[1] === 'ok' && code !== 0)
        detail = `printed ok, then exited with ${signal ?? `code ${code}`}: ${detail}`;
      else if (!m) detail = `exited with ${signal ?? `code ${code}`}: ${detail}`;
      resolve({ probe: file, name: m ? m[2] : basename(file, '.mjs'), ok, detail, exitCode: code, signal, ms });
    });
  });
}

const results = [];
for (const file of probes) results.push(await run(file));
const allOk = results.every((r) => r.ok);

if (json) {
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
} else {
  const { cpus } = await import('node:os');
  console.log(
    `loopwatch native-free probes — Node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} CPUs`,
  );
  const width = Math.max(...results.map((r) => r.name.length));
  for (const r of results) {
    console.log(`${r.ok ? 'ok  ' : 'FAIL'}  ${r.name.padEnd(width)}  ${String(r.ms).padStart(5)} ms  ${r.detail}`);
  }
  console.log(
    allOk
      ? `all ${results.length} probes ok`
      : `${results.filter((r) => !r.ok).length} of ${results.length} probes FAILED`,
  );
}
process.exitCode = allOk ? 0 : 1;
