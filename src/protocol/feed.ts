/**
 * The thread feed: how a worker thread that joined a feed table (the vitest `threads` pool's,
 * see ThreadsInit.feed) gets its own events back from the one monitor, and asks it to settle.
 * The test integration judges each test on the thread that ran it (windows per test, settle()
 * before a verdict, the canary), so that thread must see its blocks as the main thread sees
 * them through `monitor.on('block')`; the monitor itself runs in another thread.
 *
 * Two kinds of BroadcastChannel, both named after the table's `feed`:
 *   `<feed>`             thread → monitor: JOIN, SETTLE (only the monitor listens)
 *   `<feed>:<threadId>`  monitor → that thread: JOINED, EVENT, SETTLED
 * One sender per channel and direction, so a thread sees its events and the SETTLED that
 * follows them in the order the monitor sent them. A channel per thread, so that no thread
 * decodes the others' events.
 */
import type { BlockEvent } from '../types.js';

/** Thread → monitor. */
export const TO_MONITOR = {
  /** The thread has claimed its slot: watch it now, and answer JOINED. Sent again until answered. */
  JOIN: 'join',
  /** Answer SETTLED once every block of this thread that ended before this message has been sent. */
  SETTLE: 'settle',
} as const;

/** Monitor → thread. */
export const TO_THREAD = {
  /** The thread's slot is watched; says whether stacks can be captured. */
  JOINED: 'joined',
  /** A block of this thread (ongoing or ended). */
  EVENT: 'event',
  /** The answer to SETTLE. */
  SETTLED: 'settled',
} as const;

export type ToMonitor =
  | { readonly code: typeof TO_MONITOR.JOIN; readonly threadId: number }
  | { readonly code: typeof TO_MONITOR.SETTLE; readonly threadId: number; readonly seq: number };

export type ToThread =
  | {
      readonly code: typeof TO_THREAD.JOINED;
      /** False when the thread found no slot (the table is full): it is not watched. */
      readonly watched: boolean;
      readonly stackCapture: boolean;
      /** Why stacks cannot be captured, when they cannot. */
      readonly reason: string | undefined;
      /** The threshold the monitor watches the thread at, ms. */
      readonly thresholdMs: number;
    }
  | { readonly code: typeof TO_THREAD.EVENT; readonly event: BlockEvent }
  | { readonly code: typeof TO_THREAD.SETTLED; readonly seq: number };

/** The channel the monitor sends thread `threadId`'s messages on. */
export function threadChannel(feed: string, threadId: number): string {
  return `${feed}:${threadId}`;
}
