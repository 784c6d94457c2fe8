/** The human report written to stderr while the loop is blocked (`log: 'pretty'`). */
import { relative, sep } from 'node:path';
import type { BlockEvent, StackFrame } from '../types.js';

/** How many frames the pretty report shows; the events file has them all. */
const SHOWN_FRAMES = 8;

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

export function formatFrame(frame: StackFrame, cwd: string): string {
  const where = frame.line > 0 ? `${displayPath(frame.file, cwd)}:${frame.line}:${frame.column}` : displayPath(frame.file, cwd);
  return `${frame.async === true ? 'async ' : ''}${frame.function} (${where})`;
}

function ms(value: number): string {
  return `${Math.round(value).toLocaleString('en-US')} ms`;
}

function describeThread(event: BlockEvent): string {
  const thread = event.threadState;
  if (thread === undefined) return '';
  if (thread.state === 'running') return ', running on the CPU';
  const where = thread.waitingIn === undefined ? '' : ` in ${thread.waitingIn}`;
  const children = thread.children === undefined ? '' : ` for ${thread.children.map((c) => `\`${c}\``).join(', ')}`;
  return `, ${thread.state === 'disk' ? 'waiting for the disk' : 'waiting'}${where}${children}`;
}

export function formatPretty(event: BlockEvent, cwd: string): string {
  const head = `loopwatch: [pid ${event.pid}] block #${event.id}`;
  if (event.state === 'ended') {
    // A stack taken during the block names the culprit; otherwise the profiler's samples do.
    const sampled = event.stackTiming !== 'during' && event.profile !== undefined ? culpritFrame(event.profile.stack) : undefined;
    const culprit = sampled ?? (event.stackTiming === 'during' ? culpritFrame(event.stack) : undefined);
    const how = sampled === undefined || event.profile === undefined ? '' : ` [profiler: ${Math.round(event.profile.share * 100)}% of ${event.profile.samples} samples]`;
    const tail = culprit === undefined ? '' : ` — ${culprit.function} (${displayPath(culprit.file, cwd)}:${culprit.line})${how}`;
    return `${head} ended after ${ms(event.durationMs)}${event.exiting === true ? ' (process exiting)' : ''}${tail}\n`;
  }
  const lines = [`${head}: event loop blocked for ${ms(event.durationMs)} so far (threshold ${ms(event.thresholdMs)}, ${event.phase})`];
  if (event.stackTiming === 'none') {
    lines.push(`    (no stack: the blocked thread did not answer in time — inside one long native call${describeThread(event)})`);
  } else {
    if (event.stackTiming === 'late') {
      lines.push('    (stack taken late, after the thread answered: the culprit may already have returned)');
    }
    let shown = 0;
    let hidden = 0;
    for (const frame of event.stack) {
      if (shown >= SHOWN_FRAMES || (isInternal(frame) && shown > 0)) {
        hidden++;
        continue;
      }
      lines.push(`    at ${formatFrame(frame, cwd)}`);
      shown++;
    }
    if (hidden > 0 || event.truncated === true) lines.push(`    … ${hidden}${event.truncated === true ? '+' : ''} more frames`);
  }
  return `${lines.join('\n')}\n`;
}
