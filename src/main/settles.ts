/**
 * The settle() requests in flight on a thread, each answered by its monitor or given up after
 * SETTLE_TIMEOUT_MS: the process's monitor (monitor.ts) and a pool thread's feed (feed.ts) wait
 * on the same terms.
 */

/** The longest settle() waits (a block still being reported can take this long). */
const SETTLE_TIMEOUT_MS = 3000;

export class PendingSettles {
  readonly #waiting = new Map<number, () => void>();
  #seq: number;

  /** `firstSeq`: where the numbering starts (a feed's thread may share its channel with older ones). */
  constructor(firstSeq = 0) {
    this.#seq = firstSeq;
  }

  /**
   * Sends a request with `send(seq)` (false: it could not be sent, nothing to wait for) and
   * resolves once it is answered or given up. The timer is ref'd: it keeps the thread alive
   * until the answer, and bounds the wait when the monitor is gone or wedged.
   */
  wait(send: (seq: number) => boolean): Promise<void> {
    const seq = ++this.#seq;
    return new Promise<void>((resolveSettle) => {
      const timer = setTimeout(done, SETTLE_TIMEOUT_MS);
      const waiting = this.#waiting;
      function done(): void {
        clearTimeout(timer);
        waiting.delete(seq);
        resolveSettle();
      }
      waiting.set(seq, done);
      if (!send(seq)) done();
    });
  }

  /** The monitor answered request `seq`. */
  answer(seq: number): void {
    this.#waiting.get(seq)?.();
  }

  /** Resolves every waiting request: the monitor stopped or is lost. */
  releaseAll(): void {
    for (const done of [...this.#waiting.values()]) done();
  }
}
