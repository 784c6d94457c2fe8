/**
 * The worker-thread table: one heartbeat slot per watched worker thread of the app, in one
 * SharedArrayBuffer that the main thread creates and hands to every worker thread the app
 * starts through `worker_threads.setEnvironmentData` (inherited by workers, nested ones too).
 * Each worker thread claims a slot for itself (its preload runs `loopwatch/register` there),
 * beats into it exactly as the main thread beats into its own buffer, and the one monitor
 * worker reads every slot. No message crosses threads: a registration is a compare-and-swap.
 *
 * Layout, in this order:
 *   header     Int32 × HEADER_SLOTS           (see HEADER)
 *   directory  Int32 × DIR_FIELDS per slot    (see DIR: who owns the slot, in which state)
 *   names      NAME_BYTES per slot            (the Worker's `name`, UTF-8, zero-padded)
 *   slots      SHARED_BYTES per slot          (the same layout as the main thread's buffer:
 *                                              protocol/shared.ts, read with viewsOf)
 *
 * A slot's life: FREE → CLAIMING (the claiming thread, by compare-and-swap: it alone writes the
 * slot now) → LIVE (it beats) → GONE (the thread ended: written by the thread's own 'exit'
 * handler or, when it was terminated and ran none, by its parent thread's Worker 'exit' event) →
 * FREE (the monitor, once it has reported the end of any block in progress). The table is
 * bounded: a pool churning through thousands of short-lived workers reuses the same slots, and
 * a thread that finds none free runs unwatched (counted in HEADER.DROPPED).
 */
import { F64, I32, SHARED_BYTES, viewsOf, type SharedViews } from './shared.js';

/** `setEnvironmentData` key under which the main thread publishes the table. */
export const THREADS_KEY = 'loopwatch.threads.v1';

/**
 * `setEnvironmentData` key of the table the vitest plugin's monitor publishes for the `threads`
 * pool (see main/feed.ts). Another key than THREADS_KEY: a preload's monitor in the same process
 * keeps its own table for the process's other threads, and a pool thread is in one table only.
 */
export const POOL_KEY = 'loopwatch.pool-threads.v1';

/**
 * `Symbol.for` key of a worker thread's registration on its `globalThis`: one slot per thread,
 * whoever registers it (its preload, the CJS or the ESM build, or the monitor's adoption).
 */
export const REGISTERED_KEY = 'loopwatch.thread.v1';

/**
 * The module, relative to loopwatch's dist/, whose `registerWorkerThread()` the monitor runs on
 * a worker thread that did not run the preload (worker/adopt.ts). The CommonJS build: the ESM
 * one only re-exports it.
 */
export const REGISTER_MODULE = 'main/thread.js';

/**
 * How many worker threads are watched at once. A pool rarely runs more threads than cores;
 * 64 slots cost 0.5 MB of shared memory in all, allocated once.
 */
export const DEFAULT_MAX_THREADS = 64;

/** Int32 header slots. */
export const HEADER = {
  /** Main: the number of slots (fixed at creation). */
  CAPACITY: 0,
  /** Any thread: bumped (and notified) on every claim and every end, to wake the monitor. */
  CHANGES: 1,
  /** Any thread: worker threads that found no free slot and run unwatched. */
  DROPPED: 2,
  /** Any thread: claims so far (a slot's generation is the claim number that took it). */
  CLAIMS: 3,
} as const;
export const HEADER_SLOTS = 4;

/** Int32 fields of a slot's directory entry. */
export const DIR = {
  /** The slot's state (SLOT_STATE), changed only by compare-and-swap. */
  STATE: 0,
  /** Claimer: the thread's `threadId`. */
  THREAD_ID: 1,
  /** Claimer: the claim number, so that the monitor tells a reused slot from the thread it knew. */
  GENERATION: 2,
  /** Claimer: the thread's kernel thread id (Linux, from /proc/thread-self), or 0. */
  OS_TID: 3,
  /**
   * Claimer: the thread's own hang deadline, ms, or 0 for the monitor's (`hangMs`). A vitest
   * pool thread's is its project's test timeout and a margin, which differs per project.
   */
  HANG_MS: 4,
} as const;
export const DIR_FIELDS = 5;

export const SLOT_STATE = { FREE: 0, CLAIMING: 1, LIVE: 2, GONE: 3 } as const;

/** The longest name kept, in UTF-8 bytes (a longer one is cut). */
export const NAME_BYTES = 64;

/** What the main thread publishes for the worker threads. */
export interface ThreadsInit {
  readonly buffer: SharedArrayBuffer;
  /** The beat period, ms (the same as the main thread's). */
  readonly beatMs: number;
  /**
   * Set on a table whose threads join it themselves and want their own events back (the vitest
   * `threads` pool's, published under POOL_KEY): the BroadcastChannel they ask the monitor on
   * (protocol/feed.ts). The threads of such a table are never adopted.
   */
  readonly feed?: string;
}

export interface ThreadTable {
  readonly buffer: SharedArrayBuffer;
  readonly header: Int32Array;
  readonly directory: Int32Array;
  readonly names: Uint8Array;
  readonly capacity: number;
}

function layout(capacity: number): { dir: number; names: number; slots: number; total: number } {
  const dir = HEADER_SLOTS * 4;
  const names = dir + capacity * DIR_FIELDS * 4;
  // Float64 views in the slots need 8-byte alignment.
  const slots = Math.ceil((names + capacity * NAME_BYTES) / 8) * 8;
  return { dir, names, slots, total: slots + capacity * SHARED_BYTES };
}

/** The size of a table of `capacity` slots, in bytes. */
export function tableBytes(capacity: number): number {
  return layout(capacity).total;
}

/** A new, empty table (main thread). */
export function createTable(capacity: number = DEFAULT_MAX_THREADS): ThreadTable {
  const table = tableOf(new SharedArrayBuffer(tableBytes(capacity)), capacity);
  table.header[HEADER.CAPACITY] = capacity;
  return table;
}

/** The views of a table created elsewhere (its capacity is read from its header). */
export function tableOf(buffer: SharedArrayBuffer, capacity?: number): ThreadTable {
  const size = capacity ?? new Int32Array(buffer, 0, HEADER_SLOTS)[HEADER.CAPACITY] ?? 0;
  const at = layout(size);
  return {
    buffer,
    header: new Int32Array(buffer, 0, HEADER_SLOTS),
    directory: new Int32Array(buffer, at.dir, size * DIR_FIELDS),
    names: new Uint8Array(buffer, at.names, size * NAME_BYTES),
    capacity: size,
  };
}

/** The heartbeat views of slot `index`. */
export function slotViews(table: ThreadTable, index: number): SharedViews {
  return viewsOf(table.buffer, layout(table.capacity).slots + index * SHARED_BYTES);
}

function changed(table: ThreadTable): void {
  Atomics.add(table.header, HEADER.CHANGES, 1);
  Atomics.notify(table.header, HEADER.CHANGES);
}

/**
 * Claims a free slot for the calling thread and makes it LIVE, with its heartbeat region
 * zeroed but for a first stamp (`beatTime`, epoch ms, and the loop's idle time so far), so that
 * the monitor counts a silence from the claim, and the thread's own hang deadline (`hangMs`,
 * 0 for the monitor's). Returns the slot's index, or -1 when every slot is taken (counted in
 * DROPPED).
 */
export function claimSlot(
  table: ThreadTable,
  threadId: number,
  osTid: number,
  name: string,
  beatTime = 0,
  beatIdle = 0,
  hangMs = 0,
): number {
  const { directory, header } = table;
  for (let index = 0; index < table.capacity; index++) {
    const state = index * DIR_FIELDS + DIR.STATE;
    if (Atomics.compareExchange(directory, state, SLOT_STATE.FREE, SLOT_STATE.CLAIMING) !== SLOT_STATE.FREE) continue;
    const { i32, f64, lagRing, busyRing } = slotViews(table, index);
    i32.fill(0);
    f64.fill(0);
    lagRing.fill(0);
    busyRing.fill(0);
    f64[F64.BEAT_TIME] = beatTime;
    f64[F64.BEAT_IDLE] = beatIdle;
    table.names.fill(0, index * NAME_BYTES, (index + 1) * NAME_BYTES);
    nameSlot(table, index, name);
    Atomics.store(directory, index * DIR_FIELDS + DIR.THREAD_ID, threadId);
    Atomics.store(directory, index * DIR_FIELDS + DIR.OS_TID, osTid);
    Atomics.store(directory, index * DIR_FIELDS + DIR.HANG_MS, hangMs);
    Atomics.store(directory, index * DIR_FIELDS + DIR.GENERATION, Atomics.add(header, HEADER.CLAIMS, 1) + 1);
    // Everything above is written before the slot is seen LIVE (Atomics order them).
    Atomics.store(directory, state, SLOT_STATE.LIVE);
    changed(table);
    return index;
  }
  Atomics.add(header, HEADER.DROPPED, 1);
  return -1;
}

/**
 * Writes the name of slot `index` (its claimer only, into an empty name): the first byte goes
 * last, atomically, so that a reader who sees it sees the whole name (see readSlot).
 */
export function nameSlot(table: ThreadTable, index: number, name: string): void {
  const bytes = new TextEncoder().encode(name);
  const cut = bytes.length <= NAME_BYTES ? bytes : cutUtf8(bytes, NAME_BYTES);
  if (cut.length === 0) return;
  const names = table.names.subarray(index * NAME_BYTES, (index + 1) * NAME_BYTES);
  names.set(cut.subarray(1), 1);
  Atomics.store(names, 0, cut[0] ?? 0);
}

/** Cuts UTF-8 bytes to at most `max` without splitting a character. */
function cutUtf8(bytes: Uint8Array, max: number): Uint8Array {
  let end = max;
  // Back off continuation bytes (10xxxxxx) so the cut falls on a character boundary.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

/** The slot LIVE for `threadId`, or -1. */
export function findSlot(table: ThreadTable, threadId: number): number {
  const { directory } = table;
  for (let index = 0; index < table.capacity; index++) {
    if (
      Atomics.load(directory, index * DIR_FIELDS + DIR.STATE) === SLOT_STATE.LIVE &&
      Atomics.load(directory, index * DIR_FIELDS + DIR.THREAD_ID) === threadId
    )
      return index;
  }
  return -1;
}

/**
 * The thread of slot `index` has ended (its own 'exit' handler, or its parent's Worker 'exit'
 * event when it was terminated): a last beat, so that a block in progress ends now, flagged as
 * exiting, then GONE. Does nothing if the slot no longer belongs to `threadId`.
 */
export function endSlot(table: ThreadTable, index: number, threadId: number, now: number): boolean {
  const { directory } = table;
  if (Atomics.load(directory, index * DIR_FIELDS + DIR.THREAD_ID) !== threadId) return false;
  if (Atomics.load(directory, index * DIR_FIELDS + DIR.STATE) !== SLOT_STATE.LIVE) return false;
  const { i32, f64 } = slotViews(table, index);
  f64[F64.BEAT_TIME] = now;
  Atomics.store(i32, I32.EXITING, 1);
  Atomics.add(i32, I32.SEQ, 1);
  if (
    Atomics.compareExchange(directory, index * DIR_FIELDS + DIR.STATE, SLOT_STATE.LIVE, SLOT_STATE.GONE) !==
    SLOT_STATE.LIVE
  )
    return false;
  changed(table);
  return true;
}

/** The monitor is done with a GONE slot: it can be claimed again. */
export function releaseSlot(table: ThreadTable, index: number): void {
  Atomics.compareExchange(table.directory, index * DIR_FIELDS + DIR.STATE, SLOT_STATE.GONE, SLOT_STATE.FREE);
}

export interface SlotInfo {
  readonly index: number;
  readonly state: number;
  readonly threadId: number;
  readonly generation: number;
  readonly osTid: number;
  /** The thread's own hang deadline, ms (0: the monitor's). */
  readonly hangMs: number;
  readonly name: string;
}

/** Slot `index` as it is now (the name is read only for a LIVE or GONE slot). */
export function readSlot(table: ThreadTable, index: number): SlotInfo {
  const { directory } = table;
  const state = Atomics.load(directory, index * DIR_FIELDS + DIR.STATE);
  const known = state === SLOT_STATE.LIVE || state === SLOT_STATE.GONE;
  const raw = table.names.subarray(index * NAME_BYTES, (index + 1) * NAME_BYTES);
  // The first byte first, atomically: a name being written (nameSlot) reads as none.
  const end = Atomics.load(raw, 0) === 0 ? 0 : raw.indexOf(0);
  return {
    index,
    state,
    threadId: Atomics.load(directory, index * DIR_FIELDS + DIR.THREAD_ID),
    generation: Atomics.load(directory, index * DIR_FIELDS + DIR.GENERATION),
    osTid: Atomics.load(directory, index * DIR_FIELDS + DIR.OS_TID),
    hangMs: Atomics.load(directory, index * DIR_FIELDS + DIR.HANG_MS),
    // TextDecoder refuses views on shared memory: copy the bytes out first.
    name: known ? new TextDecoder().decode(raw.slice(0, end === -1 ? NAME_BYTES : end)) : '',
  };
}
