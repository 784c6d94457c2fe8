/**
 * Frames and durations as every reader of events shows them: the monitor's stderr report, the
 * CLI, the test integrations, the metrics' attributes. Runs on any thread.
 */
import { relative, sep } from 'node:path';
import type { StackFrame } from '../types.js';

export function isInternal(frame: StackFrame): boolean {
  return frame.file.startsWith('node:') || frame.file === '<anonymous>';
}

/** The first frame in the app's own code: not Node's internals, not a builtin. */
export function culpritFrame(stack: readonly StackFrame[]): StackFrame | undefined {
  return stack.find((frame) => !isInternal(frame) && !frame.file.includes(`${sep}node_modules${sep}`)) ?? stack.find((f) => !isInternal(f));
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
  const where = frame.line > 0 ? `${displayPath(frame.file, cwd)}:${frame.line}:${frame.column}` : displayPath(frame.file, cwd);
  return `${frame.async === true ? 'async ' : ''}${frame.function} (${where}${frame.mapped === false ? `, ${UNMAPPED}` : ''})`;
}

/** `1,234 ms`: how durations read in every report. */
export function ms(value: number): string {
  return `${Math.round(value).toLocaleString('en-US')} ms`;
}
