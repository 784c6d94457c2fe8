/**
 * `loopwatch/vitest`: fail the test that blocked the event loop, with the culprit's stack.
 * @example
 *   // vitest.config.ts
 *   import { defineConfig } from 'vitest/config';
 *   import loopwatch from 'loopwatch/vitest';
 *   export default defineConfig({ plugins: [loopwatch({ thresholdMs: 50 })] });
 *
 * The plugin runs in vitest's own process: it validates the options, adds a setup file that
 * watches every test process, and a reporter that prints the summary and any hang. For the
 * `threads` and `vmThreads` pools it also starts, here, the one monitor that watches every pool
 * thread (startPoolMonitor): each thread joins it from the setup file.
 */
import { mkdtempSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPoolMonitor } from '../main/monitor.js';
import { preloaded } from '../main/preload.js';
import { optionsToWire, resolveTestingOptions, type TestingOptions } from '../testing/options.js';
import { settingsLine } from '../testing/summary.js';
import { SummaryReporter, type ProjectLike } from './reporter.js';
import { PROVIDE_KEY, type VitestWire } from './shared.js';

export { allowBlocking, expectNoBlocking, BlockingError } from '../testing/runtime.js';
export type { TestingOptions as LoopwatchVitestOptions, AllowRule } from '../testing/options.js';
export type { BlockRecord } from '../testing/runtime.js';

/** How much longer than the test timeout a test may stay blocked before it counts as a hang. */
const HANG_MARGIN_MS = 1000;

interface VitestLike {
  readonly config: { reporters: unknown[] };
}

interface PluginContextLike {
  readonly vitest: VitestLike;
  readonly project: ProjectLike & {
    readonly config: { setupFiles: string[]; testTimeout: number; pool?: unknown; root: string };
    provide(key: string, value: unknown): void;
  };
}

export interface LoopwatchVitestPlugin {
  readonly name: 'loopwatch';
  configureVitest(context: PluginContextLike): void;
}

/**
 * The plugin. Options are checked now: a typo in the config fails the run at once with a
 * message naming the option.
 */
export default function loopwatch(options?: TestingOptions): LoopwatchVitestPlugin {
  const resolved = resolveTestingOptions(options);
  let reporter: SummaryReporter | undefined;
  let poolWatched = false;
  return {
    name: 'loopwatch',
    configureVitest({ vitest, project }) {
      if (reporter === undefined) {
        const runDir = mkdtempSync(join(tmpdir(), 'loopwatch-vitest-'));
        process.once('exit', () => rmSync(runDir, { recursive: true, force: true }));
        reporter = new SummaryReporter(resolved, runDir);
        // The test processes take over from the preload's monitor (see TestWatch): say so once.
        const preload = preloaded();
        if (preload !== undefined)
          writeSync(2, `${settingsLine('the vitest plugin', resolved, preload.options.thresholdMs)}\n`);
        // Reporters are created from this list right after the plugins are configured.
        vitest.config.reporters.push(reporter);
      }
      const config = project.config;
      if ((config.pool === 'threads' || config.pool === 'vmThreads') && !poolWatched) {
        poolWatched = true;
        const summary = reporter;
        // Started now, before the pool: its threads find its table in their environment data.
        // Each thread's hang deadline is its project's, given when it joins.
        startPoolMonitor({
          thresholdMs: resolved.thresholdMs,
          eventsFile: join(reporter.runDir, `events-${process.pid}-pool.ndjson`),
        }).on('hang', () => summary.endForHang());
      }
      const hangMs =
        resolved.hangMs === false
          ? undefined
          : (resolved.hangMs ?? Math.max(config.testTimeout + HANG_MARGIN_MS, Math.ceil(resolved.thresholdMs)));
      reporter.addProject(project, hangMs);
      const wire: VitestWire = { options: optionsToWire(resolved), hangMs, runDir: reporter.runDir, root: config.root };
      project.provide(PROVIDE_KEY, wire);
      // First, so that its afterEach runs last and sees what the other hooks blocked.
      const setup = join(__dirname, 'setup.mjs');
      if (!config.setupFiles.includes(setup)) config.setupFiles.unshift(setup);
    },
  };
}
