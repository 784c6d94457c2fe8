/**
 * The fan-out of everything the monitor says: events to every sink and to the main thread,
 * warnings once each. A failing sink is reported once and never stops the others.
 */
import { formatPretty } from '../common/pretty.js';
import { messageOf } from '../common/text.js';
import { FROM_WORKER, type FromWorker } from '../protocol/shared.js';
import type { BlockProgress, HangEvent, LoopwatchEvent, ResolvedOptions } from '../types.js';
import { sinksFor, type Sink, writeFully } from './sinks.js';
import { type Clock, within } from './time.js';

/** Reports a problem once per key. */
export type WarnOnce = (key: string, message: string) => void;
export type Emit = (event: LoopwatchEvent) => void;

/** The most events kept for sinks that start late (a start-up with more blocks is unusual). */
const MAX_EARLY = 64;

export class Outputs {
  readonly #options: ResolvedOptions;
  readonly #send: (message: FromWorker) => void;
  readonly #cwd: string;
  readonly #warned = new Set<string>();
  #sinks: Sink[] = [];
  /**
   * Events emitted while the optional sinks still start (the watchdog is armed before them),
   * replayed to each sink added then; dropped once start-up is done. Bounded.
   */
  #early: LoopwatchEvent[] | undefined = [];

  /** Opens the configured sinks; one that cannot be opened is a warning, not a failure. */
  constructor(options: ResolvedOptions, send: (message: FromWorker) => void, cwd: string) {
    this.#options = options;
    this.#send = send;
    this.#cwd = cwd;
    try {
      this.#sinks = sinksFor(options, cwd);
    } catch (error) {
      this.warnOnce('sinks', `cannot open an output: ${messageOf(error)}`);
    }
  }

  /**
   * Reports a problem once. Written to stderr from here, so it is out even while the main thread
   * is blocked; the main thread turns it into a process warning only when it was not (`log: off`),
   * so it is seen exactly once.
   */
  readonly warnOnce: WarnOnce = (key, message) => {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    let printed = false;
    if (this.#options.log !== 'off') {
      try {
        writeFully(2, `loopwatch: ${message}\n`);
        printed = true;
      } catch {
        // stderr is gone; the main thread still gets the warning
      }
    }
    this.#send({ code: FROM_WORKER.WARNING, message, warningCode: 'LOOPWATCH_WORKER', printed });
  };

  readonly emit: Emit = (event) => {
    if (this.#early !== undefined && this.#early.length < MAX_EARLY) this.#early.push(event);
    for (const sink of this.#sinks) {
      try {
        sink.write(event);
      } catch (error) {
        this.warnOnce(`sink:${sink.name}`, `writing to the ${sink.name} failed: ${messageOf(error)}`);
      }
    }
    this.#send({ code: FROM_WORKER.EVENT, event });
  };

  /** A block's duration so far, to the sinks that keep such records (see BlockProgress). */
  readonly progress = (record: BlockProgress): void => {
    for (const sink of this.#sinks) {
      try {
        sink.progress?.(record);
      } catch (error) {
        this.warnOnce(`sink:${sink.name}`, `writing to the ${sink.name} failed: ${messageOf(error)}`);
      }
    }
  };

  /**
   * Writes the report of an event that ends the process: to every sink, and to stderr even with
   * `log: 'off'` — a process that loopwatch ends must say why somewhere.
   */
  emitFinal(event: HangEvent): void {
    this.emit(event);
    if (this.#options.log !== 'off') return;
    try {
      writeFully(2, formatPretty(event, this.#cwd));
    } catch {
      // stderr is gone; the events file has it if one is configured
    }
  }

  /** A sink that started after the watchdog: it gets the events emitted since, first. */
  add(sink: Sink): void {
    this.#sinks.push(sink);
    for (const event of this.#early ?? []) {
      try {
        sink.write(event);
      } catch (error) {
        this.warnOnce(`sink:${sink.name}`, `writing to the ${sink.name} failed: ${messageOf(error)}`);
      }
    }
  }

  /** Every sink has started: events are no longer kept for late ones. */
  started(): void {
    this.#early = undefined;
  }

  /** Lets the sinks hand over what they buffer, for at most `ms`. */
  async flush(clock: Clock, ms: number): Promise<void> {
    await within(clock, Promise.allSettled(this.#sinks.flatMap((sink) => sink.flush?.() ?? [])), ms);
  }

  close(): void {
    for (const sink of this.#sinks) {
      try {
        sink.close?.();
      } catch {
        // closing is best effort
      }
    }
  }
}
