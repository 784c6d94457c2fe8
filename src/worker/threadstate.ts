/**
 * What the main thread is doing in the kernel, read from /proc (Linux) while it is blocked in
 * native code and cannot answer a stack capture: running on the CPU (a huge JSON.parse, a sync
 * hash), or sleeping in a wait (execSync waits in epoll for its child; the child's command
 * line says which). A read costs 0.2–0.5 ms and needs nothing from the blocked thread.
 */
import { readFileSync } from 'node:fs';
import type { ThreadState } from '../types.js';

const STATES: Record<string, ThreadState['state']> = { R: 'running', S: 'sleeping', D: 'disk' };
const MAX_CHILDREN = 8;
const MAX_COMMAND = 300;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Undefined where /proc is not there (not Linux) or cannot be read. */
export function readThreadState(pid: number, tid: number = pid): ThreadState | undefined {
  if (process.platform !== 'linux') return undefined;
  const task = `/proc/${pid}/task/${tid}`;
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
