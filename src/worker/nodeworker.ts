/**
 * Stacks of the app's worker threads. A worker thread cannot be reached with a session of its
 * own from here (`connectToMainThread()` reaches the main thread only), but the main thread's
 * inspector agent lists every worker thread through the NodeWorker domain and forwards
 * protocol messages to each one (one sub-session per worker). So: one session to the main
 * thread, connected while at least one worker thread's block is being handled, and
 * `Runtime.evaluate` of the usual capture expression sent through it. The worker serves it
 * through an interrupt on top of its blocked frames, as the main thread does
 * (native-free-probes/stack-pool-thread.mjs; 3–14 ms round trip measured, also while the main
 * thread itself spins in JavaScript).
 *
 * The forwarding runs on the main thread: while the main thread is inside one long native call
 * itself, a worker's capture waits for that call to return (it is then classified as late).
 */
import type { Session } from 'node:inspector';
import {
  type CaptureResult,
  captureScriptFor,
  decodeCapture,
  decodeRemap,
  type PauseState,
  remapExpression,
  type RemapAnswer,
  type RemapRequest,
  type StackSource,
} from './capture.js';
import { nowMs } from '../protocol/shared.js';
import { messageOf } from '../common/text.js';

/** How long to wait for the NodeWorker domain to list a thread after connecting. */
const ATTACH_TIMEOUT_MS = 2000;
/** How long an evaluation may stay unanswered before it is dropped (a long native call delays it). */
const ANSWER_TIMEOUT_MS = 10_000;
/** `[worker 4] resize`: the thread id, then the Worker's name, if any. */
const TITLE = /^\[worker (\d+)\](?: (.*))?$/;

interface Reply {
  readonly result?: { readonly result?: { readonly value?: unknown }; readonly exceptionDetails?: unknown };
  readonly error?: { readonly message?: string };
}

/** The one session through which every worker thread's stack is asked. */
export class WorkerThreadsInspector {
  readonly available: boolean;
  readonly reason: string | undefined;
  readonly #Session: typeof Session | undefined;
  #session: Session | undefined;
  #users = 0;
  readonly #sessions = new Map<number, string>();
  readonly #names = new Map<number, string>();
  readonly #attachWaiters = new Set<() => void>();
  readonly #answers = new Map<number, (reply: Reply | undefined) => void>();
  #next = 0;

  /** @param noInspector why the main thread's inspector cannot be reached, if it cannot. */
  constructor(noInspector: string | undefined) {
    let SessionClass: typeof Session | undefined;
    let reason = noInspector;
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

  /** A block on a worker thread is being handled: connect, if not yet. False if it cannot. */
  acquire(): boolean {
    if (this.#session === undefined) {
      if (this.#Session === undefined) return false;
      try {
        this.#session = this.#connect(this.#Session);
      } catch {
        return false;
      }
    }
    this.#users++;
    return true;
  }

  /** That block is over: the session is closed when no other one needs it. */
  release(): void {
    this.#users = Math.max(0, this.#users - 1);
    if (this.#users === 0) this.close();
  }

  /** Closes the session now (at exit, at stop); answers still on their way are dropped. */
  close(): void {
    const session = this.#session;
    this.#session = undefined;
    this.#users = 0;
    this.#sessions.clear();
    for (const answer of [...this.#answers.values()]) answer(undefined);
    try {
      session?.disconnect();
    } catch {
      // already gone
    }
  }

  /** The Worker's `name` as the inspector lists it (Node 20 cannot tell a thread its own name). */
  nameOf(threadId: number): string | undefined {
    return this.#names.get(threadId);
  }

  #connect(SessionClass: typeof Session): Session {
    const session = new SessionClass();
    session.connectToMainThread();
    session.on(
      'NodeWorker.attachedToWorker',
      ({ params }: { params: { workerInfo: { title: string }; sessionId: string } }) => {
        const match = TITLE.exec(params.workerInfo.title);
        if (match === null) return;
        const threadId = Number(match[1]);
        this.#sessions.set(threadId, params.sessionId);
        if (match[2] !== undefined && match[2] !== '' && match[2] !== 'WorkerThread')
          this.#names.set(threadId, match[2]);
        // A bounded map: names of threads long gone are not kept.
        if (this.#names.size > 1024) this.#names.delete(this.#names.keys().next().value as number);
        for (const wake of this.#attachWaiters) wake();
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
   * Evaluates on worker thread `threadId`: its value and when the request left (after
   * connecting and finding the thread), or undefined (no answer, an error, not listed).
   */
  async evaluate(threadId: number, expression: string): Promise<{ value: unknown; sentAt: number } | undefined> {
    const sessionId = await this.#sessionFor(threadId);
    const session = this.#session;
    if (sessionId === undefined || session === undefined) return undefined;
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
    if (reply?.result === undefined || reply.error !== undefined || reply.result.exceptionDetails !== undefined)
      return undefined;
    return { value: reply.result.result?.value, sentAt };
  }
}

/** One worker thread's stacks, asked through the shared session (see WorkerThreadsInspector). */
export class WorkerThreadSource implements StackSource {
  readonly #inspector: WorkerThreadsInspector;
  readonly #threadId: number;
  readonly #limit: number;
  readonly #expression: string;
  #open = false;

  constructor(inspector: WorkerThreadsInspector, threadId: number, limit: number) {
    this.#inspector = inspector;
    this.#threadId = threadId;
    this.#limit = limit;
    this.#expression = captureScriptFor(limit);
  }

  get available(): boolean {
    return this.#inspector.available;
  }

  get reason(): string | undefined {
    return this.#inspector.reason;
  }

  open(): boolean {
    if (!this.#open) this.#open = this.#inspector.acquire();
    return this.#open;
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#inspector.release();
  }

  /**
   * Not probed: a worker thread paused by a debugger client is not told apart from a block (an
   * attached debugger on a worker is rare, and its beat stops as the main thread's does).
   */
  pauseState(): Promise<PauseState> {
    return Promise.resolve('running');
  }

  async capture(): Promise<CaptureResult | undefined> {
    const evaluated = await this.#inspector.evaluate(this.#threadId, this.#expression);
    return evaluated === undefined
      ? undefined
      : { ...decodeCapture(evaluated.value, this.#limit), sentAt: evaluated.sentAt };
  }

  async remap(requests: readonly RemapRequest[]): Promise<RemapAnswer[] | undefined> {
    const evaluated = await this.#inspector.evaluate(this.#threadId, remapExpression(requests));
    return evaluated === undefined ? undefined : decodeRemap(evaluated.value, requests.length);
  }
}
