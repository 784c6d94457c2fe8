/**
 * Frames and durations as every reader of events shows them: the monitor's stderr report, the
 * CLI, the test integrations, the metrics' attributes. Runs on any thread.
 */
import { relative, sep } from 'node:path';
import type { StackFrame } from '../types.js';

export function isInternal(frame: StackFrame): boolean {
  return frame.file.startsWith('node:') || frame.file === '<anonymous>';
}

/**
 * Code a test runner generates around the app's modules rather than the app's own: vite's
 * module glue (`__vite_ssr_import__`, `__vite_ssr_exportName__`) and its export getters, which
 * V8 names `Module.<export>` (an anonymous getter on vite's exports object, whose
 * `Symbol.toStringTag` is "Module") and which map to the `export` line of the app's file.
 * Node's own ESM namespaces have no JavaScript getters, and a function of the app's own gets
 * its own name, so neither is taken for glue.
 */
const RUNNER_GLUE = /^(?:__vite_ssr_\w+|__vi_\w+|Module\.[A-Za-z$][\w$]*)$/;

export function isGlue(frame: StackFrame): boolean {
  return RUNNER_GLUE.test(frame.function);
}

/**
 * The first frame in the app's own code: not Node's internals or a builtin, not a test
 * runner's glue, not in node_modules — or, failing that, the first that is not internal.
 */
export function culpritFrame(stack: readonly StackFrame[]): StackFrame | undefined {
  return (
    stack.find((frame) => !isInternal(frame) && !isGlue(frame) && !frame.file.includes(`${sep}node_modules${sep}`)) ??
    stack.find((frame) => !isInternal(frame) && !isGlue(frame)) ??
    stack.find((frame) => !isInternal(frame))
  );
}

export function displayPath(file: string, cwd: string): string {
  if (!file.startsWith(sep)) return file;
  const rel = relative(cwd, file);
  return rel.startsWith('..') ? file : rel;
}

/**
 * What follows a position whose code was transformed in memory and could not be mapped: the
 * line is one of the generated code, not of the file as it is on disk.
 */
export const UNMAPPED = 'generated code, not source-mapped';

export function formatFrame(frame: StackFrame, cwd: string): string {
  const where =
    frame.line > 0 ? `${displayPath(frame.file, cwd)}:${frame.line}:${frame.column}` : displayPath(frame.file, cwd);
  return `${frame.async === true ? 'async ' : ''}${frame.function} (${where}${frame.mapped === false ? `, ${UNMAPPED}` : ''})`;
}

/**
 * What the loop was doing when a stack taken during a block holds only Node's own frames: no
 * line of the app was running at that instant, but Node was busy on its behalf — most often
 * the microtask queue draining a long run of short promise or nextTick callbacks.
 * Undefined when the stack holds a frame of the app's (or no frame at all).
 */
export function onlyInternals(stack: readonly StackFrame[]): string | undefined {
  if (stack.length === 0 || stack.some((frame) => !isInternal(frame))) return undefined;
  const names = new Set(stack.map((frame) => frame.function));
  if (names.has('processTicksAndRejections') || names.has('runMicrotasks'))
    return 'the microtask queue (a long run of promise or process.nextTick callbacks)';
  if (names.has('processImmediate')) return 'setImmediate callbacks';
  if (names.has('listOnTimeout') || names.has('processTimers')) return 'timers';
  return `Node internals (${stack[0]?.function ?? 'unknown'})`;
}

/** `1,234 ms`: how durations read in every report. */
export function ms(value: number): string {
  return `${Math.round(value).toLocaleString('en-US')} ms`;
}
