import { describe, expect, it } from 'vitest';
import { F64, I32, SHARED_BYTES } from '../../src/protocol/shared.js';
import {
  claimSlot,
  createTable,
  endSlot,
  findSlot,
  HEADER,
  NAME_BYTES,
  readSlot,
  releaseSlot,
  SLOT_STATE,
  slotViews,
  tableBytes,
  tableOf,
} from '../../src/protocol/threads.js';

describe('the worker-thread table', () => {
  it('gives each thread a slot of its own, zeroed, with its id, kernel id and name', () => {
    const table = createTable(4);
    const a = claimSlot(table, 7, 1234, 'resize');
    const b = claimSlot(table, 8, 0, '');
    expect([a, b]).toEqual([0, 1]);
    expect(readSlot(table, a)).toMatchObject({ state: SLOT_STATE.LIVE, threadId: 7, osTid: 1234, name: 'resize' });
    expect(readSlot(table, b)).toMatchObject({ state: SLOT_STATE.LIVE, threadId: 8, name: '' });
    expect(findSlot(table, 8)).toBe(b);
    expect(findSlot(table, 9)).toBe(-1);
    // The slots do not overlap: a beat in one is not seen in the other.
    Atomics.add(slotViews(table, a).i32, I32.SEQ, 5);
    expect(Atomics.load(slotViews(table, b).i32, I32.SEQ)).toBe(0);
    expect(Atomics.load(table.header, HEADER.CHANGES)).toBe(2);
  });

  it('is read the same from another thread (its capacity is in its header)', () => {
    const table = createTable(3);
    claimSlot(table, 5, 0, 'pdf');
    const seen = tableOf(table.buffer);
    expect(seen.capacity).toBe(3);
    expect(readSlot(seen, 0)).toMatchObject({ threadId: 5, name: 'pdf' });
    expect(table.buffer.byteLength).toBe(tableBytes(3));
    expect(tableBytes(64)).toBeLessThan(64 * SHARED_BYTES + 8192);
  });

  it('ends a slot with a last beat flagged exiting, then releases it for the next thread', () => {
    const table = createTable(2);
    const index = claimSlot(table, 3, 0, 'x');
    const { i32, f64 } = slotViews(table, index);
    // Not its thread: nothing happens.
    expect(endSlot(table, index, 4, 1000)).toBe(false);
    expect(readSlot(table, index).state).toBe(SLOT_STATE.LIVE);
    expect(endSlot(table, index, 3, 1000)).toBe(true);
    expect(readSlot(table, index).state).toBe(SLOT_STATE.GONE);
    expect(Atomics.load(i32, I32.SEQ)).toBe(1);
    expect(Atomics.load(i32, I32.EXITING)).toBe(1);
    expect(f64[F64.BEAT_TIME]).toBe(1000);
    // Ended twice (by the thread, then by its parent's 'exit' event): once.
    expect(endSlot(table, index, 3, 2000)).toBe(false);
    // GONE until the monitor releases it.
    expect(claimSlot(table, 9, 0, '')).toBe(1);
    releaseSlot(table, index);
    const again = claimSlot(table, 10, 0, '');
    expect(again).toBe(index);
    expect(readSlot(table, again).generation).toBeGreaterThan(1);
    // The new thread starts from a clean slot.
    expect(Atomics.load(i32, I32.SEQ)).toBe(0);
    expect(Atomics.load(i32, I32.EXITING)).toBe(0);
  });

  it('is bounded: a thread that finds no free slot runs unwatched and is counted', () => {
    const table = createTable(2);
    expect(claimSlot(table, 1, 0, '')).toBe(0);
    expect(claimSlot(table, 2, 0, '')).toBe(1);
    expect(claimSlot(table, 3, 0, '')).toBe(-1);
    expect(Atomics.load(table.header, HEADER.DROPPED)).toBe(1);
  });

  it('reuses the same slots for a pool churning through 1,000 threads', () => {
    const table = createTable(8);
    const used = new Set<number>();
    let threadId = 100;
    const live: { index: number; threadId: number }[] = [];
    for (let round = 0; round < 1000; round++) {
      threadId++;
      const index = claimSlot(table, threadId, 0, `pool ${round % 4}`);
      expect(index).not.toBe(-1);
      used.add(index);
      live.push({ index, threadId });
      // Up to 4 threads at once, ended oldest first; the monitor releases what has ended.
      if (live.length > 4) {
        const old = live.shift();
        if (old !== undefined) {
          endSlot(table, old.index, old.threadId, round);
          releaseSlot(table, old.index);
        }
      }
    }
    expect(used.size).toBeLessThanOrEqual(5);
    expect(Atomics.load(table.header, HEADER.CLAIMS)).toBe(1000);
    expect(Atomics.load(table.header, HEADER.DROPPED)).toBe(0);
  });

  it('cuts a long name without splitting a character', () => {
    const table = createTable(1);
    const name = 'é'.repeat(NAME_BYTES); // 2 bytes each
    claimSlot(table, 1, 0, name);
    const read = readSlot(table, 0).name;
    expect(read).toBe('é'.repeat(NAME_BYTES / 2));
    const odd = createTable(1);
    claimSlot(odd, 1, 0, `a${'é'.repeat(NAME_BYTES)}`);
    expect(readSlot(odd, 0).name).toBe(`a${'é'.repeat(NAME_BYTES / 2 - 1)}`);
  });
});
