/**
 * From events to an answer: blocks (an `ongoing` and an `ended` event of one process merged,
 * hangs attached) grouped by their culprit, the top frame of the app's own code.
 */
import type {
  BlockContext,
  BlockEvent,
  BlockProgress,
  HangEvent,
  LoopwatchEvent,
  Phase,
  ProfileFlame,
  StackFrame,
} from '../types.js';
import { culpritOfEvent } from '../common/culprit.js';
import { culpritFrame, onlyInternals } from '../common/frames.js';
import type { EventSource } from './events.js';

/**
 * How the culprit was named: from a stack taken during the block, from the sampling
 * profiler's samples, from a stack taken late (it may show later code), from a stack that
 * held only Node's internals (the culprit is then Node's innermost frame: the microtask
 * queue, say), or not at all.
 */
export type Attribution = 'during' | 'profiler' | 'late' | 'internals' | 'none';

/** One block of one process. */
export interface BlockRecord {
  readonly pid: number;
  readonly id: number;
  /** `main`, or `worker <threadId>`. */
  readonly thread: string;
  readonly threadName: string | undefined;
  phase: Phase;
  thresholdMs: number;
  /** Epoch ms. */
  startMs: number;
  durationMs: number;
  /** An `ended` event was seen; otherwise the process ended (or was killed) during the block, or is still blocked. */
  ended: boolean;
  exiting: boolean;
  /** The stack the culprit was read from (innermost first). */
  stack: readonly StackFrame[];
  attribution: Attribution;
  culprit: StackFrame | undefined;
  /** The action of a `hang` event about this block. */
  hang: HangEvent['action'] | undefined;
  context: BlockContext | undefined;
  /** The sampled call tree of an `ended` event (profiler on). */
  flame?: ProfileFlame | undefined;
  /** The block's `.cpuprofile`, when one was written. */
  profileFile?: string | undefined;
}

/** Blocks with the same culprit. */
export interface Group {
  readonly key: string;
  /** The culprit frame of the group's longest block (the line varies between its blocks). */
  culprit: StackFrame | undefined;
  readonly attribution: Attribution;
  blocks: number;
  totalMs: number;
  worstMs: number;
  readonly phases: Record<Phase, number>;
  notEnded: number;
  hangs: number;
  readonly pids: Set<number>;
  /** Distinct stacks, with how many blocks had each and their total duration. */
  readonly stacks: Map<string, { stack: readonly StackFrame[]; blocks: number; totalMs: number }>;
}

/** `loopwatch report --json` prints this (documented in the README). */
export interface Summary {
  readonly version: 1;
  readonly sources: readonly { name: string; events: number; malformedLines: number[]; truncatedLastLine: boolean }[];
  /** Start of the first block and end of the last one, ISO-8601; null without blocks. */
  readonly from: string | null;
  readonly to: string | null;
  readonly blocks: number;
  /** Blocks without an `ended` event (the process ended during them, or they still last). */
  readonly notEnded: number;
  readonly totalMs: number;
  readonly worstMs: number;
  readonly processes: readonly { pid: number; blocks: number; totalMs: number }[];
  /** Blocks by thread of each process (`main`, `worker <threadId>` with its name), in order of first block. */
  readonly threads: readonly ThreadSummary[];
  /** Heaviest (by total duration) first. */
  readonly culprits: readonly CulpritSummary[];
  readonly hangs: readonly HangSummary[];
}

export interface CulpritSummary {
  /** The culprit frame; null when no stack named one (`attribution: "none"`). */
  readonly function: string | null;
  readonly file: string | null;
  readonly line: number | null;
  /** `false` when `line` is a position in code transformed in memory that no source map covered. */
  readonly mapped?: false;
  readonly attribution: Attribution;
  readonly blocks: number;
  readonly totalMs: number;
  readonly worstMs: number;
  readonly phases: Record<Phase, number>;
  readonly notEnded: number;
  readonly hangs: number;
  readonly pids: readonly number[];
  /** The stack seen for the most blocked time, innermost first. */
  readonly stack: readonly StackFrame[];
}

export interface ThreadSummary {
  readonly pid: number;
  readonly thread: string;
  readonly threadName?: string;
  readonly blocks: number;
  readonly totalMs: number;
}

/** `main`, `worker 4`, `worker 4 "resize"`. */
export function threadLabel(thread: { thread: string; threadName?: string | undefined }): string {
  return thread.threadName === undefined ? thread.thread : `${thread.thread} ${JSON.stringify(thread.threadName)}`;
}

export interface HangSummary {
  readonly pid: number;
  /** A worker thread's hang: `worker <threadId>` (absent for the main thread). */
  readonly thread?: string;
  readonly threadName?: string;
  readonly at: string;
  readonly reason: HangEvent['reason'];
  readonly action: HangEvent['action'];
  readonly limitMs: number;
  readonly blockId: number | null;
  readonly function: string | null;
  readonly file: string | null;
  readonly line: number | null;
}

export interface Analysis {
  readonly summary: Summary;
  readonly blocks: readonly BlockRecord[];
  readonly groups: readonly Group[];
}

function attribute(event: BlockEvent): {
  stack: readonly StackFrame[];
  attribution: Attribution;
  culprit: StackFrame | undefined;
} {
  // The monitor's own culprit (computed from its stacks for events written before it had one).
  const named = culpritOfEvent(event);
  if (named !== undefined) {
    const stack = named.source === 'profile' ? (event.profile?.stack ?? []) : event.stack;
    const culprit = culpritFrame(stack);
    if (culprit !== undefined)
      return {
        stack,
        attribution: named.source === 'stack' ? 'during' : named.source === 'profile' ? 'profiler' : 'late',
        culprit,
      };
  }
  // A stack of Node's frames only, taken during the block: Node itself was busy (the microtask
  // queue, most often). Said as it is, not as a block without a stack.
  if (event.stackTiming === 'during' && onlyInternals(event.stack) !== undefined)
    return { stack: event.stack, attribution: 'internals', culprit: event.stack[0] };
  return { stack: event.stack, attribution: 'none', culprit: undefined };
}

/**
 * Blocks are grouped by their culprit function: the line a stack was taken at varies from
 * block to block within one loop (the README's example reported the same loop at lines 13
 * and 15). An anonymous function is told apart by its line.
 */
export function groupKey(culprit: StackFrame | undefined, attribution: Attribution): string {
  if (culprit === undefined) return 'none';
  // A stack taken late may name code that ran after the culprit: never merge it with real culprits.
  const kind = attribution === 'late' || attribution === 'internals' ? attribution : 'named';
  const anonymous = culprit.function === '' || /anonymous/.test(culprit.function);
  return `${kind}\0${culprit.function}\0${culprit.file}${anonymous ? `\0${culprit.line}` : ''}`;
}

export function stackKey(stack: readonly StackFrame[]): string {
  return stack.map((f) => `${f.function}\0${f.file}\0${f.line}\0${f.column}`).join('\n');
}

/**
 * Merges the events of every source into blocks: `ongoing` and `ended` of the same process
 * and id are one block (ids restart in each process, so the pid is part of the key); the
 * `ended` event's duration, start and stack are final when present.
 */
function collectBlocks(
  events: Iterable<LoopwatchEvent>,
  progress: Iterable<BlockProgress>,
  exits?: ReadonlyMap<number, number>,
): { blocks: BlockRecord[]; hangs: HangEvent[] } {
  const byKey = new Map<string, BlockRecord>();
  const hangs: HangEvent[] = [];
  for (const event of events) {
    if (event.type === 'hang') {
      hangs.push(event);
      continue;
    }
    // Ids are unique in a process; the thread is part of the key for vitest's pool threads,
    // each of which numbers its own blocks.
    const key = `${event.pid}:${event.thread}:${event.id}`;
    const known = byKey.get(key);
    if (known !== undefined && known.ended && event.state === 'ongoing') continue;
    const { stack, attribution, culprit } = attribute(event);
    // An `ended` event without a usable stack keeps what the `ongoing` one had.
    const keepEarlier = known !== undefined && attribution === 'none' && known.attribution !== 'none';
    const record: BlockRecord = known ?? {
      pid: event.pid,
      id: event.id,
      thread: event.thread,
      threadName: event.threadName,
      phase: event.phase,
      thresholdMs: event.thresholdMs,
      startMs: Date.parse(event.startedAt),
      durationMs: event.durationMs,
      ended: false,
      exiting: false,
      stack,
      attribution,
      culprit,
      hang: undefined,
      context: event.context,
    };
    record.startMs = Date.parse(event.startedAt);
    record.durationMs = event.state === 'ended' ? event.durationMs : Math.max(record.durationMs, event.durationMs);
    record.ended ||= event.state === 'ended';
    record.exiting ||= event.exiting === true;
    record.phase = event.phase;
    record.context ??= event.context;
    if (event.state === 'ended') {
      record.flame = event.profile?.flame;
      record.profileFile = event.profileFile;
    }
    if (!keepEarlier) {
      record.stack = stack;
      record.attribution = attribution;
      record.culprit = culprit;
    }
    byKey.set(key, record);
  }
  for (const hang of hangs) {
    if (hang.reason !== 'block' || hang.blockId === undefined) continue;
    const key = `${hang.pid}:${hang.thread ?? 'main'}:${hang.blockId}`;
    let record = byKey.get(key);
    if (record === undefined) {
      // The block's own events are missing (a file cut at the start): the hang describes it.
      const culprit = hang.stackTiming === 'during' ? culpritFrame(hang.stack) : undefined;
      record = {
        pid: hang.pid,
        id: hang.blockId,
        thread: hang.thread ?? 'main',
        threadName: hang.threadName,
        phase: 'running',
        thresholdMs: hang.limitMs,
        startMs: Date.parse(hang.at) - hang.blockedMs,
        durationMs: hang.blockedMs,
        ended: false,
        exiting: false,
        stack: hang.stack,
        attribution: culprit === undefined ? 'none' : 'during',
        culprit,
        hang: undefined,
        context: hang.context,
      };
      byKey.set(key, record);
    }
    record.hang = hang.action;
    if (!record.ended) record.durationMs = Math.max(record.durationMs, hang.blockedMs);
  }
  // A block whose process ended before its `ended` event lasted at least as long as its last
  // progress record says.
  for (const record of progress) {
    const block = byKey.get(`${record.pid}:${record.thread}:${record.id}`);
    if (block !== undefined && !block.ended) block.durationMs = Math.max(block.durationMs, record.durationMs);
  }
  // A process known to have ended (`run` saw it exit) was blocked until then.
  if (exits !== undefined) {
    for (const record of byKey.values()) {
      const exitMs = exits.get(record.pid);
      if (!record.ended && exitMs !== undefined)
        record.durationMs = Math.max(record.durationMs, exitMs - record.startMs);
    }
  }
  return { blocks: [...byKey.values()].sort((a, b) => a.startMs - b.startMs), hangs };
}

/** `exits`: when processes are known to have ended (pid → epoch ms), for blocks they died in. */
export function analyse(sources: readonly EventSource[], exits?: ReadonlyMap<number, number>): Analysis {
  const { blocks, hangs } = collectBlocks(
    sources.flatMap((s) => s.events),
    sources.flatMap((s) => s.progress ?? []),
    exits,
  );
  const groups = new Map<string, Group>();
  const processes = new Map<number, { pid: number; blocks: number; totalMs: number }>();
  const threads = new Map<
    string,
    { pid: number; thread: string; threadName?: string; blocks: number; totalMs: number }
  >();
  let totalMs = 0;
  let worstMs = 0;
  let notEnded = 0;
  let to = -Infinity;
  for (const block of blocks) {
    const key = groupKey(block.culprit, block.attribution);
    let group = groups.get(key);
    if (group === undefined) {
      group = {
        key,
        culprit: block.culprit,
        attribution: block.culprit === undefined ? 'none' : block.attribution,
        blocks: 0,
        totalMs: 0,
        worstMs: 0,
        phases: { startup: 0, running: 0 },
        notEnded: 0,
        hangs: 0,
        pids: new Set(),
        stacks: new Map(),
      };
      groups.set(key, group);
    }
    group.blocks++;
    group.totalMs += block.durationMs;
    // The row names the line of its longest block.
    if (block.durationMs > group.worstMs) group.culprit = block.culprit;
    group.worstMs = Math.max(group.worstMs, block.durationMs);
    group.phases[block.phase]++;
    if (!block.ended) group.notEnded++;
    if (block.hang !== undefined) group.hangs++;
    group.pids.add(block.pid);
    const sKey = stackKey(block.stack);
    const seen = group.stacks.get(sKey);
    if (seen === undefined) group.stacks.set(sKey, { stack: block.stack, blocks: 1, totalMs: block.durationMs });
    else {
      seen.blocks++;
      seen.totalMs += block.durationMs;
    }
    const proc = processes.get(block.pid) ?? { pid: block.pid, blocks: 0, totalMs: 0 };
    proc.blocks++;
    proc.totalMs += block.durationMs;
    processes.set(block.pid, proc);
    const threadKey = `${block.pid}:${block.thread}`;
    const thread = threads.get(threadKey) ?? {
      pid: block.pid,
      thread: block.thread,
      ...(block.threadName === undefined ? {} : { threadName: block.threadName }),
      blocks: 0,
      totalMs: 0,
    };
    thread.blocks++;
    thread.totalMs += block.durationMs;
    threads.set(threadKey, thread);
    totalMs += block.durationMs;
    worstMs = Math.max(worstMs, block.durationMs);
    if (!block.ended) notEnded++;
    to = Math.max(to, block.startMs + block.durationMs);
  }
  const sorted = [...groups.values()].sort((a, b) => b.totalMs - a.totalMs || b.blocks - a.blocks);
  const first = blocks[0];
  const summary: Summary = {
    version: 1,
    sources: sources.map((s) => ({
      name: s.name,
      events: s.events.length,
      malformedLines: s.malformedLines,
      truncatedLastLine: s.truncatedLastLine,
    })),
    from: first === undefined ? null : new Date(first.startMs).toISOString(),
    to: first === undefined ? null : new Date(to).toISOString(),
    blocks: blocks.length,
    notEnded,
    totalMs: round(totalMs),
    worstMs: round(worstMs),
    processes: [...processes.values()].map((p) => ({ ...p, totalMs: round(p.totalMs) })),
    threads: [...threads.values()].map((t) => ({ ...t, totalMs: round(t.totalMs) })),
    culprits: sorted.map(culpritSummary),
    hangs: hangs.map(hangSummary),
  };
  return { summary, blocks, groups: sorted };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** The stack behind the most blocked time of a group. */
function heaviestStack(group: Group): readonly StackFrame[] {
  let best: { stack: readonly StackFrame[]; totalMs: number } | undefined;
  for (const entry of group.stacks.values()) if (best === undefined || entry.totalMs > best.totalMs) best = entry;
  return best?.stack ?? [];
}

function culpritSummary(group: Group): CulpritSummary {
  const frame = group.culprit;
  return {
    function: frame?.function ?? null,
    file: frame?.file ?? null,
    line: frame?.line ?? null,
    ...(frame?.mapped === false ? { mapped: false as const } : {}),
    attribution: group.attribution,
    blocks: group.blocks,
    totalMs: round(group.totalMs),
    worstMs: round(group.worstMs),
    phases: { ...group.phases },
    notEnded: group.notEnded,
    hangs: group.hangs,
    pids: [...group.pids].sort((a, b) => a - b),
    stack: heaviestStack(group),
  };
}

function hangSummary(hang: HangEvent): HangSummary {
  const frame = culpritFrame(hang.stack);
  return {
    pid: hang.pid,
    ...(hang.thread === undefined ? {} : { thread: hang.thread }),
    ...(hang.threadName === undefined ? {} : { threadName: hang.threadName }),
    at: hang.at,
    reason: hang.reason,
    action: hang.action,
    limitMs: hang.limitMs,
    blockId: hang.blockId ?? null,
    function: frame?.function ?? null,
    file: frame?.file ?? null,
    line: frame?.line ?? null,
  };
}
