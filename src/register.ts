/**
 * Side-effect entry for `node -r loopwatch/register` and `node --import loopwatch/register`
 * (also through NODE_OPTIONS): starts the monitor configured by the environment.
 * An invalid variable stops start-up with one message naming it; nothing else is thrown.
 */
import { isMainThread } from 'node:worker_threads';
import { writeSync } from 'node:fs';
import { LoopwatchError } from './errors.js';
import { startResolved } from './main/monitor.js';
import { optionsFromEnv } from './options.js';

// Worker threads inherit NODE_OPTIONS preloads: only the main thread is monitored.
if (isMainThread) {
  try {
    const warnings: string[] = [];
    startResolved(optionsFromEnv(process.env, warnings));
    for (const warning of warnings) writeSync(2, `loopwatch: ${warning}\n`);
  } catch (error) {
    if (!(error instanceof LoopwatchError)) throw error;
    writeSync(2, `loopwatch: ${error.message}\n`);
    process.exit(1);
  }
}
