/**
 * One inspector session to the main thread, through which any worker thread of the process is
 * reached: the main thread's inspector agent lists every worker thread (nested ones too) in
 * the NodeWorker domain and forwards protocol messages to each one (one sub-session per
 * worker). `Runtime.evaluate` sent that way is served by an interrupt on top of the worker's
 * blocked frames, as on the main thread (native-free-probes/stack-pool-thread.mjs; 3–14 ms
 * round trip measured, also while the main thread itself spins in JavaScript).
 *
 * Used from two places, so it lives here rather than in main/ or worker/: the monitor worker
 * (worker/nodeworker.ts: the app's worker threads, `connectToMainThread()`) and the vitest
 * plugin on vitest's main thread (vitest/broker.ts: the `threads` pool, `connect()`).
 *
 * The forwarding runs on the main thread: while the main thread is inside one long native call
 * itself, an evaluation waits for that call to return.
 */
import type { Session } from 'node:inspector';
import { messageOf } from './text.js';
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

/** What an evaluation came to: its value and when the request left, or why there is none. */
export type Evaluated =
  { readonly value: unknown; readonly sentAt: number; readonly error?: undefined } | { readonly error: string };

/**
 * `'main-thread'`: from a worker thread, `session.connectToMainThread()`; `'own'`: on the main
 * thread itself, `session.connect()`.
 */
export type ConnectTo = 'main-thread' | 'own';

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
  readonly #connectTo: ConnectTo;
  #session: Session | undefined;
  readonly #sessions = new Map<number, string>();
  readonly #names = new Map<number, string>();
  readonly #attachWaiters = new Set<() => void>();
  readonly #answers = new Map<number, (reply: Reply | undefined) => void>();
  #onListed: ((thread: ListedThread) => void) | undefined;
  #next = 0;

  /** @param unavailable why the main thread's inspector cannot be reached, if it cannot. */
  constructor(connectTo: ConnectTo, unavailable?: string) {
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
    this.#connectTo = connectTo;
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
    for (const answer of [...this.#answers.values()]) answer(undefined);
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
    if (this.#connectTo === 'own') session.connect();
    else session.connectToMainThread();
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
      for (const [thread, id] of this.#sessions) if (id === params.sessionId) this.#sessions.delete(thread);
    });
    session.on('NodeWorker.receivedMessageFromWorker', ({ params }: { params: { message: string } }) => {
      try {
        const reply = JSON.parse(params.message) as Reply & { id?: unknown };
        if (typeof reply.id === 'number') this.#answers.get(reply.id)?.(reply);
      } catch {
        // not ours
      }
    });
    session.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
    return session;
  }

  #sessionFor(threadId: number): Promise<string | undefined> {
    const known = this.#sessions.get(threadId);
    if (known !== undefined || this.#session === undefined) return Promise.resolve(known);
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
    const sessionId = await this.#sessionFor(threadId);
    const session = this.#session;
    if (session === undefined) return { error: 'not connected' };
    if (sessionId === undefined) return { error: `thread ${threadId} is not listed by the inspector` };
    const sentAt = nowMs();
    const id = ++this.#next;
    const reply = await new Promise<Reply | undefined>((resolveReply) => {
      const timer = setTimeout(() => done(undefined), ANSWER_TIMEOUT_MS);
      const answers = this.#answers;
      function done(value: Reply | undefined): void {
        clearTimeout(timer);
        answers.delete(id);
        resolveReply(value);
      }
      answers.set(id, done);
      const message = JSON.stringify({
        id,
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
      try {
        session.post('NodeWorker.sendMessageToWorker', { sessionId, message });
      } catch {
        done(undefined);
      }
    });
    if (reply === undefined) return { error: 'no answer' };
    if (reply.error !== undefined) return { error: reply.error.message ?? 'evaluation failed' };
    if (reply.result?.exceptionDetails !== undefined) return { error: 'the evaluation threw' };
    return { value: reply.result?.result?.value, sentAt };
  }
}
