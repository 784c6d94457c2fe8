import type { BlockEvent } from '../../src/types.js';

/** A main-thread block event whose stack is the one frame `fn` in /app/<fn>.js, taken during the block. */
export function blockEvent(id: number, state: 'ongoing' | 'ended', fn: string, durationMs: number): BlockEvent {
  return {
    type: 'block',
    id,
    state,
    phase: 'running',
    thresholdMs: 100,
    durationMs,
    startedAt: '2026-01-01T00:00:00.000Z',
    pid: 42,
    thread: 'main',
    stack: [{ function: fn, file: `/app/${fn}.js`, line: 3, column: 7 }],
    stackTiming: 'during',
  };
}
