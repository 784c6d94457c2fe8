/**
 * The capture broker, on vitest's main thread, for the `threads` pool: there the watched
 * thread is a worker thread, and an inspector session opened by its nested monitor does not
 * reach it. The main thread's own session does, through the NodeWorker domain (one sub-session
 * per worker); `Runtime.evaluate` sent that way is served by an interrupt on top of the blocked
 * worker's frames, as on the main thread. Monitors ask over a BroadcastChannel.
 */
import { Session } from 'node:inspector';
import { BroadcastChannel } from 'node:worker_threads';
import { BROKER_CHANNEL, type BrokerMessage } from '../protocol/shared.js';
import type { HangEvent } from '../types.js';
import { messageOf } from '../common/text.js';

/** How long an attached worker may take to answer an evaluation (a long native call delays it). */
const ANSWER_TIMEOUT_MS = 10_000;
/** How long to wait for the NodeWorker domain to list a thread. */
const ATTACH_TIMEOUT_MS = 2000;
const TITLE = /^\[worker (\d+)\]/;

interface Attached {
  readonly workerInfo: { readonly title: string };
  readonly sessionId: string;
}

export class CaptureBroker {
  readonly #channel: BroadcastChannel;
  readonly #onHang: (threadId: number, event: HangEvent) => void;
  #session: Session | undefined;
  readonly #sessions = new Map<number, string>();
  readonly #attachWaiters = new Set<() => void>();
  readonly #answers = new Map<
    number,
    (message: { result?: { result?: { value?: unknown } }; error?: { message?: string } }) => void
  >();
  #nextId = 0;

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
    // not pay for connecting.
    try {
      this.#connect();
    } catch {
      // no inspector in this Node: captures answer with an error, blocks come without stacks
    }
  }

  close(): void {
    this.#channel.close();
    try {
      this.#session?.disconnect();
    } catch {
      // already gone
    }
    this.#session = undefined;
  }

  #connect(): Session {
    if (this.#session !== undefined) return this.#session;
    const session = new Session();
    session.connect();
    session.on('NodeWorker.attachedToWorker', ({ params }: { params: Attached }) => {
      const match = TITLE.exec(params.workerInfo.title);
      if (match !== null) this.#sessions.set(Number(match[1]), params.sessionId);
      for (const wake of this.#attachWaiters) wake();
    });
    session.on('NodeWorker.detachedFromWorker', ({ params }: { params: { sessionId: string } }) => {
      for (const [thread, id] of this.#sessions) if (id === params.sessionId) this.#sessions.delete(thread);
    });
    session.on('NodeWorker.receivedMessageFromWorker', ({ params }: { params: { message: string } }) => {
      try {
        const message = JSON.parse(params.message) as { id?: number };
        if (typeof message.id === 'number') this.#answers.get(message.id)?.(message as never);
      } catch {
        // not ours
      }
    });
    session.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
    this.#session = session;
    return session;
  }

  async #sessionFor(threadId: number): Promise<string | undefined> {
    this.#connect();
    const known = this.#sessions.get(threadId);
    if (known !== undefined) return known;
    return new Promise((resolveSession) => {
      const wake = (): void => {
        const id = this.#sessions.get(threadId);
        if (id === undefined) return;
        clearTimeout(timer);
        this.#attachWaiters.delete(wake);
        resolveSession(id);
      };
      const timer = setTimeout(() => {
        this.#attachWaiters.delete(wake);
        resolveSession(undefined);
      }, ATTACH_TIMEOUT_MS);
      this.#attachWaiters.add(wake);
    });
  }

  async #capture(id: string, threadId: number, expression: string): Promise<void> {
    let reply: BrokerMessage;
    try {
      const sessionId = await this.#sessionFor(threadId);
      if (sessionId === undefined) throw new Error(`thread ${threadId} is not listed by the inspector`);
      const inner = ++this.#nextId;
      const answer = await new Promise<
        { result?: { result?: { value?: unknown } }; error?: { message?: string } } | undefined
      >((resolveAnswer) => {
        const timer = setTimeout(() => {
          this.#answers.delete(inner);
          resolveAnswer(undefined);
        }, ANSWER_TIMEOUT_MS);
        this.#answers.set(inner, (message) => {
          clearTimeout(timer);
          this.#answers.delete(inner);
          resolveAnswer(message);
        });
        const message = JSON.stringify({
          id: inner,
          method: 'Runtime.evaluate',
          params: {
            expression,
            returnByValue: true,
            silent: true,
            includeCommandLineAPI: false,
            generatePreview: false,
            disableBreaks: true,
          },
        });
        this.#session?.post('NodeWorker.sendMessageToWorker', { sessionId, message });
      });
      if (answer === undefined) throw new Error('no answer');
      if (answer.error !== undefined) throw new Error(answer.error.message ?? 'evaluation failed');
      reply = { type: 'captured', id, value: answer.result?.result?.value };
    } catch (error) {
      reply = { type: 'captured', id, value: undefined, error: messageOf(error) };
    }
    try {
      this.#channel.postMessage(reply);
    } catch {
      // closed
    }
  }
}
