// 5. Deterministic main-thread cost: instruction counts under valgrind's callgrind, one file per
// thread (--separate-threads=yes), so the main thread's count is read apart from the monitor's.
//
// Wall-clock ratios on a shared 2-core machine spread ±30 %; instruction counts repeat to well
// under 1 %. But valgrind runs everything ~50× slower while timers keep wall time, so a cost
// that recurs in time (a heartbeat, a profiler sample) happens ~50× more often per unit of work
// than at native speed. Such costs are therefore counted per event — per heartbeat (calls of
// Node's `Environment::RunTimers`, beyond the no-monitor run's), per sample (calls of V8's
// `SamplerManager::DoSample`, the SIGPROF handler) — and scaled back to native rates (one beat
// every threshold/4, one sample every 10 ms), then divided by the main thread's native
// instruction rate, measured on the same workload.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH, ROOT } from '../lib/variants.mjs';
import { callsTo, totalOf } from '../lib/callgrind.mjs';
import { runChild, result } from '../lib/child.mjs';

const APP = join(BENCH, 'apps', 'callgrind.cjs');
/**
 * A copy of the build whose only change is the profiler's start timeout (3 s → 10 min): under
 * valgrind the start's ~50 M instructions take several seconds, and a profiler given up on
 * would measure nothing.
 */
function patchedCopy() {
  const copy = mkdtempSync(join(tmpdir(), 'loopwatch-callgrind-dist-'));
  cpSync(join(ROOT, 'dist'), copy, { recursive: true });
  const boot = join(copy, 'worker', 'boot.js');
  writeFileSync(
    boot,
    readFileSync(boot, 'utf8').replace(/PROFILER_START_TIMEOUT_MS = \d+/, 'PROFILER_START_TIMEOUT_MS = 600000'),
  );
  return copy;
}
/** The variants compared; the profiler is set explicitly, whatever the default. */
const variants = (register) => [
  { name: 'none', label: 'no monitor', args: [], env: {} },
  { name: 'loopwatch', label: 'loopwatch, profiler off', args: ['-r', register], env: { LOOPWATCH_PROFILER: 'off' } },
  { name: 'profiler', label: 'loopwatch + profiler', args: ['-r', register], env: { LOOPWATCH_PROFILER: 'on' } },
];
const SCENARIOS = {
  idle: { BENCH_MODE: 'idle', BENCH_IDLE_MS: '4000' },
  work: { BENCH_MODE: 'work', BENCH_SLICES: '1000' },
};
/** Native rate of the profiler's samples (every 10 ms). */
const SAMPLES_PER_S = 100;

function valgrind() {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function measure(variant, scenario) {
  const dir = mkdtempSync(join(tmpdir(), 'loopwatch-callgrind-'));
  try {
    execFileSync(
      'valgrind',
      [
        '--tool=callgrind',
        '--separate-threads=yes',
        `--callgrind-out-file=${join(dir, 'cg.out')}`,
        process.execPath,
        ...variant.args,
        APP,
      ],
      {
        env: {
          ...process.env,
          ...variant.env,
          ...SCENARIOS[scenario],
          BENCH_TOOL: variant.name === 'none' ? 'none' : 'loopwatch',
          LOOPWATCH_LOG: 'off',
          BENCH_SETTLE_MS: '300',
        },
        stdio: 'ignore',
        timeout: 600_000,
      },
    );
    // Thread 1 is the main thread (the first one valgrind sees).
    const main = join(
      dir,
      readdirSync(dir).find((f) => f.endsWith('-01')),
    );
    const start = callsTo(main, 'CpuProfiler::StartProfiling(v8::internal::String');
    const sample = callsTo(main, 'SamplerManager::DoSample');
    return {
      instructions: totalOf(main),
      timers: callsTo(main, 'Environment::RunTimers').calls,
      samples: sample.calls,
      sampleInstructions: sample.inclusive,
      startInstructions: start.inclusive,
      codeEvents: callsTo(main, 'ProfilerListener::CodeCreateEvent'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The workload's native wall time (no monitor), to turn instructions into a share of a core:
 * the fastest of a few runs, the one closest to native speed (other jobs only slow it down).
 */
async function nativeWorkMs(rounds) {
  const times = [];
  for (let i = 0; i < rounds; i++) {
    const run = await runChild({ args: [APP], env: { ...SCENARIOS.work, BENCH_TOOL: 'none', BENCH_SETTLE_MS: '0' } });
    times.push(result(run).ms);
  }
  return Math.min(...times);
}

/** Like `measure` but for the slice-count difference, which cancels start-up and exit. */
function workInstructions(slices) {
  const dir = mkdtempSync(join(tmpdir(), 'loopwatch-callgrind-'));
  try {
    execFileSync(
      'valgrind',
      [
        '--tool=callgrind',
        '--separate-threads=yes',
        `--callgrind-out-file=${join(dir, 'cg.out')}`,
        process.execPath,
        APP,
      ],
      {
        env: {
          ...process.env,
          BENCH_MODE: 'work',
          BENCH_SLICES: String(slices),
          BENCH_TOOL: 'none',
          BENCH_SETTLE_MS: '0',
        },
        stdio: 'ignore',
        timeout: 600_000,
      },
    );
    return totalOf(
      join(
        dir,
        readdirSync(dir).find((f) => f.endsWith('-01')),
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function callgrind({ log }) {
  if (!valgrind()) {
    log('callgrind: valgrind not installed, section skipped');
    return undefined;
  }
  const runs = {};
  const copy = patchedCopy();
  try {
    for (const scenario of Object.keys(SCENARIOS)) {
      for (const v of variants(join(copy, 'register.js'))) {
        runs[`${scenario}/${v.name}`] = measure(v, scenario);
        log(`callgrind: ${scenario}, ${v.label}`);
      }
    }
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
  // Native instruction rate of the main thread on the workload: the extra instructions of 500
  // more slices over the native time of those slices.
  const slices = Number(SCENARIOS.work.BENCH_SLICES);
  const perSlice = (workInstructions(slices) - workInstructions(slices / 2)) / (slices / 2);
  const workMs = await nativeWorkMs(5);
  const ips = (perSlice * slices) / (workMs / 1000);
  log('callgrind: native rate');
  const share = (instructionsPerS) => instructionsPerS / ips;

  const r = (k) => runs[k];
  const lw = (scenario) => r(`${scenario}/loopwatch`).instructions - r(`${scenario}/none`).instructions;
  // The profiler's extra over loopwatch alone, in three parts: its start (V8's StartProfiling,
  // once), its samples (the SIGPROF handler, per sample: rescaled to the native sample rate),
  // and the rest (code-creation events for code compiled while it runs, the anchor's evaluate).
  const part = (scenario) => {
    const p = r(`${scenario}/profiler`);
    const extra = p.instructions - r(`${scenario}/loopwatch`).instructions;
    return {
      started: p.startInstructions > 0 && p.samples > 0,
      extra,
      start: p.startInstructions,
      samples: p.samples,
      perSample: p.samples > 0 ? p.sampleInstructions / p.samples : NaN,
      rest: extra - p.startInstructions - p.sampleInstructions,
    };
  };
  const idle = part('idle');
  const work = part('work');
  const workInstr = perSlice * slices;
  // At native speed the work lasts workMs: workMs/10 samples, each costing what one did here.
  const nativeSamples = (workMs / 1000) * SAMPLES_PER_S;
  return {
    runs,
    ips,
    workMs,
    workInstructions: workInstr,
    loopwatch: { idleExtra: lw('idle'), workExtra: lw('work'), workShare: lw('work') / workInstr },
    profiler: {
      idle,
      work,
      startMs: (work.start / ips) * 1000,
      // Steady cost of sampling, as a share of a core: per-sample instructions × 100 per second.
      sampleShare: share(work.perSample * SAMPLES_PER_S),
      // Under the fixed workload at native speed: samples plus the rest, over the work's own.
      workShare: (nativeSamples * work.perSample + work.rest) / workInstr,
    },
  };
}
