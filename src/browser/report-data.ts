/**
 * The data of the HTML report, as `loopwatch report --html` writes it into the page (a JSON
 * script element) and as the page's script reads it: the one contract between src/cli/html.ts
 * and src/browser/report.ts. Types only, no imports: the browser build compiles it too.
 */

/** How the culprit was named: see the `attribution` of `loopwatch report --json`. */
export type Attribution = 'during' | 'profiler' | 'late' | 'internals' | 'none';

/** A flame node: [name index in `strings`, total ms, children], children heaviest first. */
export type FlameNode = [number, number, FlameNode[]];

/** A frame of a culprit's stack: [function, file, line, column, 1 when Node's own or a builtin]. */
export type StackRow = [string, string, number, number, 0 | 1];

export interface CulpritData {
  /** The culprit frame; null when no stack named one. */
  readonly fn: string | null;
  readonly file: string | null;
  readonly line: number | null;
  /** The line is one of code transformed in memory that no source map covered (not of the file on disk). */
  readonly unmapped?: true;
  readonly how: Attribution;
  readonly blocks: number;
  /** Blocked time in all, and the longest block, ms. */
  readonly total: number;
  readonly worst: number;
  /** Blocks in each phase. */
  readonly startup: number;
  readonly running: number;
  readonly notEnded: number;
  readonly hangs: number;
  readonly pids: readonly number[];
  /** How many different stacks named this culprit. */
  readonly stacks: number;
  /** The stack behind the most blocked time, innermost first. */
  readonly stack: readonly StackRow[];
  /** Lines around the culprit's line, when its source file could be read. */
  readonly excerpt: {
    readonly first: number;
    readonly mark: number;
    readonly lines: readonly string[];
    readonly changed: boolean;
  } | null;
  readonly flame: FlameNode;
  /** Some of the flame comes from the profiler's samples (the rest from one stack per block). */
  readonly sampled: boolean;
  /** The `.cpuprofile` files of the longest blocks, absolute paths. */
  readonly profileFiles: readonly { readonly file: string; readonly ms: number }[];
}

export interface HangData {
  readonly pid: number;
  readonly at: string;
  readonly reason: 'block' | 'exit-deadline';
  readonly action: 'none' | 'kill' | 'abort' | 'exit';
  readonly limitMs: number;
  readonly blockId: number | null;
  readonly function: string | null;
  readonly file: string | null;
  readonly line: number | null;
}

/**
 * The timeline, one entry per block in each array (sorted by start): start (ms after `t0`),
 * duration (ms), culprit index, flags (TimelineFlags) and lane index (see `ReportData.lanes`).
 */
export interface Timeline {
  readonly s: readonly number[];
  readonly d: readonly number[];
  readonly g: readonly number[];
  readonly f: readonly number[];
  readonly p: readonly number[];
}

/**
 * Timeline flags of a block, bits of `Timeline.f`. A type, so that this file stays types-only:
 * each side declares a constant of it, and the compiler holds them to the same values.
 */
export interface TimelineFlags {
  readonly STARTUP: 1;
  readonly NOT_ENDED: 2;
  readonly HANG: 4;
}

export interface ReportData {
  readonly v: 1;
  readonly title: string;
  readonly version: string | null;
  readonly generatedAt: string;
  /** The timeline's start, ISO-8601; null without blocks. */
  readonly t0: string | null;
  /** How long the timeline is, ms: the run's length, or 0 to end with the last block. */
  readonly span: number;
  readonly blocks: number;
  readonly notEnded: number;
  readonly total: number;
  readonly worst: number;
  readonly processes: readonly { readonly pid: number; readonly blocks: number; readonly totalMs: number }[];
  readonly sources: readonly {
    readonly name: string;
    readonly events: number;
    readonly malformed: number;
    readonly truncated: boolean;
  }[];
  readonly hangs: readonly HangData[];
  readonly pids: readonly number[];
  /** The timeline's rows: one per thread of each process (`main`, `worker 4 "resize"`). */
  readonly lanes: readonly { readonly pid: number; readonly thread: string }[];
  readonly timeline: Timeline;
  readonly culprits: readonly CulpritData[];
  /** Names the flame nodes point at. */
  readonly strings: readonly string[];
}
