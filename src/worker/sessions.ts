/**
 * One inspector session to the main thread, through which any worker thread of the process is
 * reached: the main thread's inspector agent lists every worker thread (nested ones too) in
 * the NodeWorker domain and forwards protocol messages to each one (one sub-session per
 * worker). `Runtime.evaluate` sent that way is served by an interrupt on top of the worker's
 * blocked frames, as on the main thread (native-free-probes/stack-pool-thread.mjs; 3–14 ms
 * round trip measured, also while the main thread itself spins in JavaScript).
 *
 * Opened by the monitor worker with `connectToMainThread()` (worker/nodeworker.ts): the app's
 * worker threads, and vitest's pool threads for the plugin's pool monitor.
 *
 * The forwarding runs on the main thread: while the main thread is inside one long native call
 * itself, an evaluation waits for that call to return.
 */
import type { Session } from 'node:inspector';
import { evaluateParams } from '../common/evaluate.js';
import { messageOf } from '../common/text.js';
import { nowMs } from '../protocol/shared.js';

/** How long to wait for the NodeWorker domain to list a thread after connecting. */
const ATTACH_TIMEOUT_MS = 2000;
/** How long an evaluation may stay unanswered before it is dropped (a long native call delays it). */
const ANSWER_TIMEOUT_MS = 10_000;
/** `[worker 4] resize`: the thread id, then the Worker's name, if any. */
const TITLE = /^\[worker (\d+)\](?: (.*))?$/;
/** Names of threads long gone are not kept beyond this many. */
const MAX_NAMES = 1024;

interface Reply {
  readonly result?: { readonly result?: { readonly value?: unknown }; readonly exceptionDetails?: unknown };
  readonly error?: { readonly message?: string };
}

/** What a protocol command came to: its result, or why there is none. */
export type Sent = { readonly result: unknown; readonly error?: undefined } | { readonly error: string };

/** What an evaluation came to: its value and when the request left, or why there is none. */
export type Evaluated =
  { readonly value: unknown; readonly sentAt: number; readonly error?: undefined } | { readonly error: string };

/** A worker thread as the NodeWorker domain lists it. */
export interface ListedThread {
  readonly threadId: number;
  /** The Worker's `name` ('' for an unnamed one). */
  readonly name: string;
  /** Its script's `file:` URL; '' for an `eval` worker (and a `data:` URL one). */
  readonly url: string;
}

export class NodeWorkerSessions {
  readonly available: boolean;
  readonly reason: string | undefined;
  readonly #Session: typeof Session | undefined;
  #session: Session | undefined;
  readonly #sessions = new Map<number, string>();
  readonly #names = new Map<number, string>();
  readonly #attachWaiters = new Set<() => void>();
  /** The command ids waiting for an answer: the sub-session each was sent to, and its callback. */
  readonly #answers = new Map<
    number,
    { readonly sessionId: string; readonly done: (reply: Reply | undefined) => void }
  >();
  /** Threads listed once and detached since (bounded): asked for again, they fail at once. */
  readonly #ended = new Set<number>();
  #onListed: ((thread: ListedThread) => void) | undefined;
  #next = 0;

  /** @param unavailable why the main thread's inspector cannot be reached, if it cannot. */
  constructor(unavailable?: string) {
    let SessionClass: typeof Session | undefined;
    let reason = unavailable;
    if (reason === undefined) {
      try {
        SessionClass = (require('node:inspector') as typeof import('node:inspector')).Session;
      } catch (error) {
        reason = `the inspector is not available here: ${messageOf(error)}`;
      }
    }
    this.#Session = SessionClass;
    this.available = SessionClass !== undefined;
    this.reason = reason;
  }

  get connected(): boolean {
    return this.#session !== undefined;
  }

  /** Connects, if not yet. False if it cannot. Never throws. */
  connect(): boolean {
    if (this.#session !== undefined) return true;
    if (this.#Session === undefined) return false;
    try {
      this.#session = this.#open(this.#Session);
      return true;
    } catch {
      return false;
    }
  }

  /** Disconnects; answers still on their way are dropped. */
  close(): void {
    const session = this.#session;
    this.#session = undefined;
    this.#sessions.clear();
    for (const answer of [...this.#answers.values()]) answer.done(undefined);
    try {
      session?.disconnect();
    } catch {
      // already gone
    }
  }

  /**
   * Called for every worker thread listed from now on: those running when the session connects
   * (NodeWorker.enable lists them) and each one started later, nested ones included.
   */
  onListed(listener: (thread: ListedThread) => void): void {
    this.#onListed = listener;
  }

  /** Whether the inspector lists thread `threadId` now (it is detached when the thread ends). */
  listed(threadId: number): boolean {
    return this.#sessions.has(threadId);
  }

  /** The Worker's `name` as the inspector lists it (Node 20 cannot tell a thread its own name). */
  nameOf(threadId: number): string | undefined {
    return this.#names.get(threadId);
  }

  #open(SessionClass: typeof Session): Session {
    const session = new SessionClass();
    session.connectToMainThread();
    session.on(
      'NodeWorker.attachedToWorker',
      ({ params }: { params: { workerInfo: { title: string; url?: string }; sessionId: string } }) => {
        const match = TITLE.exec(params.workerInfo.title);
        if (match === null) return;
        const threadId = Number(match[1]);
        const name = match[2] ?? '';
        this.#sessions.set(threadId, params.sessionId);
        if (name !== '' && name !== 'WorkerThread') this.#names.set(threadId, name);
        if (this.#names.size > MAX_NAMES) this.#names.delete(this.#names.keys().next().value as number);
        for (const wake of this.#attachWaiters) wake();
        this.#onListed?.({ threadId, name, url: params.workerInfo.url ?? '' });
      },
    );
    session.on('NodeWorker.detachedFromWorker', ({ params }: { params: { sessionId: string } }) => {
      for (const [thread, id] of this.#sessions) {
        if (id !== params.sessionId) continue;
        this.#sessions.delete(thread);
        this.#ended.add(thread);
        if (this.#ended.size > MAX_NAMES) this.#ended.delete(this.#ended.values().next().value as number);
      }
      // A thread that has ended answers nothing more: what it was asked fails now, not after
      // the answer timeout (a block's `ended` event waits for its profile).
      for (const answer of [...this.#answers.values()])
        if (answer.sessionId === params.sessionId) answer.done(undefined);
    });
    session.on('NodeWorker.receivedMessageFromWorker', ({ params }: { params: { message: string } }) => {
      try {
        const reply = JSON.parse(params.message) as Reply & { id?: unknown };
        if (typeof reply.id === 'number') this.#answers.get(reply.id)?.done(reply);
      } catch {
        // not ours
      }
    });
    session.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
    return session;
  }

  #sessionFor(threadId: number): Promise<string | undefined> {
    const known = this.#sessions.get(threadId);
    if (known !== undefined || this.#session === undefined || this.#ended.has(threadId)) return Promise.resolve(known);
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

  /**
   * Evaluates `expression` on worker thread `threadId` (connected first, see connect()): its
   * value and when the request left (after finding the thread), or why there is none. Never
   * rejects.
   */
  async evaluate(threadId: number, expression: string): Promise<Evaluated> {
    let sentAt = 0;
    const reply = await this.#send(threadId, 'Runtime.evaluate', evaluateParams(expression), (at) => (sentAt = at));
    if (typeof reply === 'string') return { error: reply };
    if (reply.result?.exceptionDetails !== undefined) return { error: 'the evaluation threw' };
    return { value: reply.result?.result?.value, sentAt };
  }

  /** Sends protocol command `method` to worker thread `threadId` (the profiler's). Never rejects. */
  async send(threadId: number, method: string, params: object = {}): Promise<Sent> {
    const reply = await this.#send(threadId, method, params);
    return typeof reply === 'string' ? { error: reply } : { result: reply.result };
  }

  /** The reply to one command, or why there is none. */
  async #send(threadId: number, method: string, params: object, sent?: (at: number) => void): Promise<Reply | string> {
    const sessionId = await this.#sessionFor(threadId);
    const session = this.#session;
    if (session === undefined) return 'not connected';
    if (sessionId === undefined) return `thread ${threadId} is not listed by the inspector`;
    sent?.(nowMs());
    const id = ++this.#next;
    const reply = await new Promise<Reply | undefined>((resolveReply) => {
      const timer = setTimeout(() => done(undefined), ANSWER_TIMEOUT_MS);
      const answers = this.#answers;
      function done(value: Reply | undefined): void {
        clearTimeout(timer);
        answers.delete(id);
        resolveReply(value);
      }
      answers.set(id, { sessionId, done });
      try {
        session.post('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id, method, params }) });
      } catch {
        done(undefined);
      }
    });
    if (reply === undefined) return 'no answer';
    if (reply.error !== undefined) return reply.error.message ?? `${method} failed`;
    return reply;
  }
}
