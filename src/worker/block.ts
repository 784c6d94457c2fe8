/**
 * The life of a block, from detection to its `ended` event: the watchdog's timer, the pause
 * probe, the stack capture and how late it was served, the `ongoing` and `ended` events, the
 * hang deadline and the SETTLE answers. Everything it touches is passed in (the stack source,
 * the clock, the shared views, the outputs), so it runs in-process under a fake clock in
 * test/unit/block.test.ts, as the watchdog it drives does.
 */
import { culpritOf } from '../common/culprit.js';
import { stackOf } from '../common/text.js';
import { F64, I32, LAG_RING_SIZE } from '../protocol/shared.js';
import type {
  BlockContext,
  BlockProfile,
  BlockProgress,
  Culprit,
  LoopwatchEvent,
  ProfileEntry,
  ProfileFlame,
  ResolvedOptions,
  StackFrame,
  StackTiming,
  ThreadState,
} from '../types.js';
import type { CaptureResult, RawFrame, StackSource } from './capture.js';
import { pastBlocks, type PastBlock } from './history.js';
import type { WarnOnce } from './outputs.js';
import type { Attribution, CpuProfile, RawFlame } from './profiler.js';
import { applyRemap, phaseOf, type Transformed } from './stack.js';
import type { ThreadStates } from './threadstate.js';
import { type Clock, sleep, within } from './time.js';
import {
  freshWindow,
  initialState,
  rearm,
  type Sample,
  step,
  type WatchdogConfig,
  type WatchdogState,
} from './watchdog.js';

/**
 * A capture the main thread served later than this after the request was held up by native
 * code: JavaScript serves the interrupt within a millisecond or two (8–16 ms seen on a loaded
 * 2-core machine, when the OS had the thread off its core). The frames of a later answer show
 * where the thread was when it got free, which may be after the culprit returned.
 */
const LATE_AFTER_MS = 30;
/**
 * With an inspector port open a debugger client may have paused the thread; its answer to the
 * pause probe then crosses the inspector's I/O thread and, on a loaded machine, was seen to
 * take longer than the capture timeout. Wait this long for it before calling it a block.
 */
const PAUSE_PROBE_WITH_INSPECTOR_MS = 1000;
/** Time to leave between closing the inspector session and the worker's end. */
export const SESSION_SETTLE_MS = 30;
/** How long the profiler may take to hand over a block's samples. */
const PROFILE_TIMEOUT_MS = 1000;
/**
 * The longest gap between two progress records of a block (see BlockProgress): before it, the
 * gap doubles from the detection time, so that short blocks get a few records and a hang one
 * a second.
 */
const PROGRESS_MAX_GAP_MS = 1000;
/** After the loop recovers, how long to wait for a capture answer still on its way. */
const LATE_ANSWER_GRACE_MS = 200;

export interface Stack {
  readonly frames: StackFrame[];
  readonly timing: StackTiming;
  readonly truncated: boolean;
  /** The request context read with the stack; kept only when the stack was taken during the block. */
  readonly context?: BlockContext | undefined;
}

export const NO_STACK: Stack = { frames: [], timing: 'none', truncated: false };

/** The block being reported (from its `ongoing` event until it ends), for health and hangs. */
export interface ActiveBlock {
  readonly id: number;
  readonly since: number;
  readonly stack: Stack;
  readonly threadState: ThreadState | undefined;
}

/** What the lifecycle needs of the sampling profiler (started later than the lifecycle). */
export interface BlockProfiler {
  due(now: number): boolean;
  rotate(): Promise<void>;
  attributeBlock(fromMs: number, toMs: number): Promise<Attribution | undefined>;
}

export interface BlockDeps {
  readonly options: Pick<ResolvedOptions, 'thresholdMs' | 'captureTimeoutMs' | 'hangMs' | 'warmup'>;
  /** The shared heartbeat buffer's views (see protocol/shared.ts for who writes each slot). */
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  /** The heartbeat's history: read once, when the watchdog arms. */
  readonly lagRing: Int32Array;
  readonly busyRing: Int32Array;
  /** The main thread's beat period, ms. */
  readonly beatMs: number;
  readonly pid: number;
  /** The watched thread, as events name it. */
  readonly thread: 'main' | `worker ${number}`;
  /** A worker thread's name (its Worker's `name`), read when an event is written. */
  readonly threadName?: (() => string | undefined) | undefined;
  /**
   * The process's block counter, shared by the lifecycles of all watched threads so that a
   * block's `id` is unique in the process (readers pair `ongoing` and `ended` by pid and id).
   */
  readonly ids?: { last: number } | undefined;
  /**
   * A capture served later than this after its request left was held up (by native code): its
   * stack is marked late; a pause probe answered later than this says the silence was a block.
   * Default LATE_AFTER_MS; a worker thread's requests cross the main thread first, and are
   * given longer.
   */
  readonly lateAfterMs?: number | undefined;
  /** Where stacks come from; undefined with `captureStack: false`. */
  readonly source: StackSource | undefined;
  readonly clock: Clock;
  /**
   * Raw V8 frames to the event's frames (paths, source maps, loopwatch's own frames out), with
   * the frames whose code was transformed in memory listed for mapping on the watched thread.
   */
  resolve(raw: readonly RawFrame[]): { frames: StackFrame[]; transformed: Transformed[] };
  /** What the kernel says the watched thread does; undefined where it cannot say. */
  readonly threadStates: ThreadStates | undefined;
  readonly emit: (event: LoopwatchEvent) => void;
  /** Records how long a block has lasted so far (see BlockProgress). */
  progress(record: BlockProgress): void;
  readonly warnOnce: WarnOnce;
  /** Writes a block's samples as a `.cpuprofile` (with `profileDir`); returns its path. */
  readonly writeProfile?: ((id: number, durationMs: number, profile: CpuProfile) => string | undefined) | undefined;
  /** Answers a SETTLE request. */
  settled(seq: number): void;
  /**
   * The block reached `hangMs`.
   * @param answering the thread answered the first capture.
   */
  hang(answering: boolean): Promise<void>;
}

export class BlockLifecycle {
  readonly #deps: BlockDeps;
  readonly #config: WatchdogConfig;
  #state: WatchdogState;
  readonly #ids: { last: number };
  #timer: unknown;
  #stopped = false;
  /** The last pause probe found the main thread paused by a debugger. */
  #pausedBefore = false;
  /** A block is being handled (from detection until its `ended` event, or until it is dismissed). */
  #handling = false;
  /** SETTLE requests waiting for the block being handled. */
  readonly #settles: number[] = [];
  #active: ActiveBlock | undefined;
  #profiler: BlockProfiler | undefined;

  constructor(deps: BlockDeps) {
    this.#deps = deps;
    this.#ids = deps.ids ?? { last: 0 };
    this.#config = { thresholdMs: deps.options.thresholdMs, pollMs: Math.max(1, Math.min(10, deps.beatMs)) };
    this.#state = initialState(this.#sample(), deps.clock.now());
  }

  /** The block being reported, if any. */
  get active(): ActiveBlock | undefined {
    return this.#active;
  }

  /**
   * Arms the watchdog: its first window starts at the last beat. A block that was over by now
   * is in the heartbeat's history: reported at once, as a single `ended` event (see #reportPast).
   * A block still going on is detected by the first tick, counted from the last beat before it.
   */
  start(): void {
    const { i32, f64, lagRing, busyRing, beatMs, options } = this.#deps;
    let seq: number;
    let past: PastBlock[];
    let sample: Sample;
    // A beat between the reads would mix two histories: read again.
    do {
      seq = Atomics.load(i32, I32.SEQ);
      past = pastBlocks({
        lagRing,
        busyRing,
        seq,
        beatTime: f64[F64.BEAT_TIME] ?? 0,
        beatMs,
        thresholdMs: options.thresholdMs,
      });
      sample = this.#sample();
    } while (sample.seq !== seq);
    for (const block of past) this.#reportPast(block);
    this.#state = initialState(sample, this.#deps.clock.now());
    this.#tick();
  }

  /** The sampling profiler, once it runs (it starts after the watchdog is armed). */
  useProfiler(profiler: BlockProfiler | undefined): void {
    this.#profiler = profiler;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#deps.clock.clearTimeout(this.#timer);
  }

  /** A SETTLE request: answered at once, or when the block being handled is done. */
  settle(seq: number): void {
    this.#settles.push(seq);
    if (!this.#handling) this.#answerSettles();
  }

  /** The watched thread's stack right now, if it answers within the capture timeout. */
  async captureNow(): Promise<Stack | undefined> {
    const { source, clock, options } = this.#deps;
    if (source === undefined || !source.open()) return undefined;
    const requestedAt = clock.now();
    const answer = await within(clock, source.capture(), options.captureTimeoutMs);
    return answer === undefined
      ? undefined
      : await this.#toStack(answer, requestedAt, this.#turnedSince(this.#sample().seq));
  }

  #sample(): Sample {
    const { i32, f64 } = this.#deps;
    const seq = Atomics.load(i32, I32.SEQ);
    return { seq, beatTime: f64[F64.BEAT_TIME] ?? 0, beatIdle: f64[F64.BEAT_IDLE] ?? 0 };
  }

  /**
   * @param turnedAt epoch ms of the first beat after the block, when known: a capture served
   *   after it was taken once the loop had already moved on.
   */
  async #toStack(result: CaptureResult | undefined, requestedAt: number, turnedAt: number | undefined): Promise<Stack> {
    if (result === undefined || result.frames.length === 0) return NO_STACK;
    const late =
      result.servedAt - (result.sentAt ?? requestedAt) > (this.#deps.lateAfterMs ?? LATE_AFTER_MS) ||
      (turnedAt !== undefined && result.servedAt >= turnedAt);
    return {
      frames: await this.#mapped(result.frames),
      timing: late ? 'late' : 'during',
      truncated: result.truncated,
      // A late answer's context is that of whatever ran when the thread got free: not the culprit's.
      context: late ? undefined : result.context,
    };
  }

  /**
   * The event's frames. Frames of code transformed in memory are mapped by the watched thread
   * itself, where the maps are (one more round trip, only when there are such frames); a frame
   * it cannot map stays `mapped: false` rather than show a generated line as the file's.
   */
  async #mapped(raw: readonly RawFrame[]): Promise<StackFrame[]> {
    const { source, clock, options } = this.#deps;
    const { frames, transformed } = this.#deps.resolve(raw);
    if (transformed.length === 0 || source === undefined) return frames;
    const answers = await within(clock, source.remap(transformed.map((t) => t.request)), options.captureTimeoutMs);
    return applyRemap(frames, transformed, answers);
  }

  /** The profiler's view of a block, its frames resolved as the stacks' are. */
  #profileOf(profile: Attribution): BlockProfile {
    const top: ProfileEntry[] = [];
    for (const entry of profile.top) {
      const frame = this.#deps.resolve([entry.frame]).frames[0];
      if (frame !== undefined)
        top.push({ function: frame.function, file: frame.file, line: frame.line, ms: entry.ms, share: entry.share });
    }
    const flame = profile.flame === undefined ? undefined : this.#flameOf(profile.flame)[0];
    return {
      samples: profile.samples,
      share: profile.share,
      stack: this.#deps.resolve(profile.frames).frames,
      top,
      gc: profile.gc,
      ...(flame === undefined ? {} : { flame }),
    };
  }

  /**
   * A sampled call tree with its frames resolved. A frame of loopwatch's own gives way to its
   * callees (so the result is a list); V8's `(garbage collector)`, `(program)` and `(root)`
   * keep their names and have no file.
   */
  #flameOf(node: RawFlame): ProfileFlame[] {
    const children = node.children.flatMap((child) => this.#flameOf(child));
    const ms = round(node.us / 1000);
    const rest = children.length === 0 ? {} : { children };
    if (node.frame.file === undefined) return [{ function: node.frame.function, ms, ...rest }];
    const frame = this.#deps.resolve([node.frame]).frames[0];
    if (frame === undefined) return children;
    return [{ function: frame.function, file: frame.file, line: frame.line, ms, ...rest }];
  }

  /** The loop has turned since `blockSeq`, after a busy stretch of at least the threshold. */
  #endedBusy(blockSeq: number): boolean {
    const { i32, busyRing, options } = this.#deps;
    if (Atomics.load(i32, I32.SEQ) === blockSeq) return false;
    return (busyRing[(blockSeq + 1) & (LAG_RING_SIZE - 1)] ?? 0) / 1000 >= options.thresholdMs;
  }

  /** The first beat after `blockSeq`, if the loop has turned since (else undefined). */
  #turnedSince(blockSeq: number): number | undefined {
    const { i32, f64 } = this.#deps;
    return Atomics.load(i32, I32.SEQ) === blockSeq ? undefined : (f64[F64.BEAT_TIME] ?? 0);
  }

  /**
   * A block that ended before the watchdog armed: one `ended` event with its real duration (the
   * busy time before the beat that ended it) and no stack, since nobody could ask for one while
   * it lasted. Its phase is `startup`: it happened in the process's first moments, and no stack
   * says otherwise. No `ongoing` event: it was never seen going on.
   */
  #reportPast(block: PastBlock): void {
    const { options, pid, thread, emit } = this.#deps;
    this.#ids.last += 1;
    emit({
      ...this.#named(),
      type: 'block',
      id: this.#ids.last,
      state: 'ended',
      phase: 'startup',
      thresholdMs: options.thresholdMs,
      durationMs: round(block.durationMs),
      startedAt: new Date(block.startedAt).toISOString(),
      pid,
      thread,
      stack: [],
      stackTiming: 'none',
      beforeArmed: true,
    });
  }

  /** `threadName`, for a worker thread that has one. */
  #named(): { threadName?: string } {
    const name = this.#deps.threadName?.();
    return name === undefined || name === '' ? {} : { threadName: name };
  }

  #schedule(ms: number): void {
    if (!this.#stopped) this.#timer = this.#deps.clock.setTimeout(() => this.#tick(), ms);
  }

  #tick(): void {
    if (this.#stopped) return;
    const { i32, clock, beatMs, warnOnce } = this.#deps;
    // While the process exits (its exit handlers may wait on a debugger client), or while a
    // worker thread sits parked in Atomics.wait (main/waits.ts), a silent loop is not a block.
    const quiet = Atomics.load(i32, I32.EXITING) === 1 || Atomics.load(i32, I32.PARKED) === 1;
    const now = clock.now();
    const current = this.#sample();
    const result = step(this.#config, this.#state, current, now, this.#ids.last, quiet);
    this.#state = result.state;
    if (result.action.type !== 'block-start') {
      // Rotate the profile only while the loop is healthy (it beat within two periods).
      const profiler = this.#profiler;
      if (profiler?.due(Date.now()) === true && now - current.beatTime < 2 * beatMs) {
        profiler.rotate().catch((error: unknown) => warnOnce('profiler', `the profiler failed: ${String(error)}`));
      }
      this.#schedule(result.wakeInMs);
      return;
    }
    const { lagMs, since } = result.action;
    void this.#handle(lagMs, since).catch((error: unknown) => {
      warnOnce('block', `reporting a block failed: ${stackOf(error)}`);
      this.#active = undefined;
      this.#finish();
      this.#notABlock();
    });
  }

  /**
   * The silence is not (or no longer) reported: close the session and watch a fresh window, so
   * that a thread really stuck is reported one threshold later.
   */
  #notABlock(): void {
    this.#handling = false;
    this.#answerSettles();
    this.#deps.source?.close();
    this.#state = freshWindow(this.#config, this.#sample().seq, this.#deps.clock.now());
    this.#schedule(this.#deps.options.thresholdMs);
  }

  #answerSettles(): void {
    for (const seq of this.#settles.splice(0)) this.#deps.settled(seq);
  }

  #finish(): void {
    const { i32 } = this.#deps;
    this.#handling = false;
    this.#answerSettles();
    Atomics.store(i32, I32.BLOCKED, 0);
    Atomics.add(i32, I32.ACK, 1);
    Atomics.notify(i32, I32.ACK);
  }

  /** Drives the watchdog from the moment a block is detected until the loop turns again. */
  async #handle(lagMs: number, since: number): Promise<void> {
    const { i32, clock, options, source: inspector, pid, thread, emit, warnOnce } = this.#deps;
    const blockState = this.#state;
    if (blockState.kind !== 'blocked') throw new Error(`handleBlock in state ${blockState.kind}`);
    const blockSeq = blockState.start.seq;
    this.#handling = true;
    const connected = inspector?.open() ?? false;

    // A thread paused at a breakpoint stops beating too; that is debugging, not a block.
    // No answer within the capture timeout means the thread is inside native code: not paused.
    const inspectorOpen = Atomics.load(i32, I32.INSPECTOR) === 1;
    const probeMs = inspectorOpen
      ? Math.max(options.captureTimeoutMs, PAUSE_PROBE_WITH_INSPECTOR_MS)
      : options.captureTimeoutMs;
    // What the kernel says the thread is doing now, while it is silent (read again below if the
    // capture goes unanswered): the probe may be answered only once a native call has returned.
    const detectedState = this.#deps.threadStates?.detected();
    const probedAt = clock.now();
    const pause =
      connected && inspector !== undefined ? await within(clock, inspector.pauseState(), probeMs) : undefined;
    // An answer that took this long was held up by native code: the silence was a real block,
    // even if it has just ended (with an inspector port open, answers are slow anyway). A worker
    // thread's probe crosses the main thread first: it is held to that thread's own bound.
    const heldUp =
      pause !== undefined && !inspectorOpen && clock.now() - probedAt > (this.#deps.lateAfterMs ?? LATE_AFTER_MS);
    // A probe cut short by the session's close at exit, right after a pause: the thread resumed
    // and went straight to its exit, where the probe was never served (seen with a debugger
    // client on Node 24). Nothing says it blocked. Without a pause before, the silence is taken
    // as one long native call, like a probe that goes unanswered.
    if (pause === 'closed' && this.#pausedBefore) {
      this.#pausedBefore = false;
      this.#notABlock();
      return;
    }
    if (pause === 'paused' || (this.#pausedBefore && pause === 'running')) {
      // Paused: not a block. Running again after a pause: the thread resumed at some moment
      // since the last probe, so it must now stay silent for a whole threshold of its own.
      this.#pausedBefore = pause === 'paused';
      this.#notABlock();
      return;
    }
    this.#pausedBefore = false;
    if (pause === 'unknown')
      warnOnce(
        'pause-probe',
        'cannot tell a debugger pause from a block on this Node version; a paused debugger may be reported as a block',
      );

    const requestedAt = clock.now();
    const pending = connected ? inspector?.capture() : undefined;
    // The probe went unanswered: the capture will be too, until the native call returns.
    const unanswered = pause === undefined || pause === 'closed';
    let answer =
      pending === undefined || unanswered ? undefined : await within(clock, pending, options.captureTimeoutMs);
    // An unusable answer says nothing about the loop: the block is reported without its stack.
    if (answer?.unusable !== undefined)
      warnOnce('capture', `blocks are reported without their stack: ${answer.unusable}`);
    if (
      !heldUp &&
      answer !== undefined &&
      answer.unusable === undefined &&
      answer.frames.length === 0 &&
      answer.servedAt - (answer.sentAt ?? requestedAt) <= (this.#deps.lateAfterMs ?? LATE_AFTER_MS) &&
      !this.#endedBusy(blockSeq)
    ) {
      // Served at once with no JavaScript on the stack, and the probe before it too: the thread
      // was waiting in its event loop (a late timer on a starved machine, Node waiting for a
      // debugger client at exit), answering messages. Nothing is blocking it — unless the beat
      // that ended the silence says the loop was busy all along: then the block ended just as
      // it was detected (seen at the end of a start-up block), and is reported without a stack.
      this.#notABlock();
      return;
    }
    // Numbered now, from the counter every watched thread's blocks share.
    const id = ++this.#ids.last;
    Atomics.store(i32, I32.BLOCKED, 1);
    const stack = await this.#toStack(answer, requestedAt, this.#turnedSince(blockSeq));
    // With warm-up, everything before markReady() is startup.
    const warming = options.warmup && Atomics.load(i32, I32.READY) === 0;
    // Whether the loop had turned before the block (not since: a block that ended as it was
    // detected is followed by a beat).
    const turnedBefore = blockSeq !== 0 && Atomics.load(i32, I32.LOOP_TURNED) === 1;
    const phase = warming ? 'startup' : phaseOf(answer?.frames, answer?.truncated ?? false, turnedBefore);
    const base = { type: 'block', id, phase, thresholdMs: options.thresholdMs, pid, thread, ...this.#named() } as const;
    // No stack: the thread is (or was, when held up) in native code. The kernel can still say
    // what it is doing, or what it was doing when the block was detected.
    const threadState =
      answer === undefined
        ? this.#deps.threadStates?.sinceDetected()
        : stack.frames.length === 0
          ? detectedState
          : undefined;
    emit({
      ...base,
      state: 'ongoing',
      durationMs: round(lagMs),
      startedAt: new Date(since).toISOString(),
      stack: stack.frames,
      stackTiming: stack.timing,
      ...culpritField({ stack: stack.frames, stackTiming: stack.timing }),
      ...(stack.truncated ? { truncated: true } : {}),
      ...(threadState === undefined ? {} : { threadState }),
      ...(stack.context === undefined ? {} : { context: stack.context }),
    });
    this.#active = { id, since, stack, threadState };

    // Wait for the loop to turn again.
    let hangReported = false;
    let lasted = Math.max(1, lagMs);
    let nextProgress = lasted + Math.min(lasted, PROGRESS_MAX_GAP_MS);
    for (;;) {
      const result = step(this.#config, this.#state, this.#sample(), clock.now(), this.#ids.last);
      if (result.action.type !== 'block-end') {
        this.#state = result.state;
        lasted = clock.now() - since;
        if (lasted >= nextProgress) {
          this.#deps.progress({
            type: 'progress',
            id,
            pid,
            thread,
            durationMs: round(lasted),
            at: new Date(clock.now()).toISOString(),
          });
          nextProgress = lasted + Math.min(lasted, PROGRESS_MAX_GAP_MS);
        }
        if (!hangReported && options.hangMs !== undefined && clock.now() - since >= options.hangMs) {
          hangReported = true;
          await this.#deps.hang(answer !== undefined);
        }
        await sleep(clock, result.wakeInMs);
        if (this.#stopped) {
          // Stopped in the middle of a block: nobody may wait for its `ended` any more.
          this.#active = undefined;
          this.#finish();
          return;
        }
        continue;
      }
      this.#active = undefined;
      let final = stack;
      if (answer === undefined && pending !== undefined) {
        // Not answered in time: the thread was most likely inside one long native call and
        // serves the interrupt only after it. Whatever comes is classified by when it was served.
        answer = await within(clock, pending, LATE_ANSWER_GRACE_MS);
        final = await this.#toStack(answer, requestedAt, result.action.turnedAt);
      }
      inspector?.close();
      const exiting = Atomics.load(i32, I32.EXITING) === 1;
      const profiler = this.#profiler;
      const profile =
        profiler === undefined
          ? undefined
          : await within(
              clock,
              profiler.attributeBlock(result.action.startedAt, result.action.turnedAt),
              PROFILE_TIMEOUT_MS,
            ).catch(() => undefined);
      const sampled = profile === undefined ? undefined : this.#profileOf(profile);
      emit({
        ...base,
        state: 'ended',
        durationMs: round(result.action.durationMs),
        startedAt: new Date(result.action.startedAt).toISOString(),
        stack: final.frames,
        stackTiming: final.timing,
        ...culpritField({ stack: final.frames, stackTiming: final.timing, profile: sampled }),
        ...(final.truncated ? { truncated: true } : {}),
        ...(exiting ? { exiting: true } : {}),
        ...contextOf(final.context ?? stack.context),
        ...(sampled === undefined ? {} : { profile: sampled }),
        ...profileFileOf(this.#deps, id, result.action.durationMs, profile?.window),
      });
      // Tearing the worker down right after its session disconnected was seen to abort the
      // process (Node 20–26); the exiting main thread tears it down as soon as we acknowledge.
      if (exiting) await sleep(clock, SESSION_SETTLE_MS);
      // Handling the end took time (a late answer, the profiler's samples: up to 1.2 s while the
      // thread sits in its next native call). The next silence still counts from the beat that
      // ended this block, not from now, and the wait is not the worker being frozen.
      const rearmed = rearm(this.#config, result.state, clock.now());
      this.#state = rearmed.state;
      this.#finish();
      this.#schedule(rearmed.wakeInMs);
      return;
    }
  }
}

function profileFileOf(
  deps: BlockDeps,
  id: number,
  durationMs: number,
  window: CpuProfile | undefined,
): { profileFile?: string } {
  const file = window === undefined ? undefined : deps.writeProfile?.(id, durationMs, window);
  return file === undefined ? {} : { profileFile: file };
}

function culpritField(event: Parameters<typeof culpritOf>[0]): { culprit?: Culprit } {
  const culprit = culpritOf(event);
  return culprit === undefined ? {} : { culprit };
}

function contextOf(context: BlockContext | undefined): { context?: BlockContext } {
  return context === undefined ? {} : { context };
}

/** Milliseconds to one decimal, as events carry them. */
export function round(value: number): number {
  return Math.round(value * 10) / 10;
}
