/**
 * Stacks of the app's worker threads. A worker thread cannot be reached with a session of its
 * own from here (`connectToMainThread()` reaches the main thread only), but the main thread's
 * inspector agent reaches every worker thread through the NodeWorker domain
 * (sessions.ts): one session to the main thread, connected while at least one worker
 * thread's block is being handled, and `Runtime.evaluate` of the usual capture expression sent
 * through it.
 *
 * The forwarding runs on the main thread: while the main thread is inside one long native call
 * itself, a worker's capture waits for that call to return (it is then classified as late).
 */
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
import { type ListedThread, NodeWorkerSessions } from './sessions.js';
import type { ProfilerLink } from './profiler.js';

/** The one session through which every worker thread's stack is asked, open while needed. */
export class WorkerThreadsInspector {
  readonly #sessions: NodeWorkerSessions;
  #users = 0;

  /** @param noInspector why the main thread's inspector cannot be reached, if it cannot. */
  constructor(noInspector: string | undefined) {
    this.#sessions = new NodeWorkerSessions(noInspector);
  }

  get available(): boolean {
    return this.#sessions.available;
  }

  get reason(): string | undefined {
    return this.#sessions.reason;
  }

  /**
   * Keeps the session connected from now on (until close()), listing every worker thread to
   * `listener` as it starts. False if it cannot connect.
   */
  hold(listener: (thread: ListedThread) => void): boolean {
    this.#sessions.onListed(listener);
    return this.acquire();
  }

  /** Whether the inspector lists thread `threadId` now. */
  listed(threadId: number): boolean {
    return this.#sessions.listed(threadId);
  }

  /** A block on a worker thread is being handled: connect, if not yet. False if it cannot. */
  acquire(): boolean {
    if (!this.#sessions.connect()) return false;
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
    this.#users = 0;
    this.#sessions.close();
  }

  nameOf(threadId: number): string | undefined {
    return this.#sessions.nameOf(threadId);
  }

  /** Sends a protocol command to worker thread `threadId`; rejects when it fails or gets no answer. */
  async send(threadId: number, method: string, params?: object): Promise<unknown> {
    const sent = await this.#sessions.send(threadId, method, params);
    if (sent.error !== undefined) throw new Error(sent.error);
    return sent.result;
  }

  /** Evaluates on worker thread `threadId`: its value and when the request left, or undefined. */
  async evaluate(threadId: number, expression: string): Promise<{ value: unknown; sentAt: number } | undefined> {
    const evaluated = await this.#sessions.evaluate(threadId, expression);
    return evaluated.error === undefined ? evaluated : undefined;
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

/**
 * A worker thread's profiler, reached through the shared session. It runs only while that
 * session stays connected (the threads' watch holds it): a sub-session's profiler ends with it.
 */
export function workerThreadLink(inspector: WorkerThreadsInspector, threadId: number): ProfilerLink {
  return {
    connect: () => undefined,
    post: (method, params) => inspector.send(threadId, method, params),
    close: () => undefined,
  };
}
