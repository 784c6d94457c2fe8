/**
 * The app's worker threads: the main thread publishes the thread table (protocol/threads.ts)
 * for the workers it will start, each worker thread whose preload runs `loopwatch/register`
 * claims a slot and beats into it, and whichever thread sees a worker end marks its slot GONE.
 * Runs on the app's threads; the monitor worker reads the table (worker/threads.ts). A vitest
 * pool thread claims a slot the same way (beatInSlot), in the pool monitor's table (main/feed.ts).
 */
import { readlinkSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import * as workerThreads from 'node:worker_threads';
import { I32 } from '../protocol/shared.js';
import {
  claimSlot,
  readSlot,
  SLOT_STATE,
  endSlot,
  findSlot,
  nameSlot,
  REGISTERED_KEY,
  slotViews,
  tableOf,
  THREADS_KEY,
  type ThreadsInit,
  type ThreadTable,
} from '../protocol/threads.js';
import { heartbeat } from './heartbeat.js';
import { parkInWaits } from './waits.js';

/**
 * One registration per thread, even when both the CJS and the ESM build run the preload, or
 * the monitor adopts a thread whose preload registered it already.
 */
const REGISTERED = Symbol.for(REGISTERED_KEY);
/** This thread's registration, or 'left' once it has given its slot up (leaveThreadTable). */
type Registration = { readonly leave: () => void } | 'left';
type Global = typeof globalThis & { [REGISTERED]?: Registration };

/**
 * Makes the table visible to every worker thread started from now on (and to theirs), under
 * `key`: THREADS_KEY for the process's table, POOL_KEY for the vitest pool's.
 */
export function publishTable(init: ThreadsInit, key: string): void {
  workerThreads.setEnvironmentData(key, init);
}

/** The table this thread inherited, if the main thread published one. */
export function inheritedTable(): ThreadsInit | undefined {
  const value = workerThreads.getEnvironmentData(THREADS_KEY) as Partial<ThreadsInit> | undefined;
  if (value === undefined || !(value.buffer instanceof SharedArrayBuffer) || typeof value.beatMs !== 'number')
    return undefined;
  return { buffer: value.buffer, beatMs: value.beatMs };
}

/**
 * A worker thread that ends without running its 'exit' handlers (`worker.terminate()`) leaves
 * its slot LIVE and silent; the thread that started it learns of the end from the Worker's
 * 'exit' event, and ends the slot for it. The listener keeps nothing alive.
 */
export function watchChildren(table: ThreadTable): void {
  process.on('worker', (worker: workerThreads.Worker) => {
    // threadId reads -1 once the worker has exited: keep it now.
    const id = worker.threadId;
    worker.once('exit', () => {
      const index = findSlot(table, id);
      if (index !== -1) endSlot(table, index, id, performance.timeOrigin + performance.now());
    });
  });
}

/** The kernel's id of this thread (Linux), so that the monitor can read its state in /proc. */
function osThreadId(): number {
  if (process.platform !== 'linux') return 0;
  try {
    // "<pid>/task/<tid>"
    return Number(/task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * What names a worker thread started without a `name` (a pool seldom passes one: piscina
 * cannot): the package its script belongs to (`…/node_modules/piscina/dist/worker.js` →
 * `piscina`), else the script's file name without its extension; '' for an `eval` worker.
 */
export function entryName(entry: string | undefined): string {
  if (entry === undefined || entry === '' || entry.startsWith('[')) return '';
  const path = entry.startsWith('file:') ? decodeURIComponent(new URL(entry).pathname) : entry;
  const parts = path.split(/[\\/]/);
  const modules = parts.lastIndexOf('node_modules');
  const first = modules === -1 ? undefined : parts[modules + 1];
  if (first !== undefined && first !== '') {
    const scoped = first.startsWith('@') ? parts[modules + 2] : undefined;
    return scoped === undefined ? first : `${first}/${scoped}`;
  }
  return (parts.at(-1) ?? '').replace(/\.[cm]?[jt]sx?$/, '');
}

/** A worker thread's place in a table: its slot, beating. */
export interface SlotRegistration {
  readonly index: number;
  /** One beat now (the thread runs: a block in progress has ended). */
  readonly beat: () => void;
  /** Gives the slot up (ended, as at the thread's exit) and stops beating. */
  readonly leave: () => void;
}

/**
 * Claims a slot of `table` for the calling worker thread and beats into it (a timer that keeps
 * nothing alive), until the thread exits or leave() is called. Undefined when every slot is
 * taken. Shared by the process's table (registerWorkerThread) and the vitest pool's (feed.ts).
 */
export function beatInSlot(table: ThreadTable, beatMs: number, hangMs = 0): SlotRegistration | undefined {
  const { threadId } = workerThreads;
  // `threadName` is there from Node 22 (Node 24 names an unnamed worker "WorkerThread").
  const named = (workerThreads as { threadName?: unknown }).threadName;
  const name = typeof named === 'string' && named !== 'WorkerThread' ? named : '';
  const index = claimSlot(
    table,
    threadId,
    osThreadId(),
    name,
    performance.timeOrigin + performance.now(),
    performance.nodeTiming.idleTime,
    hangMs,
  );
  if (index === -1) return undefined;
  // An unnamed thread is named after its script, known once the preloads have run (a tick
  // later, still before the script itself runs).
  if (name === '') process.nextTick(() => nameSlot(table, index, entryName(process.argv[1])));
  const views = slotViews(table, index);
  const beats = heartbeat(views, beatMs);
  const timer = setInterval(beats.beat, beatMs);
  timer.unref();
  const unpark = parkInWaits(views.i32, beats);
  // A thread that ends by itself says so; one that is terminated runs no handler, and its
  // parent says so instead (watchChildren, installed here too for nested workers).
  const end = (): void => {
    clearInterval(timer);
    endSlot(table, index, threadId, performance.timeOrigin + performance.now());
  };
  process.once('exit', end);
  watchChildren(table);
  return {
    index,
    beat: beats.beat,
    leave: () => {
      process.off('exit', end);
      end();
      unpark();
    },
  };
}

/**
 * Registers the calling worker thread, if the main thread published a table: claims a slot
 * and beats into it. Returns false when it is not watched (no table, or every slot taken) or
 * was registered already. Never throws.
 *
 * Run by the preload (register.ts) and, in a worker thread that did not run it, by the monitor
 * (worker/adopt.ts evaluates a call to it there, from a microtask of that thread).
 */
export function registerWorkerThread(): boolean {
  const global = globalThis as Global;
  if (workerThreads.isMainThread || global[REGISTERED] !== undefined) return false;
  try {
    const init = inheritedTable();
    if (init === undefined) return false;
    const registration = beatInSlot(tableOf(init.buffer), init.beatMs);
    if (registration === undefined) return false;
    global[REGISTERED] = registration;
    return true;
  } catch {
    return false;
  }
}

/**
 * This worker thread is watched by another monitor from now on (a vitest pool thread, watched
 * by the plugin's monitor with the test integration's settings): its slot in the process's
 * table is given up, so that its blocks are not reported twice, and the process's monitor
 * does not adopt it again. Never throws.
 */
export function leaveThreadTable(): void {
  const global = globalThis as Global;
  const registration = global[REGISTERED];
  global[REGISTERED] = 'left';
  if (registration === undefined || registration === 'left') return;
  try {
    registration.leave();
  } catch {
    // the slot stays; the thread is then watched twice, as before
  }
}

/**
 * At the process's exit, worker threads' blocks may be in progress or just ended (a worker
 * terminated in its block, the process ending under a spinning worker): end them (the threads
 * go with the process) and give the monitor until `deadline` (epoch ms) to write their `ended`
 * events, as for the main thread's block.
 */
export function flushThreadsAtExit(table: ThreadTable, deadline: number): void {
  const now = (): number => performance.timeOrigin + performance.now();
  const waiting: { i32: Int32Array; ack: number }[] = [];
  for (let index = 0; index < table.capacity; index++) {
    const slot = readSlot(table, index);
    if (slot.state !== SLOT_STATE.LIVE && slot.state !== SLOT_STATE.GONE) continue;
    const { i32 } = slotViews(table, index);
    if (Atomics.load(i32, I32.BLOCKED) !== 1) continue;
    const ack = Atomics.load(i32, I32.ACK);
    if (slot.state === SLOT_STATE.LIVE) endSlot(table, index, slot.threadId, now());
    waiting.push({ i32, ack });
  }
  for (const { i32, ack } of waiting) {
    const left = deadline - now();
    if (left <= 0) return;
    Atomics.wait(i32, I32.ACK, ack, left);
  }
}
