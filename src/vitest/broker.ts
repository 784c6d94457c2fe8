/**
 * The capture broker, on vitest's main thread, for the `threads` pool. The stack of a pool
 * thread is asked through the same NodeWorker session code as the monitor's watch of the app's
 * worker threads (common/nodeworker.ts), connected with `session.connect()` from here; each
 * pool thread asks over a BroadcastChannel.
 *
 * Why a pool thread is not simply a slot of the thread table: its tests need a monitor of
 * their own in that thread (the windows each test is judged in, settle() before a verdict, the
 * canary, the per-test context, the hang deadline that ends the run), and the preload that
 * registers slots does not run in vitest's pool threads unless vitest itself runs under it.
 * And why not the nested monitor's own session (`connectToMainThread()` also lists the pool
 * threads): in probes, a session opened from a freshly started worker had its NodeWorker.enable
 * answered in only some runs, on Node 22-26, where this one, opened on the main thread before
 * the pool starts, has been reliable. */
import { BroadcastChannel } from 'node:worker_threads';
import { NodeWorkerSessions } from '../common/nodeworker.js';
import { BROKER_CHANNEL, type BrokerMessage } from '../protocol/shared.js';
import type { HangEvent } from '../types.js';

export class CaptureBroker {
  readonly #channel: BroadcastChannel;
  readonly #onHang: (threadId: number, event: HangEvent) => void;
  readonly #sessions = new NodeWorkerSessions('own');

  constructor(onHang: (threadId: number, event: HangEvent) => void) {
    this.#onHang = onHang;
    this.#channel = new BroadcastChannel(BROKER_CHANNEL);
    this.#channel.onmessage = (message: unknown): void => {
      const data = (message as { data?: BrokerMessage }).data;
      if (data?.type === 'capture') void this.#capture(data.id, data.threadId, data.expression);
      else if (data?.type === 'hang') this.#onHang(data.threadId, data.event);
    };
    (this.#channel as unknown as { unref(): void }).unref();
    // Attached now, each pool thread is known before its first block: the first capture does
    // not pay for connecting. Without an inspector, captures answer with an error and blocks
    // come without stacks.
    this.#sessions.connect();
  }

  close(): void {
    this.#channel.close();
    this.#sessions.close();
  }

  async #capture(id: string, threadId: number, expression: string): Promise<void> {
    const evaluated = this.#sessions.connect()
      ? await this.#sessions.evaluate(threadId, expression)
      : { error: this.#sessions.reason ?? 'no inspector session' };
    const reply: BrokerMessage =
      evaluated.error === undefined
        ? { type: 'captured', id, value: evaluated.value }
        : { type: 'captured', id, value: undefined, error: evaluated.error };
    try {
      this.#channel.postMessage(reply);
    } catch {
      // closed
    }
  }
}
