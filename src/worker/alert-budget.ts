/**
 * The alert budget (`maxAlertsPerMinute`): how many alert log records one process may export.
 * Thousands of processes export to one collector; a saturated service that blocks every few
 * milliseconds would otherwise send two records a block, each with its stack. Blocks are still
 * detected, reported on stderr, in the events file, to `'block'` listeners and in the metrics:
 * only the OTLP records are held back, counted, and summed up in one record when the storm ends.
 *
 * A token bucket holding `perMinute` records, refilled continuously at `perMinute` a minute: an
 * idle process can send a burst of `perMinute`, a storm gets one record every `60 s / perMinute`.
 * A block is let through or held back whole: its `ongoing` record takes two tokens, so its
 * `ended` record (with the final duration) is never the one that is missing.
 *
 * Pure: the clock is passed in, as in watchdog.ts, so it is unit-tested without threads.
 */

/** No record held back for this long: the storm is over. */
export const STORM_QUIET_MS = 10_000;
const MINUTE_MS = 60_000;

export interface StormSummary {
  /** Records not exported. */
  readonly suppressed: number;
  /** When the first and the last of them were made (ms since the epoch). */
  readonly firstAt: number;
  readonly lastAt: number;
}

export class AlertBudget {
  readonly #perMinute: number;
  readonly #quietMs: number;
  #tokens: number;
  #at: number;
  #storm: { suppressed: number; firstAt: number; lastAt: number } | undefined;
  /** Blocks whose `ongoing` record went out, by key: their `ended` record is paid for. */
  readonly #paid = new Set<string>();
  /** Blocks held back, by key: their `ended` record is held back too. */
  readonly #held = new Set<string>();

  constructor(perMinute: number, now: number, quietMs = STORM_QUIET_MS) {
    this.#perMinute = perMinute;
    this.#quietMs = quietMs;
    this.#tokens = perMinute;
    this.#at = now;
  }

  get perMinute(): number {
    return this.#perMinute;
  }

  /**
   * Whether a block's record may be exported. `key` names the block (thread and id); `first`
   * is true for its first record (`ongoing`, or an `ended` with no `ongoing` before it).
   */
  block(now: number, key: string, state: 'ongoing' | 'ended', first: boolean): boolean {
    if (state === 'ended' && this.#paid.delete(key)) return true;
    if (state === 'ended' && this.#held.delete(key)) return this.#suppress(now);
    // An ongoing record pays for its ended one too; a block seen only once it ended, for itself.
    const cost = state === 'ongoing' || !first ? 2 : 1;
    if (this.#take(now, cost)) {
      if (state === 'ongoing') this.#paid.add(key);
      return true;
    }
    if (state === 'ongoing') this.#held.add(key);
    return this.#suppress(now);
  }

  /** Whether one record about something else (a hang) may be exported. */
  other(now: number): boolean {
    return this.#take(now, 1) || this.#suppress(now);
  }

  /**
   * The storm's summary once no record was held back for the quiet period (or at once with
   * `force`, at exit), then forgotten; undefined while it lasts or when there was none.
   */
  storm(now: number, force = false): StormSummary | undefined {
    const storm = this.#storm;
    if (storm === undefined || (!force && now - storm.lastAt < this.#quietMs)) return undefined;
    this.#storm = undefined;
    return { ...storm };
  }

  /** When storm() will have a summary (ms since the epoch); undefined when no storm is on. */
  stormEndsAt(): number | undefined {
    return this.#storm === undefined ? undefined : this.#storm.lastAt + this.#quietMs;
  }

  #take(now: number, wanted: number): boolean {
    if (this.#perMinute === 0) return false;
    // A budget of one record a minute still lets a whole block through, once a minute.
    const cost = Math.min(wanted, this.#perMinute);
    const elapsed = Math.max(0, now - this.#at);
    this.#at = Math.max(this.#at, now);
    this.#tokens = Math.min(this.#perMinute, this.#tokens + (elapsed * this.#perMinute) / MINUTE_MS);
    if (this.#tokens < cost) return false;
    this.#tokens -= cost;
    return true;
  }

  /** Counts one record held back; always false (the answer to "may it be exported?"). */
  #suppress(now: number): false {
    if (this.#storm === undefined) this.#storm = { suppressed: 1, firstAt: now, lastAt: now };
    else {
      this.#storm.suppressed++;
      this.#storm.lastAt = now;
    }
    return false;
  }
}
