/**
 * A vitest `threads` pool thread, watched by the one monitor the plugin started in vitest's
 * main process (main/monitor.ts, startPoolMonitor). The thread claims a slot of that monitor's
 * table (published under POOL_KEY) and beats into it as any watched worker thread does; the
 * monitor captures its stacks through the NodeWorker domain, as for the app's worker threads.
 * What the test integration needs on top — this thread's own block events, and settle() before
 * each verdict — comes over the thread feed (protocol/feed.ts).
 *
 * Runs on the pool thread. Exposes the part of a Monitor that TestWatch reads (testing/runtime.ts).
 */
import { types } from 'node:util';
import { BroadcastChannel, getEnvironmentData, isMainThread, threadId } from 'node:worker_threads';
import { LoopwatchError } from '../errors.js';
import { TO_MONITOR, TO_THREAD, threadChannel, type ToMonitor, type ToThread } from '../protocol/feed.js';
import { findSlot, POOL_KEY, slotViews, tableOf, type ThreadsInit } from '../protocol/threads.js';
import type { BlockEvent } from '../types.js';
import { trackContext } from './context.js';
import { heartbeat } from './heartbeat.js';
import { PendingSettles } from './settles.js';
import { beatInSlot } from './thread.js';

/** How often JOIN is sent until it is answered (the monitor may still be starting). */
const JOIN_EVERY_MS = 100;
/** How long the thread waits to be watched before `ready` rejects. */
const JOIN_TIMEOUT_MS = 10_000;

/** The pool's table, when the plugin's monitor published one for the threads started from now on. */
export function poolTable(): (ThreadsInit & { readonly feed: string }) | undefined {
  if (isMainThread) return undefined;
  const value = getEnvironmentData(POOL_KEY) as Partial<ThreadsInit> | undefined;
  if (
    value === undefined ||
    // Not `instanceof`: in the vmThreads pool this code runs in a vm context, whose
    // SharedArrayBuffer is another realm's than the buffer's.
    !types.isSharedArrayBuffer(value.buffer) ||
    typeof value.beatMs !== 'number' ||
    typeof value.feed !== 'string'
  )
    return undefined;
  return { buffer: value.buffer, beatMs: value.beatMs, feed: value.feed };
}

export interface FeedStatus {
  readonly stackCapture: boolean;
  readonly reason: string | undefined;
  /** The threshold the monitor watches this thread at, ms. */
  readonly thresholdMs: number;
}

/** This thread's blocks, as the pool's monitor reports them. */
export class ThreadFeed {
  readonly ready: Promise<FeedStatus>;
  readonly #feed: string;
  readonly #control: BroadcastChannel;
  readonly #own: BroadcastChannel;
  readonly #listeners = new Set<(event: BlockEvent) => void>();
  /**
   * Settle numbers start anywhere: in the `vmThreads` pool each test file's context has its own
   * feed on the same thread, and all of them hear every SETTLED of this thread.
   */
  readonly #settles = new PendingSettles(Math.floor(Math.random() * 2 ** 40));
  readonly #beat: () => void;
  readonly #leave: () => void;
  #joined: ((answer: { readonly watched: boolean } & FeedStatus) => void) | undefined;

  /** @param hangMs this thread's hang deadline (undefined: the monitor's). */
  constructor(init: ThreadsInit & { readonly feed: string }, hangMs: number | undefined) {
    this.#feed = init.feed;
    warmMessageEvent();
    const table = tableOf(init.buffer);
    // The thread's slot: claimed now, or, in another context of this thread (`vmThreads`), the
    // one claimed there (it beats already; a beat from here only tells that the thread runs).
    const index = findSlot(table, threadId);
    const registration = index === -1 ? beatInSlot(table, init.beatMs, hangMs ?? 0) : undefined;
    this.#beat =
      registration?.beat ?? (index === -1 ? () => undefined : heartbeat(slotViews(table, index), init.beatMs).resume);
    this.#leave = registration?.leave ?? (() => undefined);
    this.#own = new BroadcastChannel(threadChannel(init.feed, threadId));
    this.#control = new BroadcastChannel(init.feed);
    this.#own.onmessage = (message: unknown) => this.#receive((message as { data: ToThread }).data);
    // Never keeps the thread alive: a settle() in progress does, through its timer.
    unref(this.#own);
    unref(this.#control);
    if (index === -1 && registration === undefined) {
      this.ready = Promise.reject(
        new LoopwatchError(
          'ERR_LOOPWATCH_NOT_WATCHING',
          `loopwatch cannot watch this pool thread: every slot of the pool's thread table is taken (more than ${table.capacity} threads at once)`,
        ),
      );
    } else {
      this.ready = this.#join();
    }
    // A rejected `ready` that nobody awaits must not crash the thread.
    this.ready.catch(() => undefined);
  }

  /**
   * Gives the slot up and stops listening (the thread's exit does the same). Waiting settle()
   * calls resolve.
   */
  close(): void {
    this.#leave();
    this.#own.close();
    this.#control.close();
    this.#settles.releaseAll();
  }

  /** As `monitor.on('block', …)`: the blocks of this thread. */
  onBlock(listener: (event: BlockEvent) => void): void {
    this.#listeners.add(listener);
  }

  trackContext<T>(
    storage: { getStore(): T | undefined },
    toAttributes: (store: T) => Record<string, unknown> | undefined,
  ): () => void {
    return trackContext(storage, toAttributes);
  }

  /** Resolves once every block of this thread that has ended has been delivered to the listeners. */
  async settle(): Promise<void> {
    // This thread runs, so any block has ended: say so now rather than at the next timer beat,
    // and before any await: whatever synchronous code runs after this call is not the block's.
    this.#beat();
    try {
      await this.ready;
    } catch {
      return;
    }
    await this.#settles.wait((seq) => this.#post({ code: TO_MONITOR.SETTLE, threadId, seq }));
  }

  #join(): Promise<FeedStatus> {
    return new Promise<FeedStatus>((resolveJoin, rejectJoin) => {
      const since = Date.now();
      // Sent again until answered: a message posted before the monitor listens is lost.
      const ask = (): void => {
        if (Date.now() - since > JOIN_TIMEOUT_MS) {
          this.#joined = undefined;
          rejectJoin(
            new LoopwatchError(
              'ERR_LOOPWATCH_NOT_WATCHING',
              `loopwatch is not watching this pool thread: the monitor in vitest's process did not answer within ${JOIN_TIMEOUT_MS} ms`,
            ),
          );
          return;
        }
        this.#post({ code: TO_MONITOR.JOIN, threadId });
        timer = setTimeout(ask, JOIN_EVERY_MS);
      };
      let timer: NodeJS.Timeout | undefined;
      this.#joined = ({ watched, stackCapture, reason, thresholdMs }) => {
        clearTimeout(timer);
        this.#joined = undefined;
        if (watched) resolveJoin({ stackCapture, reason, thresholdMs });
        else
          rejectJoin(
            new LoopwatchError(
              'ERR_LOOPWATCH_NOT_WATCHING',
              "loopwatch is not watching this pool thread: the monitor in vitest's process found no slot for it",
            ),
          );
      };
      ask();
    });
  }

  #receive(message: ToThread): void {
    switch (message.code) {
      case TO_THREAD.JOINED:
        this.#joined?.(message);
        return;
      case TO_THREAD.EVENT:
        for (const listener of this.#listeners) {
          try {
            listener(message.event);
          } catch (error) {
            warn(
              `a 'block' listener threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
            );
          }
        }
        return;
      case TO_THREAD.SETTLED:
        this.#settles.answer(message.seq);
        return;
      default:
        warn(`unknown message from the monitor on ${this.#feed}: ${JSON.stringify(message)}`);
    }
  }

  #post(message: ToMonitor): boolean {
    try {
      this.#control.postMessage(message);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * A BroadcastChannel delivers each message as a MessageEvent, whose class Node 22 and later load
 * with their bundled undici on first use: 46–65 ms of this thread's time in a fresh worker on
 * Node 22–26 (0.1 ms on Node 20), measured. Paid on the first JOINED, it was reported as a block
 * of the pool thread's first test file (a ~70 ms block in `Object.getHashes` under undici, on a
 * loaded machine). Paid here, before the thread claims its slot, it is part of the pool
 * thread's start, not a block. In a vm context without the global, nothing is done.
 */
function warmMessageEvent(): void {
  try {
    const MessageEventClass = (globalThis as { MessageEvent?: new (type: string) => unknown }).MessageEvent;
    if (typeof MessageEventClass === 'function') new MessageEventClass('message');
  } catch {
    // the first message pays for it instead
  }
}

function unref(channel: BroadcastChannel): void {
  (channel as unknown as { unref(): void }).unref();
}

function warn(message: string): void {
  try {
    process.emitWarning(message, { type: 'LoopwatchWarning', code: 'LOOPWATCH_FEED' });
  } catch {
    // A warning must never become the host's problem.
  }
}
