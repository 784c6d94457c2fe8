import { afterEach, describe, expect, it } from 'vitest';
import { heartbeat } from '../../src/main/heartbeat.js';
import { entryName } from '../../src/main/thread.js';
import { parkInWaits } from '../../src/main/waits.js';
import { F64, I32, LAG_RING_SIZE, SHARED_BYTES, viewsOf } from '../../src/protocol/shared.js';
import { claimSlot, createTable, nameSlot, readSlot } from '../../src/protocol/threads.js';

const original = Atomics.wait;

describe('a worker thread parked in Atomics.wait', () => {
  afterEach(() => {
    Atomics.wait = original;
  });

  it('beats on the way in and on the way out, and is flagged PARKED only meanwhile', () => {
    const views = viewsOf(new SharedArrayBuffer(SHARED_BYTES));
    parkInWaits(views.i32, heartbeat(views, 10));
    const cell = new Int32Array(new SharedArrayBuffer(4));
    expect(Atomics.wait(cell, 0, 1)).toBe('not-equal');
    expect(Atomics.load(views.i32, I32.SEQ)).toBe(2);
    expect(Atomics.wait(cell, 0, 0, 30)).toBe('timed-out');
    expect(Atomics.load(views.i32, I32.SEQ)).toBe(4);
    expect(Atomics.load(views.i32, I32.PARKED)).toBe(0);
    // The way out counts nothing: the wait was neither lag nor busy time.
    expect(views.lagRing[4 & (LAG_RING_SIZE - 1)]).toBe(0);
    expect(views.busyRing[4 & (LAG_RING_SIZE - 1)]).toBe(0);
    expect(views.f64[F64.BEAT_TIME]).toBeGreaterThan(0);
  });

  it('throws what Atomics.wait throws, and is not left PARKED', () => {
    const views = viewsOf(new SharedArrayBuffer(SHARED_BYTES));
    parkInWaits(views.i32, heartbeat(views, 10));
    expect(() => Atomics.wait(new Int32Array(4), 0, 0, 0)).toThrow(TypeError);
    expect(Atomics.load(views.i32, I32.PARKED)).toBe(0);
  });
});

describe('the name of an unnamed worker thread', () => {
  it("is its script's package, or its file name, or none for an eval worker", () => {
    expect(entryName('/app/node_modules/piscina/dist/worker.js')).toBe('piscina');
    expect(entryName('/app/node_modules/.pnpm/x/node_modules/@scope/pool/lib/w.mjs')).toBe('@scope/pool');
    expect(entryName('file:///srv/app/jobs/resize%20task.mts')).toBe('resize task');
    expect(entryName('C:\\app\\workers\\index.cjs')).toBe('index');
    expect(entryName('[worker eval]')).toBe('');
    expect(entryName(undefined)).toBe('');
  });

  it('is written into its slot after the claim, and read whole', () => {
    const table = createTable(2);
    const index = claimSlot(table, 3, 0, '');
    expect(readSlot(table, index).name).toBe('');
    nameSlot(table, index, 'piscina');
    expect(readSlot(table, index).name).toBe('piscina');
  });
});
