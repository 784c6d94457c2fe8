import { describe, expect, it } from 'vitest';
import { BlockAttributes, MAX_THREAD_NAMES, OTHER, threadAttributes } from '../../src/common/block-attributes.js';
import type { BlockEvent } from '../../src/types.js';

function event(thread: BlockEvent['thread'], threadName?: string, id = 1): BlockEvent {
  return {
    type: 'block',
    id,
    state: 'ongoing',
    phase: 'running',
    thresholdMs: 100,
    durationMs: 120,
    startedAt: new Date(0).toISOString(),
    pid: 1,
    thread,
    ...(threadName === undefined ? {} : { threadName }),
    stack: [{ function: 'resizeImage', file: '/app/task.mjs', line: 4, column: 3 }],
    stackTiming: 'during',
  };
}

describe('thread attributes', () => {
  it('log records of a worker thread carry thread.id and thread.name; the main thread’s are unchanged', () => {
    expect(threadAttributes(event('worker 4', 'resize'))).toEqual({ 'thread.id': 4, 'thread.name': 'resize' });
    expect(threadAttributes(event('worker 5'))).toEqual({ 'thread.id': 5, 'thread.name': 'worker' });
    expect(threadAttributes(event('main'))).toEqual({});
  });

  it('metrics carry the thread name only (never the id), bounded', () => {
    const attributes = new BlockAttributes();
    expect(attributes.of(event('main'))).not.toHaveProperty('thread.name');
    expect(attributes.of(event('worker 7', 'resize', 2))).toMatchObject({ 'thread.name': 'resize' });
    expect(attributes.of(event('worker 8', undefined, 3))).toMatchObject({ 'thread.name': 'worker' });
    for (let i = 0; i < MAX_THREAD_NAMES; i++) attributes.of(event(`worker ${100 + i}`, `job-${i}`, 10 + i));
    const late = attributes.of(event('worker 999', 'one-too-many', 99));
    expect(late['thread.name']).toBe(OTHER);
    expect(Object.keys(late)).not.toContain('thread.id');
  });
});
