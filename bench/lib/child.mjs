// Runs one bench child: a Node process with one variant's preload, observed from here.
// Every line the child writes is timestamped when it arrives, so alerts written during a
// block (loopwatch's worker writes synchronously to stderr) are dated from outside the
// blocked process, as a user's log pipeline would see them.
import { spawn } from 'node:child_process';

/**
 * @param {{ args: string[], env?: Record<string,string>, timeoutMs?: number, node?: string, onLine?: (line: {at:number,text:string,fd:number}, child: import('node:child_process').ChildProcess) => void }} opts
 * @returns {Promise<{ code: number|null, signal: string|null, lines: {at:number,text:string,fd:number}[], startedAt: number, wallMs: number, timedOut: boolean }>}
 */
export function runChild({ args, env = {}, timeoutMs = 60_000, node = process.execPath, onLine }) {
  return new Promise((resolve) => {
    const startedAt = performance.now();
    const child = spawn(node, args, {
      env: { ...childEnv(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const split = (fd) => {
      let pending = '';
      return (chunk) => {
        const at = Date.now();
        pending += chunk.toString('utf8');
        let nl;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = { at, text: pending.slice(0, nl), fd };
          pending = pending.slice(nl + 1);
          lines.push(line);
          onLine?.(line, child);
        }
      };
    };
    child.stdout.on('data', split(1));
    child.stderr.on('data', split(2));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, lines, startedAt, wallMs: performance.now() - startedAt, timedOut });
    });
  });
}

/** `MARK name epochMs` lines, in order. */
export function marks(lines) {
  const out = [];
  for (const { text } of lines) {
    const m = /^MARK (\S+) (\d+(?:\.\d+)?)$/.exec(text);
    if (m) out.push({ name: m[1], at: Number(m[2]) });
  }
  return out;
}

/** The first `RESULT {json}` line of a child, parsed. */
export function result(run) {
  const line = run.lines.find((l) => l.text.startsWith('RESULT '));
  if (!line) {
    const tail = run.lines
      .slice(-5)
      .map((l) => l.text)
      .join('\n');
    throw new Error(`child gave no RESULT (code ${run.code}, signal ${run.signal}):\n${tail}`);
  }
  return JSON.parse(line.text.slice(7));
}

// The bench's own environment must not leak into children: no inherited preloads, no
// OpenTelemetry or loopwatch settings from the shell that runs the bench.
export function childEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_OPTIONS' || k.startsWith('LOOPWATCH_') || k.startsWith('OTEL_') || k.startsWith('SENTRY_'))
      continue;
    env[k] = v;
  }
  return env;
}
