/**
 * Worker threads that did not run the preload — started with `execArgv: []`, or with an `env`
 * that drops the `NODE_OPTIONS` it came from — have not registered themselves in the thread
 * table. The session to the main thread lists every worker thread of the process (NodeWorker
 * domain, nested ones too), so the monitor registers such a thread itself: it evaluates on it
 * a call to the same `registerWorkerThread()` the preload calls (main/thread.ts), loaded from
 * loopwatch's own CommonJS build by absolute path, whatever kind of script the thread runs.
 *
 * When. An evaluation reaches a worker thread by interrupt, from its very start: in the middle
 * of Node's own bootstrap, where scheduling anything crashed the process (`setImmediate`:
 * SIGSEGV) or threw (`setTimeout`), and where loading a module would freeze Node's half-built
 * state (seen on Node 20 and 26). So each evaluation first checks, reading only, that Node has
 * handed the thread to its script: `process.argv[1]` is the script's path (or `[worker eval]`),
 * which Node writes after the preloads ran, right before the script. Until then it answers
 * `starting` and is asked again a little later. Once started, the registration is queued as a
 * microtask, not run by the interrupt: on top of arbitrary frames it could land inside Node's
 * timer or nextTick bookkeeping, which is not re-entrant. A thread blocked in its top-level
 * code, or already blocked when listed, is therefore registered when that code yields.
 *
 * A thread whose preload ran is found in the table before any evaluation (the preload runs
 * before `argv[1]` is written); the registration is idempotent anyway (REGISTERED_KEY).
 */
import { fileURLToPath } from 'node:url';
import { findSlot, REGISTERED_KEY, type ThreadTable } from '../protocol/threads.js';
import type { ListedThread } from './sessions.js';
import type { WarnOnce } from './outputs.js';
import type { Clock } from './time.js';

/** Waits between two looks at a starting thread, ms: its start takes tens of ms, more under load. */
const RETRY_MS = [20, 40, 80, 160, 320, 640] as const;
/** The wait after the listed ones run out. */
const RETRY_LAST_MS = 1000;
/** A thread not handed to its script by then is let go (a `data:` URL worker never is). */
const GIVE_UP_AFTER_MS = 15_000;
/** The Worker `name` of loopwatch's own monitor threads: never adopted. */
const MONITOR_NAME = 'loopwatch';
/** What the expression answers. */
const ANSWERS = ['starting', 'registered', 'queued', 'unsupported'] as const;
type Answer = (typeof ANSWERS)[number];

export interface AdoptDeps {
  readonly table: ThreadTable;
  /** Absolute path of dist/main/thread.js. */
  readonly registerModule: string;
  readonly clock: Clock;
  /** Evaluates on a worker thread: its value, or undefined (gone, no answer). */
  readonly evaluate: (threadId: number, expression: string) => Promise<{ value: unknown } | undefined>;
  /** Whether the inspector still lists the thread. */
  readonly listed: (threadId: number) => boolean;
  readonly warnOnce: WarnOnce;
  readonly debug: (message: string) => void;
}

/**
 * What a listed thread's script path is once Node hands the thread to it: its file, or
 * `[worker eval]`; undefined for a thread whose start cannot be told (a non-file URL).
 */
export function expectedEntry(url: string): string | undefined {
  if (url === '') return '[worker eval]';
  if (!url.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(url);
  } catch {
    return undefined;
  }
}

/**
 * The expression evaluated on the thread. Nothing but reads until the thread is handed to its
 * script; then one microtask queued. `require` is in scope in neither an ESM nor an eval
 * worker's global scope: the module is loaded through `process.getBuiltinModule` (Node ≥ 20.16).
 */
export function adoptExpression(entry: string, registerModule: string): string {
  const file = JSON.stringify(registerModule);
  const register =
    `()=>{try{g.process.getBuiltinModule('node:module').createRequire(${file})(${file}).registerWorkerThread()}` +
    `catch{}}`;
  return (
    `(()=>{const g=globalThis;const p=g.process;` +
    `if(p?.argv?.[1]!==${JSON.stringify(entry)})return'starting';` +
    `if(g[Symbol.for(${JSON.stringify(REGISTERED_KEY)})]!==undefined)return'registered';` +
    `if(typeof p.getBuiltinModule!=='function')return'unsupported';` +
    `Promise.resolve().then(${register});return'queued'})()`
  );
}

function answerOf(value: unknown): Answer | undefined {
  return ANSWERS.find((answer) => answer === value);
}

/** Registers, from the monitor, the worker threads that did not register themselves. */
export class ThreadAdopter {
  readonly #deps: AdoptDeps;
  readonly #timers = new Map<number, unknown>();
  #stopped = false;
  /** Threads this part queued a registration on (a figure for debug output). */
  adopted = 0;

  constructor(deps: AdoptDeps) {
    this.#deps = deps;
  }

  /** A worker thread was listed: adopt it, unless it is ours or registers itself. Never throws. */
  readonly listed = (thread: ListedThread): void => {
    if (this.#stopped || thread.name === MONITOR_NAME || this.#timers.has(thread.threadId)) return;
    const entry = expectedEntry(thread.url);
    if (entry === undefined) {
      this.#deps.debug(`worker ${thread.threadId} (${thread.url}) cannot be adopted: not a file or eval worker`);
      return;
    }
    const expression = adoptExpression(entry, this.#deps.registerModule);
    this.#schedule(thread.threadId, expression, 0, this.#deps.clock.now());
  };

  get stopped(): boolean {
    return this.#stopped;
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers.values()) this.#deps.clock.clearTimeout(timer);
    this.#timers.clear();
  }

  #schedule(threadId: number, expression: string, attempt: number, since: number): void {
    const wait = RETRY_MS[attempt] ?? RETRY_LAST_MS;
    const timer = this.#deps.clock.setTimeout(() => {
      this.#look(threadId, expression, attempt, since).catch(() => this.#timers.delete(threadId));
    }, wait);
    this.#timers.set(threadId, timer);
  }

  async #look(threadId: number, expression: string, attempt: number, since: number): Promise<void> {
    const deps = this.#deps;
    if (this.#stopped) return;
    // Registered by its preload (or gone): nothing to evaluate.
    if (findSlot(deps.table, threadId) !== -1 || !deps.listed(threadId)) {
      this.#timers.delete(threadId);
      return;
    }
    const answer = answerOf((await deps.evaluate(threadId, expression))?.value);
    // stop() may have come while the answer was on its way.
    if (this.stopped) return;
    if (answer === 'starting' && deps.clock.now() - since < GIVE_UP_AFTER_MS) {
      this.#schedule(threadId, expression, attempt + 1, since);
      return;
    }
    this.#timers.delete(threadId);
    if (answer === 'queued') {
      this.adopted++;
      deps.debug(`worker ${threadId} adopted (registration queued)`);
    } else if (answer === 'unsupported') {
      deps.warnOnce(
        'adopt',
        'worker threads started without the preload are not watched on this Node (it has no process.getBuiltinModule: Node ≥ 20.16 or ≥ 22.3 has)',
      );
    } else if (answer !== 'registered') {
      deps.debug(`worker ${threadId} not adopted: ${answer ?? 'no answer'}`);
    }
  }
}
