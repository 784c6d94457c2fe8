/**
 * What the main thread is doing in the kernel, read from /proc (Linux) while it is blocked in
 * native code and cannot answer a stack capture: running on the CPU (a huge JSON.parse, a sync
 * hash), or sleeping in a wait (execSync waits in epoll for its child; the child's command
 * line says which). A read costs 0.2–0.5 ms and needs nothing from the blocked thread.
 *
 * The state letter is one instant: a thread waiting in epoll is briefly `R` each time a signal
 * wakes it (the sampling profiler's SIGPROF, every 10 ms), and a CPU-bound one briefly `S` on a
 * GC helper's futex. So once a block has been detected, its state is decided by the share of
 * the time since then that the thread was runnable (on a CPU or queued for one, from
 * `schedstat`), and the letter is only the fallback.
 */
import { readFileSync } from 'node:fs';
import type { ThreadState } from '../types.js';

const STATES: Record<string, ThreadState['state']> = { R: 'running', S: 'sleeping', D: 'disk' };
const MAX_CHILDREN = 8;
/** Shorter windows say little: a scheduler tick is 1–10 ms. */
const MIN_WINDOW_NS = 5_000_000n;
/** Runnable for at least this share of the window: running. */
const RUNNING_SHARE = 0.5;
const MAX_COMMAND = 300;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The state of one blocked thread, as the block handling asks for it. */
export interface ThreadStates {
  /** The state now; starts the window that later reads are judged over. */
  detected(): ThreadState | undefined;
  /** The state over the time since `detected()` (the instant's state before it). */
  sinceDetected(): ThreadState | undefined;
}

interface Sample {
  readonly at: bigint;
  /** Nanoseconds on a CPU plus queued for one, since the thread started. */
  readonly runnableNs: bigint;
}

function sample(task: string): Sample | undefined {
  const fields = read(`${task}/schedstat`)?.trim().split(' ');
  const [onCpu, queued] = [fields?.[0], fields?.[1]];
  if (onCpu === undefined || queued === undefined || !/^\d+$/.test(onCpu) || !/^\d+$/.test(queued)) return undefined;
  return { at: process.hrtime.bigint(), runnableNs: BigInt(onCpu) + BigInt(queued) };
}

/** Reads one thread's state for the block handling; undefined reads where /proc cannot say. */
export function threadStates(pid: number, tid: number = pid): ThreadStates {
  let start: Sample | undefined;
  return {
    detected() {
      start = process.platform === 'linux' ? sample(taskOf(pid, tid)) : undefined;
      return readThreadState(pid, tid);
    },
    sinceDetected() {
      const state = readThreadState(pid, tid);
      const end = start === undefined ? undefined : sample(taskOf(pid, tid));
      if (state === undefined || start === undefined || end === undefined) return state;
      if (state.state !== 'running' && state.state !== 'sleeping') return state;
      const windowNs = end.at - start.at;
      if (windowNs < MIN_WINDOW_NS) return state;
      const share = Number(end.runnableNs - start.runnableNs) / Number(windowNs);
      const judged = share >= RUNNING_SHARE ? 'running' : 'sleeping';
      return judged === state.state ? state : { ...state, state: judged };
    },
  };
}

function taskOf(pid: number, tid: number): string {
  return `/proc/${pid}/task/${tid}`;
}

/** Undefined where /proc is not there (not Linux) or cannot be read. */
export function readThreadState(pid: number, tid: number = pid): ThreadState | undefined {
  if (process.platform !== 'linux') return undefined;
  const task = taskOf(pid, tid);
  const stat = read(`${task}/stat`);
  if (stat === undefined) return undefined;
  // The command name in parentheses may contain spaces: the state follows the last ')'.
  const letter = stat.slice(stat.lastIndexOf(')') + 2).charAt(0);
  const wchan = read(`${task}/wchan`)?.trim();
  const children = (read(`${task}/children`) ?? '')
    .split(' ')
    .filter((child) => /^\d+$/.test(child))
    .slice(0, MAX_CHILDREN)
    .map((child) => (read(`/proc/${child}/cmdline`) ?? '').split('\0').join(' ').trim().slice(0, MAX_COMMAND))
    .filter((command) => command !== '');
  return {
    state: STATES[letter] ?? 'other',
    ...(wchan !== undefined && wchan !== '' && wchan !== '0' ? { waitingIn: wchan } : {}),
    ...(children.length > 0 ? { children } : {}),
  };
}
