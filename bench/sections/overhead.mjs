// 1. Overhead: an HTTP server under load, promise-heavy work, CPU-bound work.
//
// Every variant's app is started once and kept running; the bench then measures them in turn,
// in short slices, the order rotating each round (ABC…, BC…A, …). Each figure is divided by
// the "no monitor" figure of the same round, so a slow patch of a shared machine hits a whole
// round rather than one variant, and the spread of the paired ratios shows the noise. Besides
// wall-clock figures, CPU time (all threads of the process) per unit of work is reported: other
// jobs on the machine disturb it much less.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { VARIANTS, BENCH } from '../lib/variants.mjs';
import { childEnv, runChild } from '../lib/child.mjs';
import { median } from '../lib/stats.mjs';

export function rotated(list, round) {
  const k = round % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

const ANSWER_TIMEOUT_MS = 180_000;

/** A child that stays up: answers one line (READY / RESULT …) per request on stdin. */
function startApp(variant, sink, app) {
  const { args, env } = variant.setup({ sinkUrl: sink.url });
  const child = spawn(process.execPath, [...args, join(BENCH, 'apps', app)], {
    env: { ...childEnv(), ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const waiting = [];
  const errors = [];
  createInterface({ input: child.stdout }).on('line', (text) => {
    if (text.startsWith('READY') || text.startsWith('RESULT ')) waiting.shift()?.resolve(text);
  });
  createInterface({ input: child.stderr }).on('line', (text) => errors.push(text));
  child.on('exit', (code) => {
    for (const w of waiting.splice(0))
      w.reject(new Error(`${variant.name} (${app}) exited with ${code}: ${errors.slice(-3).join(' | ')}`));
  });
  // A peer that never says READY (or never answers) fails the run instead of hanging it: a full
  // run once waited 85 minutes on an app that had stopped answering.
  const next = () =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const at = waiting.indexOf(entry);
        if (at >= 0) waiting.splice(at, 1);
        reject(new Error(`${variant.name} (${app}) did not answer within ${ANSWER_TIMEOUT_MS / 1000} s`));
      }, ANSWER_TIMEOUT_MS);
      const entry = {
        resolve: (text) => (clearTimeout(timer), resolve(text)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      };
      waiting.push(entry);
    });
  return {
    child,
    ready: next(),
    ask: (line) => {
      const answer = next();
      child.stdin.write(`${line}\n`);
      return answer.then((text) => JSON.parse(text.slice(7)));
    },
    // SIGKILL if SIGTERM has not ended it within 5 s: a wedged app never closes otherwise.
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.on('close', () => (clearTimeout(kill), resolve()));
        child.kill('SIGTERM');
      }),
  };
}

async function http({ sink, rounds, seconds }) {
  const apps = {};
  try {
    for (const v of VARIANTS) {
      apps[v.name] = startApp(v, sink, 'http-server.cjs');
      apps[v.name].port = Number((await apps[v.name].ready).split(' ')[1]);
    }
    const servers = Object.fromEntries(VARIANTS.map((v) => [v.name, apps[v.name].port]));
    const load = await runChild({
      args: [join(BENCH, 'apps', 'load.mjs'), JSON.stringify({ servers, rounds, seconds, connections: 10 })],
      // Every slice may take its grace (15 s) once, for the one that finds a server wedged.
      timeoutMs: (rounds * seconds * VARIANTS.length + 120 + 15 * 3 * VARIANTS.length) * 1000,
    });
    const lines = load.lines.filter((l) => l.fd === 1 && l.text.startsWith('{')).map((l) => JSON.parse(l.text));
    if (lines.length !== rounds * VARIANTS.length)
      throw new Error(
        `load generator: ${load.lines
          .slice(-3)
          .map((l) => l.text)
          .join(' | ')}`,
      );
    return lines;
  } finally {
    await Promise.all(Object.values(apps).map((a) => a.stop()));
  }
}

async function work({ sink, rounds, promiseRounds, cpuSlices, promiseMaxMs, log }) {
  const apps = {};
  const out = [];
  try {
    for (const v of VARIANTS) {
      apps[v.name] = startApp(v, sink, 'worker-bench.cjs');
      await apps[v.name].ready;
    }
    for (let r = 0; r < rounds; r++) {
      for (const v of rotated(VARIANTS, r)) {
        out.push({
          round: r,
          name: v.name,
          promise: await apps[v.name].ask(`promise ${promiseRounds} ${promiseMaxMs}`),
        });
      }
      for (const v of rotated(VARIANTS, r + 1)) {
        out.push({ round: r, name: v.name, cpu: await apps[v.name].ask(`cpu ${cpuSlices} ${promiseMaxMs}`) });
      }
      log(`overhead: work round ${r + 1}/${rounds}`);
    }
  } finally {
    await Promise.all(Object.values(apps).map((a) => a.stop()));
  }
  return out;
}

export async function overhead({ rounds, httpRounds, httpSeconds, sink, log, ...plan }) {
  const httpLines = await http({ sink, rounds: httpRounds, seconds: httpSeconds });
  log('overhead: http done');
  const workLines = await work({ sink, rounds, log, ...plan });
  // The round from which a variant's app stopped answering HTTP, if it did.
  const wedged = {};
  for (const l of httpLines) if (l.wedged && !(l.name in wedged)) wedged[l.name] = l.round;
  for (const [name, round] of Object.entries(wedged))
    log(`overhead: ${name}'s HTTP app stopped answering in round ${round + 1}; its figures are from the rounds before`);
  const series = (lines, pick) =>
    Object.fromEntries(
      VARIANTS.map((v) => [
        v.name,
        lines
          .filter((l) => l.name === v.name && pick(l) !== undefined)
          .sort((a, b) => a.round - b.round)
          .map(pick),
      ]),
    );
  const raw = {
    rps: series(httpLines, (l) => l.rps),
    p99: series(httpLines, (l) => l.p99),
    cpuPerReq: series(httpLines, (l) => l.cpuUsPerReq),
    promise: series(workLines, (l) => l.promise?.ms),
    promiseCpu: series(workLines, (l) => l.promise?.cpuMs),
    cpu: series(workLines, (l) => l.cpu?.ms),
    cpuCpu: series(workLines, (l) => l.cpu?.cpuMs),
  };
  // Paired ratios: round i of a variant against round i of "no monitor".
  const ratios = Object.fromEntries(
    Object.entries(raw).map(([k, s]) => [
      k,
      Object.fromEntries(VARIANTS.map((v) => [v.name, s[v.name].map((x, i) => x / s.none[i])])),
    ]),
  );
  return {
    raw,
    ...ratios,
    baseline: Object.fromEntries(Object.entries(raw).map(([k, s]) => [k, median(s.none)])),
    wedged,
    extrapolated: Object.fromEntries(
      VARIANTS.map((v) => [v.name, workLines.some((l) => l.name === v.name && l.promise?.extrapolated)]),
    ),
  };
}
