/** Recorded-looking events for the report tests, shaped as the monitor writes them. */
import type { BlockEvent, HangEvent, StackFrame } from '../../src/types.js';

export const APP = '/srv/app/src';

export function frame(fn: string, file: string, line: number): StackFrame {
  return { function: fn, file, line, column: 5 };
}

export const STACKS = {
  render: [
    frame('renderInvoice', `${APP}/invoice.js`, 42),
    frame('handle', `${APP}/server.js`, 10),
    frame('processTicksAndRejections', 'node:internal/process/task_queues', 95),
  ],
  renderOther: [frame('renderInvoice', `${APP}/invoice.js`, 42), frame('batch', `${APP}/jobs.js`, 7)],
  parse: [
    frame('parse', '<anonymous>', 0),
    frame('loadConfig', `${APP}/config.js`, 3),
    frame('<anonymous>', `${APP}/main.js`, 1),
  ],
  lib: [frame('walk', '/srv/app/node_modules/lib/index.js', 9), frame('search', `${APP}/search.js`, 21)],
} as const;

let clock = Date.parse('2026-11-22T08:00:00.000Z');

/** An `ongoing` and (unless `ended: false`) an `ended` event of one block. */
export function block(
  pid: number,
  id: number,
  durationMs: number,
  stack: readonly StackFrame[],
  options: { phase?: 'startup' | 'running'; ended?: boolean; gapMs?: number } = {},
): BlockEvent[] {
  clock += options.gapMs ?? 1000;
  const base = {
    type: 'block',
    id,
    phase: options.phase ?? 'running',
    thresholdMs: 100,
    startedAt: new Date(clock).toISOString(),
    pid,
    thread: 'main',
    stack,
    stackTiming: 'during',
  } as const;
  const ongoing: BlockEvent = { ...base, state: 'ongoing', durationMs: 101 };
  clock += durationMs;
  return options.ended === false
    ? [{ ...ongoing, durationMs: Math.min(101, durationMs) }]
    : [ongoing, { ...base, state: 'ended', durationMs }];
}

export function hang(pid: number, blockId: number, blockedMs: number, stack: readonly StackFrame[]): HangEvent {
  return {
    type: 'hang',
    reason: 'block',
    action: 'kill',
    limitMs: blockedMs,
    at: new Date(clock).toISOString(),
    pid,
    blockId,
    blockedMs,
    stack,
    stackTiming: 'during',
  };
}

export function ndjson(events: readonly object[]): string {
  return events.map((e) => `${JSON.stringify(e)}\n`).join('');
}
