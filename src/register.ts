/**
 * Side-effect entry for `node -r loopwatch/register` and `node --import loopwatch/register`
 * (also through NODE_OPTIONS): starts the monitor configured by the environment.
 * An invalid variable stops start-up with one message naming it; nothing else is thrown.
 */
import { isMainThread } from 'node:worker_threads';
import { writeSync } from 'node:fs';
import { basename } from 'node:path';
import { LoopwatchError } from './errors.js';
import { isTestRunnerProcess } from './main/inspector.js';
import { startResolved } from './main/monitor.js';
import { markPreloaded } from './main/preload.js';
import { registerWorkerThread } from './main/thread.js';
import { optionsFromEnv } from './options.js';

/**
 * `NODE_OPTIONS="-r loopwatch/register" npm start` (and `loopwatch run -- npm start`) preloads
 * into the package manager's own Node process too: it is not the app, and its start-up would
 * be reported as blocks. Matched on the entry script (`/usr/bin/npm`, `…/npm-cli.js`, `pnpm.cjs`).
 */
const PACKAGE_MANAGER = /^(?:npm|npx|npm-cli|npx-cli|pnpm|pnpx|yarn|yarnpkg|corepack)(?:\.c?js|\.mjs)?$/i;

// In a worker thread of the app (the preload runs there too), the thread registers itself with
// the main thread's monitor, if it watches worker threads; it starts no monitor of its own.
if (!isMainThread) registerWorkerThread();
else if (!PACKAGE_MANAGER.test(basename(process.argv[1] ?? ''))) {
  try {
    const warnings: string[] = [];
    const options = optionsFromEnv(process.env, warnings);
    if (isTestRunnerProcess()) {
      // Its test files run in processes of their own, which load this preload too.
      if (options.log !== 'off')
        writeSync(
          2,
          `loopwatch: [pid ${process.pid}] node --test's runner is not watched; its test files' processes are\n`,
        );
      markPreloaded({ options, monitor: undefined });
    } else {
      markPreloaded({ options, monitor: startResolved(options) });
    }
    for (const warning of warnings) writeSync(2, `loopwatch: ${warning}\n`);
  } catch (error) {
    if (!(error instanceof LoopwatchError)) throw error;
    writeSync(2, `loopwatch: ${error.message}\n`);
    process.exit(1);
  }
}
