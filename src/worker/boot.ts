/**
 * The monitor's boot: the watchdog armed first, then the optional parts, started once. Each
 * optional part that cannot start is one warning, and the monitor runs on without it.
 *
 * Each part's module is required here, only when the configuration uses it: the health server
 * brings node:http, the telemetry node:crypto and node:os, and a monitor that uses neither
 * should not hold them in its heap (see the memory budget in docs/benchmarks.md).
 */
import { debuglog } from 'node:util';
import { messageOf } from '../common/text.js';
import { FROM_WORKER, type FromWorker, I32, nowMs, type WorkerInit } from '../protocol/shared.js';
import type { ResolvedOptions } from '../types.js';
import { detachAtExit, type Parts } from './exit.js';
import type { HealthServer, LoopView } from './health.js';
import type { WarnOnce } from './outputs.js';
import type { SamplingProfiler } from './profiler.js';
import { selfCheck } from './selfcheck.js';
import type { AppProcess, Telemetry, TelemetryView } from './telemetry.js';
import { type Clock, within } from './time.js';

const debug = debuglog('loopwatch');

/** How long the profiler may take to start. */
const PROFILER_START_TIMEOUT_MS = 3000;
/** How long start-up waits for the Prometheus endpoint to listen. */
const TELEMETRY_START_MS = 2000;

/** The sampling profiler, started (and announced in the shared buffer), or undefined. */
async function startProfiler(i32: Int32Array, clock: Clock, warnOnce: WarnOnce): Promise<SamplingProfiler | undefined> {
  if (Atomics.load(i32, I32.INSPECTOR) === 1) {
    warnOnce(
      'profiler',
      'the profiler is not started while an inspector port is open (a debugger client would see its profiles)',
    );
    return undefined;
  }
  try {
    const { SamplingProfiler: Profiler, mainThreadLink } = require('./profiler.js') as typeof import('./profiler.js');
    const candidate = new Profiler(
      mainThreadLink((require('node:inspector') as typeof import('node:inspector')).Session),
    );
    const started = await within(
      clock,
      candidate.start().then(() => true),
      PROFILER_START_TIMEOUT_MS,
    );
    if (started === true) {
      Atomics.store(i32, I32.PROFILING, 1);
      return candidate;
    }
    candidate.close();
    warnOnce('profiler', 'the profiler did not start in time; blocks are reported without it');
  } catch (error) {
    warnOnce('profiler', `the profiler could not start: ${messageOf(error)}`);
  }
  return undefined;
}

/** The health endpoints, listening, or undefined (port in use, address not available…). */
async function startHealth(
  options: ResolvedOptions,
  view: LoopView,
  warnOnce: WarnOnce,
): Promise<HealthServer | undefined> {
  if (options.healthPort === undefined) return undefined;
  try {
    const { serveHealth } = require('./health.js') as typeof import('./health.js');
    return await serveHealth(options.healthHost, options.healthPort, view, options);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'EADDRINUSE'
        ? 'the port is already in use'
        : code === 'EADDRNOTAVAIL'
          ? 'the address is not available here'
          : messageOf(error);
    warnOnce(
      'health',
      `cannot serve the health endpoints on ${options.healthHost}:${options.healthPort}: ${why}; the app runs on without them`,
    );
    return undefined;
  }
}

/**
 * The OpenTelemetry pipeline (loaded in steps, see startTelemetry), added to the outputs once
 * built; undefined when not configured or it cannot start (one warning says why).
 */
async function startExport(
  options: ResolvedOptions,
  view: TelemetryView,
  app: AppProcess,
  outputs: { readonly warnOnce: WarnOnce; add(sink: Telemetry): void },
): Promise<Telemetry | undefined> {
  if (options.telemetry === undefined) return undefined;
  const { startTelemetry } = require('./telemetry.js') as typeof import('./telemetry.js');
  const telemetry = await startTelemetry(options.telemetry, view, app, outputs.warnOnce);
  if (telemetry !== undefined) outputs.add(telemetry);
  return telemetry;
}

/** Waits (bounded) for the Prometheus endpoint to listen, and announces the export in the shared buffer. */
async function exportReady(telemetry: Telemetry, i32: Int32Array, clock: Clock): Promise<void> {
  await within(clock, telemetry.ready(), TELEMETRY_START_MS);
  Atomics.store(i32, I32.TELEMETRY, 1);
}

/**
 * Arms the watchdog first, then starts the optional parts, and says READY once they are up
 * (`monitor.ready` carries their status). Loading the OpenTelemetry SDK alone takes ~0.4 s of
 * this thread: a start-up block must not go unwatched meanwhile. A block that was over before
 * arming is reported from the heartbeat's history; events emitted before a sink starts are
 * replayed to it.
 */
export async function boot(parts: Parts, init: WorkerInit, send: (message: FromWorker) => void): Promise<void> {
  const { i32, clock, blocks, threads, outputs, views, source } = parts;
  const { options } = init;
  if (parts.watchMain) blocks.start();
  threads?.start();
  debug('armed %d ms after start()', Math.round(nowMs() - init.startedAt));
  const exitWait = Atomics.waitAsync(i32, I32.EXIT_NOTIFY, 0);
  void Promise.resolve(exitWait.value).then(() => detachAtExit(parts));
  // Without an inspector the main thread has said so already, for the profiler too.
  if (options.profiler && init.noInspector === undefined) {
    parts.profiler = await startProfiler(i32, clock, outputs.warnOnce);
    blocks.useProfiler(parts.profiler);
  }
  parts.health = await startHealth(options, views.health, outputs.warnOnce);
  parts.telemetry = await startExport(options, views.telemetry, { pid: init.pid, ...init.command }, outputs);
  if (parts.telemetry !== undefined) await exportReady(parts.telemetry, i32, clock);
  outputs.started();
  send({
    code: FROM_WORKER.READY,
    stackCapture: source?.available ?? false,
    reason: source === undefined ? 'captureStack is false' : source.reason,
    profiler: parts.profiler !== undefined,
    health: parts.health?.address,
    telemetry: parts.telemetry?.status,
  });
  debug('ready %d ms after start()', Math.round(nowMs() - init.startedAt));
  // The pool's monitor has no main thread to check: its threads' captures are proven by the
  // test integration's canary.
  if (!parts.watchMain) return;
  void selfCheck({
    source,
    i32,
    thresholdMs: options.thresholdMs,
    say: outputs.warnOnce,
    done: () => blocks.stopped,
    stopWatching: () => blocks.stop(),
  });
}
