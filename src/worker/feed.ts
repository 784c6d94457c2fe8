/**
 * The monitor's end of the thread feed (protocol/feed.ts): for a table whose threads joined it
 * to get their own events back (the vitest `threads` pool's), each watched thread's block
 * events go to that thread too, and its JOIN and SETTLE requests are answered. The events
 * reach the sinks as every thread's do; this is one more way out, for the thread itself.
 */
import { BroadcastChannel } from 'node:worker_threads';
import { TO_MONITOR, TO_THREAD, threadChannel, type ToMonitor, type ToThread } from '../protocol/feed.js';
import type { BlockEvent } from '../types.js';
import type { WarnOnce } from './outputs.js';

/** What answers the threads' requests (the watch of the table, worker/threads.ts). */
export interface FeedHandler {
  /** Reads the table now; whether thread `threadId` is watched. */
  join(threadId: number): boolean;
  /** Passes a SETTLE on to the thread's block lifecycle; false when the thread is not watched. */
  settle(threadId: number, seq: number): boolean;
  /** Whether the threads' stacks can be captured (and why not), and at what threshold they are watched. */
  status(): { readonly stackCapture: boolean; readonly reason: string | undefined; readonly thresholdMs: number };
}

/** One watched thread's way back: its events and SETTLE answers. */
export interface ThreadLink {
  event(event: BlockEvent): void;
  settled(seq: number): void;
  close(): void;
}

export class FeedServer {
  readonly #name: string;
  readonly #warnOnce: WarnOnce;
  readonly #links = new Map<number, BroadcastChannel>();
  #control: BroadcastChannel | undefined;

  constructor(name: string, warnOnce: WarnOnce) {
    this.#name = name;
    this.#warnOnce = warnOnce;
  }

  /** Starts answering the threads' requests. */
  serve(handler: FeedHandler): void {
    if (this.#control !== undefined) return;
    const control = new BroadcastChannel(this.#name);
    control.onmessage = (message: unknown) => this.#receive((message as { data: ToMonitor }).data, handler);
    (control as unknown as { unref(): void }).unref();
    this.#control = control;
  }

  /** Opens thread `threadId`'s way back (one per watched thread, closed when it is retired). */
  open(threadId: number): ThreadLink {
    const channel = new BroadcastChannel(threadChannel(this.#name, threadId));
    (channel as unknown as { unref(): void }).unref();
    this.#links.set(threadId, channel);
    const post = (message: ToThread): void => postTo(channel, message);
    return {
      event: (event) => post({ code: TO_THREAD.EVENT, event }),
      settled: (seq) => post({ code: TO_THREAD.SETTLED, seq }),
      close: () => {
        if (this.#links.get(threadId) === channel) this.#links.delete(threadId);
        channel.close();
      },
    };
  }

  close(): void {
    this.#control?.close();
    this.#control = undefined;
    for (const channel of this.#links.values()) channel.close();
    this.#links.clear();
  }

  #receive(message: ToMonitor, handler: FeedHandler): void {
    switch (message.code) {
      case TO_MONITOR.JOIN: {
        const watched = handler.join(message.threadId);
        this.#reply(message.threadId, { code: TO_THREAD.JOINED, watched, ...handler.status() });
        return;
      }
      case TO_MONITOR.SETTLE:
        // Not watched (yet, or any more): nothing of it is on its way.
        if (!handler.settle(message.threadId, message.seq))
          this.#reply(message.threadId, { code: TO_THREAD.SETTLED, seq: message.seq });
        return;
      default:
        this.#warnOnce('feed', `unknown message from a pool thread: ${JSON.stringify(message)}`);
    }
  }

  /** On the thread's open link, or on a channel opened for this one message. */
  #reply(threadId: number, message: ToThread): void {
    const open = this.#links.get(threadId);
    if (open !== undefined) {
      postTo(open, message);
      return;
    }
    const once = new BroadcastChannel(threadChannel(this.#name, threadId));
    postTo(once, message);
    once.close();
  }
}

function postTo(channel: BroadcastChannel, message: ToThread): void {
  try {
    channel.postMessage(message);
  } catch {
    // closed: the thread is gone
  }
}
