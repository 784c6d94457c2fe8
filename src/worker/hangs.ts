/**
 * How the monitor ends a process that does not recover: a block past `hangMs`, and a process
 * past the exit deadline the main thread armed. Reports are written synchronously (stderr,
 * events file) and the sinks flushed before the process is ended, so the reason survives it.
 */
import { F64 } from '../protocol/shared.js';
import type { ActiveResources, HangEvent, ResolvedOptions, ThreadState } from '../types.js';
import { type ActiveBlock, NO_STACK, round, type Stack } from './block.js';
import type { Clock } from './time.js';

/** How long the sinks may take to hand over what they buffer before a hung process is ended. */
const HANG_FLUSH_MS = 500;
/** After asking the main thread to exit at a deadline, how long before SIGKILL does it. */
const EXIT_FALLBACK_MS = 1000;

export interface HangDeps {
  readonly options: Pick<ResolvedOptions, 'thresholdMs' | 'hangMs' | 'hangAction'>;
  readonly pid: number;
  readonly f64: Float64Array;
  readonly clock: Clock;
  /** The block lifecycle: the block being reported, and a fresh capture. */
  readonly blocks: { readonly active: ActiveBlock | undefined; captureNow(): Promise<Stack | undefined> };
  threadState(): ThreadState | undefined;
  readonly emit: (event: HangEvent) => void;
  /** Writes an event that ends the process (to stderr even with `log: 'off'`). */
  emitFinal(event: HangEvent): void;
  /** Lets the sinks hand over what they buffer, for at most `ms`. */
  flush(ms: number): Promise<void>;
  readonly warnOnce: (key: string, message: string) => void;
  /** Asks the main thread to end the process itself (its exit handlers run). */
  askExit(exitCode: number): void;
  /** Whether the monitor was stopped. */
  stopped(): boolean;
}

export class Hangs {
  readonly #deps: HangDeps;
  #deadline: { readonly timer: unknown; readonly limitMs: number; readonly cause: string } | undefined;
  /** The main thread's latest view of what keeps its loop alive (sent while a deadline runs). */
  #resources: ActiveResources | undefined;

  constructor(deps: HangDeps) {
    this.#deps = deps;
  }

  set resources(resources: ActiveResources) {
    this.#resources = resources;
  }

  /**
   * The block reached `hangMs`.
   * @param answering the thread answered the first capture: ask again for where it is now.
   */
  async reportHang(answering: boolean): Promise<void> {
    const { options, blocks, clock } = this.#deps;
    const block = blocks.active;
    if (block === undefined || options.hangMs === undefined) return;
    const fresh = answering ? await blocks.captureNow() : undefined;
    const stack = fresh !== undefined && fresh.frames.length > 0 ? fresh : block.stack;
    const event = this.#event(
      'block',
      options.hangAction,
      options.hangMs,
      block.id,
      clock.now() - block.since,
      stack,
      stack.frames.length > 0 ? undefined : this.#deps.threadState(),
    );
    if (options.hangAction === 'none') this.#deps.emit(event);
    else this.#deps.emitFinal(event);
    if (options.hangAction !== 'none') await this.#end(options.hangAction === 'abort' ? 'SIGABRT' : 'SIGKILL');
  }

  /** The process must have exited by `at` (epoch ms, wall clock). Replaces an earlier deadline. */
  armDeadline(at: number, limitMs: number, cause: string): void {
    const { clock, warnOnce, pid } = this.#deps;
    this.clear();
    const timer = clock.setTimeout(
      () => {
        void this.#onDeadline(limitMs, cause).catch((error: unknown) => {
          warnOnce('deadline', `acting on the exit deadline failed: ${String(error)}`);
          process.kill(pid, 'SIGKILL');
        });
      },
      Math.max(0, at - Date.now()),
    );
    this.#deadline = { timer, limitMs, cause };
  }

  clear(): void {
    if (this.#deadline !== undefined) this.#deps.clock.clearTimeout(this.#deadline.timer);
  }

  #event(
    reason: HangEvent['reason'],
    action: HangEvent['action'],
    limitMs: number,
    blockId: number | undefined,
    blockedMs: number,
    stack: Stack,
    threadState: ThreadState | undefined,
    extra: { resources?: ActiveResources; cause?: string } = {},
  ): HangEvent {
    return {
      type: 'hang',
      reason,
      action,
      limitMs,
      at: new Date().toISOString(),
      pid: this.#deps.pid,
      ...(blockId === undefined ? {} : { blockId }),
      blockedMs: round(blockedMs),
      stack: stack.frames,
      stackTiming: stack.timing,
      ...(threadState === undefined ? {} : { threadState }),
      ...(stack.context === undefined ? {} : { context: stack.context }),
      ...extra,
    };
  }

  async #end(signal: 'SIGKILL' | 'SIGABRT'): Promise<void> {
    await this.#deps.flush(HANG_FLUSH_MS);
    // process.abort() throws in a worker; a signal to the process does what it would.
    process.kill(this.#deps.pid, signal);
  }

  /**
   * The process outlived its exit deadline. A blocked loop is reported with its stack and the
   * process killed (or aborted); a running loop, with what keeps it alive, and the main thread
   * is asked to exit (its exit handlers run), with SIGKILL as the fallback.
   */
  async #onDeadline(limitMs: number, cause: string): Promise<void> {
    const { clock, pid } = this.#deps;
    if (this.#deps.stopped()) return;
    if (this.#isSilent()) {
      await this.#endBlocked(limitMs, cause);
      return;
    }
    const resources = this.#resources;
    this.#deps.emitFinal(
      this.#event('exit-deadline', 'exit', limitMs, undefined, 0, NO_STACK, undefined, {
        cause,
        ...(resources === undefined ? {} : { resources }),
      }),
    );
    await this.#deps.flush(HANG_FLUSH_MS);
    this.#deps.askExit(1);
    // Still here a second later: the main thread got stuck on its way out (an exit handler, or a
    // block that began just as the deadline passed). Say where, and end it.
    clock.setTimeout(() => {
      const fallback = this.#isSilent()
        ? this.#endBlocked(limitMs, `${cause}, then process.exit(1)`)
        : this.#end('SIGKILL');
      void fallback.catch(() => process.kill(pid, 'SIGKILL'));
    }, EXIT_FALLBACK_MS);
  }

  /** The loop has not turned for a threshold: it is blocked, not merely busy. */
  #isSilent(): boolean {
    return this.#silentMs() >= this.#deps.options.thresholdMs;
  }

  #silentMs(): number {
    return this.#deps.clock.now() - (this.#deps.f64[F64.BEAT_TIME] ?? 0);
  }

  /** Reports a process stuck past its exit deadline with its blocked stack, and ends it. */
  async #endBlocked(limitMs: number, cause: string): Promise<void> {
    const { blocks, options } = this.#deps;
    const block = blocks.active;
    const fresh = await blocks.captureNow();
    const stack = fresh ?? block?.stack ?? NO_STACK;
    const threadState = stack.frames.length > 0 ? undefined : this.#deps.threadState();
    const action = options.hangAction === 'abort' ? 'abort' : 'kill';
    const silent = this.#silentMs();
    this.#deps.emitFinal(
      this.#event('exit-deadline', action, limitMs, block?.id, silent, stack, threadState, { cause }),
    );
    await this.#end(action === 'abort' ? 'SIGABRT' : 'SIGKILL');
  }
}
