/**
 * The app's worker threads, watched from this one monitor: each LIVE slot of the thread table
 * (protocol/threads.ts) gets a BlockLifecycle of its own — the same detection, capture, events
 * and hang report as the main thread's, on that slot's heartbeat — with its stacks asked
 * through the NodeWorker domain (nodeworker.ts). A slot whose thread has ended is released once
 * the block in progress there, if any, has been reported as ended.
 *
 * The table wakes this part (Atomics.waitAsync on its CHANGES counter) whenever a thread
 * claims a slot or ends, so a worker that blocks right after it starts is watched already.
 *
 * The vitest pool's monitor watches a table of the same kind whose threads joined it from the
 * plugin's setup file (a feed table): nothing is adopted there, and each thread's block events
 * and SETTLE answers also go back to that thread (feed.ts), which judges its tests with them.
 */
import { join } from 'node:path';
import { debuglog } from 'node:util';
import { culpritFrame } from '../common/frames.js';
import { messageOf, stackOf } from '../common/text.js';
import type { BlockProgress, HangEvent, LoopwatchEvent, ResolvedOptions, StackFrame } from '../types.js';
import type { ThreadStates } from './threadstate.js';
import {
  HEADER,
  readSlot,
  REGISTER_MODULE,
  releaseSlot,
  SLOT_STATE,
  type SlotInfo,
  slotViews,
  tableOf,
  type ThreadTable,
} from '../protocol/threads.js';
import { I32, type WorkerInit } from '../protocol/shared.js';
import { ThreadAdopter } from './adopt.js';
import { type ActiveBlock, BlockLifecycle } from './block.js';
import type { RawFrame } from './capture.js';
import { FeedServer, type ThreadLink } from './feed.js';
import { Hangs } from './hangs.js';
import { WorkerThreadSource, WorkerThreadsInspector, workerThreadLink } from './nodeworker.js';
import type { WarnOnce } from './outputs.js';
import type { Transformed } from './stack.js';
import { type Clock, within } from './time.js';

/**
 * How long a worker thread's capture may take: two hops (the main thread's inspector agent
 * forwards it), and the first one of a block connects and lists the workers.
 */
const WORKER_CAPTURE_TIMEOUT_MS = 200;
/**
 * A worker thread's capture served later than this after its request left was held up by
 * native code on that thread (or on the main thread, which forwards it): its stack is marked
 * late. The main thread's own captures are held to 30 ms; from request to service, a worker's
 * took a median of 8 ms, a p90 of 68 ms and at most 105 ms (50 captures, the tests of
 * test/process/threads.test.ts on Node 22-26, on a 2-core machine at load average 11, with up
 * to ten threads spinning at once).
 */
export const WORKER_LATE_AFTER_MS = 150;
const debug = debuglog('loopwatch');

/** How often the table is read when nothing wakes this part (a missed wake costs this much). */
const SCAN_EVERY_MS = 1000;
/** While an ended thread's block is being closed, how often to look again. */
const RETIRE_POLL_MS = 20;
/** The longest an ended thread's slot waits for its block's `ended` event before it is released. */
const RETIRE_MAX_MS = 2000;
/** How long a worker thread's profiler may take to start (its heap is walked: short for a new thread). */
const PROFILER_START_TIMEOUT_MS = 3000;

export interface ThreadWatchDeps {
  readonly table: ThreadTable;
  readonly options: ResolvedOptions;
  readonly beatMs: number;
  readonly pid: number;
  readonly clock: Clock;
  /** The process's block counter (shared with the main thread's lifecycle). */
  readonly ids: { last: number };
  /** Undefined with `captureStack: false`. */
  readonly inspector: WorkerThreadsInspector | undefined;
  /** Registers the threads that did not run the preload; undefined without an inspector. */
  readonly adopter?: ThreadAdopter | undefined;
  /**
   * A table whose threads joined it for their own events (the vitest `threads` pool's): their
   * events go back to them, and the session stays connected from the start as for adopting.
   */
  readonly feed?: FeedServer | undefined;
  /** Told when the adopting session stays connected, and when it no longer does. */
  readonly sessionHeld?: ((held: boolean) => void) | undefined;
  readonly resolve: (raw: readonly RawFrame[]) => { frames: StackFrame[]; transformed: Transformed[] };
  readonly threadStates: (osTid: number) => ThreadStates;
  /** Whether to run the sampling profiler on each watched thread now (as on the main thread). */
  readonly profile?: (() => boolean) | undefined;
  readonly emit: (event: LoopwatchEvent) => void;
  readonly progress: (record: BlockProgress) => void;
  readonly warnOnce: WarnOnce;
}

interface Watched {
  readonly index: number;
  readonly generation: number;
  readonly threadId: number;
  name: string;
  readonly blocks: BlockLifecycle;
  readonly source: WorkerThreadSource | undefined;
  /** The thread's own way back, when it joined a feed table. */
  readonly link: ThreadLink | undefined;
  /** When the thread was seen ended (epoch ms). */
  goneAt?: number;
  retired?: boolean;
}

/** A blocked worker thread, as the health endpoint lists it. */
export interface BlockedThread {
  readonly thread: `worker ${number}`;
  readonly threadName?: string;
  readonly id: number;
  readonly blockedMs: number;
  readonly culprit?: StackFrame;
}

export class ThreadWatch {
  readonly #deps: ThreadWatchDeps;
  readonly #watched = new Map<number, Watched>();
  /** Whether the session to the threads stays connected (their profilers live in it). */
  #held = false;
  #stopped = false;
  #timer: unknown;

  constructor(deps: ThreadWatchDeps) {
    this.#deps = deps;
  }

  /**
   * Starts watching the threads registered so far, and those to come; and adopting, through a
   * session that stays connected from now on, those that do not register themselves.
   */
  start(): void {
    const { adopter, inspector, feed } = this.#deps;
    if ((adopter !== undefined || feed !== undefined) && inspector !== undefined) {
      this.#held = inspector.hold(adopter?.listed ?? (() => undefined));
      if (this.#held) this.#deps.sessionHeld?.(true);
      else if (adopter !== undefined)
        this.#deps.warnOnce(
          'adopt',
          'worker threads started without the preload are not watched: no inspector session',
        );
    }
    feed?.serve({
      join: (threadId) => {
        this.scan();
        return this.#find(threadId) !== undefined;
      },
      settle: (threadId, seq) => {
        const watched = this.#find(threadId);
        watched?.blocks.settle(seq);
        return watched !== undefined;
      },
      status: () => ({
        thresholdMs: this.#deps.options.thresholdMs,
        stackCapture: this.#held,
        reason: this.#held
          ? undefined
          : inspector === undefined
            ? 'captureStack is false'
            : (inspector.reason ?? 'no inspector session to the worker threads'),
      }),
    });
    this.#loop().catch((error: unknown) => {
      this.#deps.warnOnce('threads', `stopped watching worker threads: ${stackOf(error)}`);
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#deps.adopter?.stop();
    this.#deps.feed?.close();
    if (this.#timer !== undefined) this.#deps.clock.clearTimeout(this.#timer);
    for (const watched of this.#watched.values()) this.#retire(watched);
    this.#watched.clear();
  }

  /** How many worker threads are watched now. */
  get size(): number {
    return this.#watched.size;
  }

  /** The watched thread `threadId`, unless it has ended. */
  #find(threadId: number): Watched | undefined {
    for (const watched of this.#watched.values())
      if (watched.threadId === threadId && watched.goneAt === undefined) return watched;
    return undefined;
  }

  /** The worker threads blocked now, with their block. */
  blocked(): BlockedThread[] {
    const now = this.#deps.clock.now();
    const list: BlockedThread[] = [];
    for (const watched of this.#watched.values()) {
      const active: ActiveBlock | undefined = watched.blocks.active;
      if (active === undefined) continue;
      const name = this.#nameOf(watched);
      const culprit = active.stack.timing === 'none' ? undefined : culpritFrame(active.stack.frames);
      list.push({
        thread: `worker ${watched.threadId}`,
        ...(name === undefined ? {} : { threadName: name }),
        id: active.id,
        blockedMs: Math.max(0, Math.round(now - active.since)),
        ...(culprit === undefined ? {} : { culprit }),
      });
    }
    return list;
  }

  async #loop(): Promise<void> {
    const { header } = this.#deps.table;
    while (!this.#stopped) {
      const seen = Atomics.load(header, HEADER.CHANGES);
      const retiring = this.scan();
      const wait = Atomics.waitAsync(header, HEADER.CHANGES, seen, retiring ? RETIRE_POLL_MS : SCAN_EVERY_MS);
      if (wait.async) await wait.value;
    }
  }

  /** Reads the table once. True while an ended thread's slot waits to be released. */
  scan(): boolean {
    const { table, clock } = this.#deps;
    let retiring = false;
    for (let index = 0; index < table.capacity; index++) {
      const slot = readSlot(table, index);
      let watched = this.#watched.get(index);
      if (watched !== undefined && watched.generation !== slot.generation) {
        // The slot was released and claimed again by a thread this part never saw end.
        this.#retire(watched);
        this.#watched.delete(index);
        watched = undefined;
      }
      if (slot.state === SLOT_STATE.LIVE) {
        if (watched === undefined) this.#watch(slot);
        continue;
      }
      if (slot.state !== SLOT_STATE.GONE) continue;
      // A thread that lived and ended between two reads is still read for the blocks in its
      // history (its lifecycle reports them when it starts), then released.
      watched ??= this.#watch(slot);
      const now = clock.now();
      watched.goneAt ??= now;
      if (watched.blocks.active !== undefined && now - watched.goneAt < RETIRE_MAX_MS) {
        retiring = true;
        continue;
      }
      this.#retire(watched);
      this.#watched.delete(index);
      releaseSlot(table, index);
    }
    return retiring;
  }

  /**
   * The Worker's `name` as the inspector lists it (on Node 20 a thread cannot read its own),
   * else what the thread wrote in its slot: its own name, or for an unnamed one its script's
   * (see entryName in main/thread.ts).
   */
  #nameOf(watched: Watched): string | undefined {
    const listed = this.#deps.inspector?.nameOf(watched.threadId);
    if (listed !== undefined) return listed;
    // An unnamed thread writes its script's name a tick after its claim: read it once there.
    if (watched.name === '') {
      const slot = readSlot(this.#deps.table, watched.index);
      if (slot.generation === watched.generation) watched.name = slot.name;
    }
    return watched.name === '' ? undefined : watched.name;
  }

  #watch(slot: SlotInfo): Watched {
    const { index, threadId, generation, name, osTid } = slot;
    const deps = this.#deps;
    const { clock, pid } = deps;
    // A thread may bring its own hang deadline (a vitest pool thread: its project's).
    const options = slot.hangMs > 0 ? { ...deps.options, hangMs: slot.hangMs } : deps.options;
    const link = deps.feed?.open(threadId);
    const views = slotViews(deps.table, index);
    const thread = `worker ${threadId}` as const;
    const source =
      deps.inspector === undefined ? undefined : new WorkerThreadSource(deps.inspector, threadId, options.maxFrames);
    const named = (): string | undefined => this.#nameOf(watched);
    const states = osTid === 0 ? undefined : deps.threadStates(osTid);
    const tag = <E extends HangEvent>(event: E): E => {
      const threadName = named();
      return { ...event, thread, ...(threadName === undefined ? {} : { threadName }) };
    };
    const blocks: BlockLifecycle = new BlockLifecycle({
      // A worker thread has no markReady(): its warm-up is not told apart.
      options: {
        ...options,
        warmup: false,
        captureTimeoutMs: Math.max(options.captureTimeoutMs, WORKER_CAPTURE_TIMEOUT_MS),
      },
      ...views,
      beatMs: deps.beatMs,
      pid,
      thread,
      threadName: named,
      ids: deps.ids,
      lateAfterMs: WORKER_LATE_AFTER_MS,
      source,
      clock,
      resolve: deps.resolve,
      threadStates: states,
      emit:
        link === undefined
          ? deps.emit
          : (event) => {
              deps.emit(event);
              if (event.type === 'block') link.event(event);
            },
      progress: deps.progress,
      warnOnce: deps.warnOnce,
      // A thread asks to settle only over its feed; the main thread's SETTLE is about its own blocks.
      settled: (seq) => link?.settled(seq),
      hang: (answering) => hangs.reportHang(answering),
    });
    // Report only: ending the process for one pool thread would take the service down with it,
    // and ending the thread alone belongs to the code that owns its Worker (the vitest plugin
    // ends its run on a pool thread's hang event).
    const hangs = new Hangs({
      options: { ...options, hangAction: 'none' },
      pid,
      f64: views.f64,
      clock,
      blocks,
      threadState: () => states?.sinceDetected(),
      emit: (event) => deps.emit(tag(event)),
      emitFinal: (event) => deps.emit(tag(event)),
      flush: () => Promise.resolve(),
      warnOnce: deps.warnOnce,
      askExit: () => undefined,
      stopped: () => this.#stopped,
    });
    const watched: Watched = { index, generation, threadId, name, blocks, source, link };
    this.#watched.set(index, watched);
    blocks.start();
    this.#profile(watched, views.i32);
    return watched;
  }

  /**
   * Starts the sampling profiler on a newly watched thread, so that a block inside one long
   * native call there is named from its samples as on the main thread. Its start holds that
   * thread for a time proportional to its heap: short for a thread just started.
   */
  #profile(watched: Watched, i32: Int32Array): void {
    const { inspector, clock, warnOnce } = this.#deps;
    if (!this.#held || inspector === undefined || this.#deps.profile?.() !== true) return;
    const { threadId } = watched;
    const { SamplingProfiler } = require('./profiler.js') as typeof import('./profiler.js');
    const profiler = new SamplingProfiler(workerThreadLink(inspector, threadId));
    const failed = (why: string): void => {
      debug('worker %d: the profiler %s', threadId, why);
      // A thread that ended meanwhile is no failure.
      if (watched.retired !== true && inspector.listed(threadId))
        warnOnce('thread-profiler', `a worker thread's profiler ${why}; its blocks are reported without it`);
    };
    const starting = profiler.start();
    void within(
      clock,
      starting.then(() => true),
      PROFILER_START_TIMEOUT_MS,
    ).then(
      (started) => {
        if (started !== true) {
          failed('did not start in time');
          // Not left sampling unused if it starts after all.
          void starting.then(() => inspector.send(threadId, 'Profiler.disable')).catch(() => undefined);
          return;
        }
        debug('worker %d: the profiler runs', threadId);
        if (watched.retired === true) return;
        watched.blocks.useProfiler({
          due: (now) => profiler.due(now),
          rotate: () => profiler.rotate(),
          // A thread that has ended took its samples with it: its block's `ended` event (which
          // the exiting process waits for) does not wait for them.
          attributeBlock: (fromMs, toMs) =>
            Atomics.load(i32, I32.EXITING) === 1 ? Promise.resolve(undefined) : profiler.attributeBlock(fromMs, toMs),
        });
      },
      (error: unknown) => failed(`could not start: ${messageOf(error)}`),
    );
  }

  #retire(watched: Watched): void {
    watched.retired = true;
    watched.blocks.stop();
    watched.source?.close();
    watched.link?.close();
  }
}

/**
 * The watch of the app's worker threads, when the main thread published a table for them, and
 * the inspector that captures their stacks (none with `captureStack: false`).
 */
export function watchThreads(
  init: Pick<WorkerInit, 'options' | 'pid' | 'threads' | 'noInspector' | 'ownDir'>,
  deps: Omit<ThreadWatchDeps, 'table' | 'options' | 'beatMs' | 'pid' | 'inspector' | 'adopter' | 'feed'>,
): { readonly threads: ThreadWatch | undefined; readonly inspector: WorkerThreadsInspector | undefined } {
  if (init.threads === undefined) return { threads: undefined, inspector: undefined };
  const inspector = init.options.captureStack ? new WorkerThreadsInspector(init.noInspector) : undefined;
  const table = tableOf(init.threads.buffer);
  const feed = init.threads.feed === undefined ? undefined : new FeedServer(init.threads.feed, deps.warnOnce);
  // A feed table's threads join it themselves; any other thread belongs to the process's table.
  const adopter =
    inspector === undefined || !inspector.available || feed !== undefined
      ? undefined
      : new ThreadAdopter({
          table,
          registerModule: join(init.ownDir, REGISTER_MODULE),
          clock: deps.clock,
          evaluate: (threadId, expression) => inspector.evaluate(threadId, expression),
          listed: (threadId) => inspector.listed(threadId),
          warnOnce: deps.warnOnce,
          debug: (message) => debug('%s', message),
        });
  const threads = new ThreadWatch({
    ...deps,
    table,
    options: init.options,
    beatMs: init.threads.beatMs,
    pid: init.pid,
    inspector,
    adopter,
    feed,
  });
  return { threads, inspector };
}
