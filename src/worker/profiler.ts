/**
 * On by default (`profiler: false` or LOOPWATCH_PROFILER=off turns it off): a V8 sampling
 * profiler kept running on the main thread (and with `profiler: 'all'` on each watched worker
 * thread), so that a block inside one long native call — where
 * the capture interrupt is only served after the call returns — is still attributed. The samples taken during the block name the culprit
 * (`loadCatalog < readAll` inside a huge JSON.parse); they are read once the block has ended,
 * because stopping the profiler is itself served by the main thread.
 *
 * Measured facts this follows (Node 20–24):
 * - `Profiler.start` freezes the main thread for a time proportional to its heap (5–30 ms for a
 *   small app, ~500 ms for a 400 MB heap), so it is started once, early (at `register` time),
 *   and never cold-restarted.
 * - An open `console.profile()` keeps V8's CPU profiler alive across `Profiler.stop`/`start`,
 *   which makes a rotation cost 0.2–2 ms instead of a heap-sized restart. The profile is
 *   rotated (bounded memory) only while the loop is healthy.
 * - Sampling every 10 ms costs ~15 µs a sample (~0.15% CPU); sample times are on the
 *   `process.hrtime` clock.
 */
import type { Session } from 'node:inspector';
import type { RawFrame } from './capture.js';

const INTERVAL_US = 10_000;
/** Rotate the running profile this often (bounded memory: ~2,000 samples at 10 ms). */
const ROTATE_EVERY_MS = 20_000;

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
export interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

export interface Attribution {
  /** Samples taken during the block (JavaScript, native and garbage collection). */
  readonly samples: number;
  /** Share of those samples whose stack has the culprit's frame. */
  readonly share: number;
  /** The most frequent stack among them, innermost first (1-based positions, not mapped). */
  readonly frames: readonly RawFrame[];
  /** The block's time by culprit frame, heaviest first (at most TOP_ENTRIES). */
  readonly top: readonly { readonly frame: RawFrame; readonly ms: number; readonly share: number }[];
  /** Time in V8's `(garbage collector)` samples; the heap in use just after the block, when read. */
  readonly gc: { readonly ms: number; readonly share: number; readonly heapUsedMb?: number };
  /** The block's samples as a `.cpuprofile` (set by SamplingProfiler.attributeBlock). */
  readonly window?: CpuProfile;
  /** The block's samples as a pruned call tree (set by SamplingProfiler.attributeBlock). */
  readonly flame?: RawFlame;
}

/** A call-tree node of a block's samples, before its frame is resolved. */
export interface RawFlame {
  readonly frame: RawFrame;
  /** Sampled time in this call and its callees, µs. */
  readonly us: number;
  readonly children: readonly RawFlame[];
}

/** Epoch ms (performance clock) → µs on the hrtime clock the profiler timestamps with. */
export function hrtimeUs(epochMs: number): number {
  const offsetUs = Number(process.hrtime.bigint() / 1000n) - (performance.timeOrigin + performance.now()) * 1000;
  return epochMs * 1000 + offsetUs;
}

/** A profile in Chrome DevTools' `.cpuprofile` format: what `Profiler.stop` returns, cut to a window. */
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/**
 * The samples taken in [fromUs, toUs], with only the nodes they (and their ancestors) use:
 * what DevTools and speedscope load as a profile of the block alone. Pure.
 */
export function sliceProfile(profile: Profile, fromUs: number, toUs: number): CpuProfile {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  const used = new Set<number>();
  const deltas = profile.timeDeltas ?? [];
  let time = profile.startTime;
  let last = fromUs;
  (profile.samples ?? []).forEach((id, i) => {
    time += deltas[i] ?? 0;
    if (time < fromUs || time > toUs) return;
    samples.push(id);
    timeDeltas.push(time - last);
    last = time;
    for (let at: number | undefined = id; at !== undefined && !used.has(at); at = parent.get(at)) used.add(at);
  });
  const nodes = profile.nodes
    .filter((node) => used.has(node.id) || parent.get(node.id) === undefined)
    .map((node) => ({ ...node, children: (node.children ?? []).filter((child) => used.has(child)) }));
  return { nodes, startTime: Math.round(fromUs), endTime: Math.round(toUs), samples, timeDeltas };
}

/** A flame keeps the calls that took at least this share of the block, at most FLAME_MAX_NODES. */
const FLAME_MIN_SHARE = 0.01;
const FLAME_MAX_NODES = 100;

/**
 * A block's samples (a `sliceProfile` window) as a call tree weighted by time, each sample
 * weighing the time until the next one: two phases of a block are two siblings of their
 * caller, each as wide as its phase. Small calls are pruned so that an event stays small. Pure.
 */
export function flameOf(window: CpuProfile): RawFlame | undefined {
  const parent = new Map<number, number>();
  for (const node of window.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const inclusive = new Map<number, number>();
  let time = window.startTime;
  window.samples.forEach((id, i) => {
    time += window.timeDeltas[i] ?? 0;
    const weight = Math.max(0, Math.min(window.timeDeltas[i + 1] ?? INTERVAL_US, window.endTime - time));
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at))
      inclusive.set(at, (inclusive.get(at) ?? 0) + weight);
  });
  const root = window.nodes.find((node) => parent.get(node.id) === undefined && inclusive.has(node.id));
  const total = root === undefined ? 0 : (inclusive.get(root.id) ?? 0);
  if (root === undefined || total <= 0) return undefined;
  // The heaviest calls first, so that the node budget keeps what matters.
  let min = total * FLAME_MIN_SHARE;
  const kept = [...inclusive.values()].filter((us) => us >= min).sort((a, b) => b - a);
  if (kept.length > FLAME_MAX_NODES) min = Math.max(min, (kept[FLAME_MAX_NODES - 1] ?? 0) + 1e-9);
  const byId = new Map(window.nodes.map((node) => [node.id, node]));
  const build = (node: ProfileNode): RawFlame => ({
    frame: raw(node.callFrame),
    us: inclusive.get(node.id) ?? 0,
    children: (node.children ?? [])
      .filter((child) => (inclusive.get(child) ?? 0) >= min)
      .sort((a, b) => (inclusive.get(b) ?? 0) - (inclusive.get(a) ?? 0))
      .flatMap((child) => {
        const next = byId.get(child);
        return next === undefined ? [] : [build(next)];
      }),
  });
  return build(root);
}

/** How many culprits `top` lists. */
export const TOP_ENTRIES = 10;

function isUser(frame: CallFrame): boolean {
  return frame.url !== '' && !frame.url.startsWith('node:');
}

/** The app's own innermost frame (node_modules skipped), else the innermost non-internal one. */
function culpritCall(frames: readonly CallFrame[]): CallFrame | undefined {
  return frames.find((f) => isUser(f) && !f.url.includes('/node_modules/')) ?? frames.find(isUser);
}

function raw(f: CallFrame): RawFrame {
  return {
    function: f.functionName === '' ? '<anonymous>' : f.functionName,
    file: f.url === '' ? undefined : f.url,
    line: f.lineNumber + 1,
    column: f.columnNumber + 1,
    async: false,
  };
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
const round2 = (x: number): number => Math.round(x * 100) / 100;

/**
 * Groups the samples taken in [fromUs, toUs] by their culprit frame (the app's innermost);
 * returns the biggest group with its most frequent full stack, the time of every group
 * (`top`: each sample weighs the time until the next one, as Chrome DevTools counts it) and
 * the garbage collector's. Pure: unit-tested on hand-made profiles.
 */
export function attribute(profile: Profile, fromUs: number, toUs: number): Attribution | undefined {
  const nodes = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    nodes.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  interface Group {
    count: number;
    us: number;
    culprit: CallFrame;
    stacks: Map<string, { count: number; frames: CallFrame[] }>;
  }
  const byCulprit = new Map<string, Group>();
  let inWindow = 0;
  let totalUs = 0;
  let gcUs = 0;
  let time = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    time += deltas[i] ?? 0;
    if (time < fromUs || time > toUs) continue;
    inWindow++;
    const weight = Math.max(0, Math.min(deltas[i + 1] ?? INTERVAL_US, toUs - time));
    totalUs += weight;
    const frames: CallFrame[] = [];
    for (let id: number | undefined = samples[i]; id !== undefined; id = parent.get(id)) {
      const frame = nodes.get(id)?.callFrame;
      if (frame === undefined || frame.functionName === '(root)') break;
      frames.push(frame);
    }
    if (frames[0]?.functionName === '(garbage collector)') gcUs += weight;
    const culprit = culpritCall(frames);
    // (garbage collector), (program), (idle): no stack to attribute.
    if (culprit === undefined) continue;
    const key = `${culprit.functionName} ${culprit.url}:${culprit.lineNumber}`;
    const group = byCulprit.get(key) ?? {
      count: 0,
      us: 0,
      culprit,
      stacks: new Map<string, { count: number; frames: CallFrame[] }>(),
    };
    group.count++;
    group.us += weight;
    const stackKey = frames.map((f) => `${f.functionName} ${f.url}:${f.lineNumber}:${f.columnNumber}`).join('<');
    const stack = group.stacks.get(stackKey) ?? { count: 0, frames };
    stack.count++;
    group.stacks.set(stackKey, stack);
    byCulprit.set(key, group);
  }
  let best: Group | undefined;
  for (const group of byCulprit.values()) if (best === undefined || group.count > best.count) best = group;
  if (best === undefined) {
    if (inWindow === 0) return undefined;
    return {
      samples: inWindow,
      share: 0,
      frames: [],
      top: [],
      gc: { ms: round1(gcUs / 1000), share: totalUs > 0 ? round2(gcUs / totalUs) : 0 },
    };
  }
  let top: { count: number; frames: CallFrame[] } | undefined;
  for (const stack of best.stacks.values()) if (top === undefined || stack.count > top.count) top = stack;
  return {
    samples: inWindow,
    share: round2(best.count / inWindow),
    frames: (top?.frames ?? []).map(raw),
    top: [...byCulprit.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, TOP_ENTRIES)
      .map((g) => ({
        frame: raw(g.culprit),
        ms: round1(g.us / 1000),
        share: totalUs > 0 ? round2(g.us / totalUs) : 0,
      })),
    gc: { ms: round1(gcUs / 1000), share: totalUs > 0 ? round2(gcUs / totalUs) : 0 },
  };
}

/**
 * How a profiler reaches its thread's inspector: the main thread's through a session of its
 * own, a worker thread's through the NodeWorker domain of the session that captures its stacks.
 */
export interface ProfilerLink {
  connect(): void;
  /** Rejects when the command fails or gets no answer. */
  post(method: string, params?: object): Promise<unknown>;
  close(): void;
}

/** The main thread's link: a session of the profiler's own, `connectToMainThread()`. */
export function mainThreadLink(SessionClass: typeof Session): ProfilerLink {
  const session = new SessionClass();
  return {
    connect: () => session.connectToMainThread(),
    post: (method, params = {}) =>
      new Promise((resolve, reject) => {
        session.post(method, params, (error: Error | null, result: unknown) =>
          error === null ? resolve(result) : reject(error),
        );
      }),
    close: () => session.disconnect(),
  };
}

export class SamplingProfiler {
  readonly #link: ProfilerLink;
  #startedAt = 0;
  #anchor = 0;
  #busy = false;

  constructor(link: ProfilerLink) {
    this.#link = link;
  }

  #post<T>(method: string, params: object = {}): Promise<T> {
    return this.#link.post(method, params) as Promise<T>;
  }

  #evaluate(expression: string): Promise<unknown> {
    return this.#post('Runtime.evaluate', { expression, silent: true, disableBreaks: true });
  }

  /** Connects and starts sampling (the one heap-sized start: call it early). */
  async start(): Promise<void> {
    this.#link.connect();
    await this.#post('Profiler.enable');
    await this.#post('Profiler.setSamplingInterval', { interval: INTERVAL_US });
    this.#startedAt = Date.now();
    await this.#post('Profiler.start');
    await this.#evaluate(`console.profile('loopwatch-${this.#anchor}')`);
  }

  /** Whether the running profile is old enough to be rotated. */
  due(now: number): boolean {
    return !this.#busy && now - this.#startedAt >= ROTATE_EVERY_MS;
  }

  /** Starts a fresh profile (cheap while the anchor runs). Only while the loop is healthy. */
  async rotate(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      await this.#post('Profiler.stop');
      this.#startedAt = Date.now();
      await this.#post('Profiler.start');
      const old = this.#anchor++;
      await this.#evaluate(`console.profileEnd('loopwatch-${old}'); console.profile('loopwatch-${this.#anchor}')`);
    } finally {
      this.#busy = false;
    }
  }

  /**
   * After a block: stops the running profile, attributes the samples in the window (epoch ms)
   * and starts a fresh profile.
   */
  async attributeBlock(fromMs: number, toMs: number): Promise<Attribution | undefined> {
    if (this.#busy) return undefined;
    this.#busy = true;
    try {
      const { profile } = await this.#post<{ profile: Profile }>('Profiler.stop');
      this.#startedAt = Date.now();
      await this.#post('Profiler.start');
      const fromUs = hrtimeUs(fromMs);
      const toUs = hrtimeUs(toMs);
      const attribution = attribute(profile, fromUs, toUs);
      if (attribution === undefined) return undefined;
      const window = sliceProfile(profile, fromUs, toUs);
      const flame = flameOf(window);
      // V8's own counter, read without walking the heap: a block spent collecting garbage says
      // how big the heap was.
      const heap = await this.#post<{ usedSize?: number }>('Runtime.getHeapUsage').catch(() => undefined);
      const gc =
        typeof heap?.usedSize === 'number'
          ? { ...attribution.gc, heapUsedMb: Math.round(heap.usedSize / 1e5) / 10 }
          : attribution.gc;
      return { ...attribution, gc, window, ...(flame === undefined ? {} : { flame }) };
    } finally {
      this.#busy = false;
    }
  }

  close(): void {
    try {
      this.#link.close();
    } catch {
      // already gone
    }
  }
}
