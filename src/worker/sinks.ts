/**
 * Where block events go. Every sink runs in the worker, so it works while the main thread is
 * frozen; a failing sink is reported once and never stops the others. New outputs
 * (telemetry, health state, hang policy) are new sinks.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { BlockProgress, LoopwatchEvent, ResolvedOptions } from '../types.js';
import { formatPretty } from '../common/pretty.js';

export interface Sink {
  readonly name: string;
  /** Synchronous for the local outputs, so a line is out before the process may be ended. */
  write(event: LoopwatchEvent): void;
  /** Records a block's duration so far, where a record outlives a killed process (the events file). */
  progress?(record: BlockProgress): void;
  /** Hands over what is buffered (telemetry); awaited, with a bound, before a hung process is ended. */
  flush?(): Promise<void>;
  close?(): void;
}

const EAGAIN_RETRIES = 200;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `text` to `fd` synchronously. stderr may be a non-blocking pipe (the main
 * thread's stream sets it so), where a full pipe answers EAGAIN: wait a millisecond and retry,
 * a bounded number of times.
 */
export function writeFully(fd: number, text: string): void {
  let buffer = Buffer.from(text);
  let retries = 0;
  while (buffer.length > 0) {
    try {
      const written = writeSync(fd, buffer);
      buffer = buffer.subarray(written);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN' || ++retries > EAGAIN_RETRIES) throw error;
      Atomics.wait(sleeper, 0, 0, 1);
    }
  }
}

function eventsFileSink(path: string): Sink {
  // O_APPEND: each line lands whole at the end, even with several processes on one file.
  const fd = openSync(path, 'a');
  return {
    name: 'events file',
    write: (event) => writeFully(fd, `${JSON.stringify(event)}\n`),
    progress: (record) => writeFully(fd, `${JSON.stringify(record)}\n`),
    close: () => closeSync(fd),
  };
}

function stderrSink(format: 'pretty' | 'json', cwd: string): Sink {
  return {
    name: 'stderr',
    write: (event) => writeFully(2, format === 'json' ? `${JSON.stringify(event)}\n` : formatPretty(event, cwd)),
  };
}

export function sinksFor(options: ResolvedOptions, cwd: string): Sink[] {
  const sinks: Sink[] = [];
  if (options.eventsFile !== undefined) sinks.push(eventsFileSink(options.eventsFile));
  if (options.log !== 'off') sinks.push(stderrSink(options.log, cwd));
  return sinks;
}
