/**
 * The human report of an event, as the monitor writes it to stderr while the loop is blocked
 * (`log: 'pretty'`) and as the CLI prints it. Runs on any thread.
 */
import type { BlockContext, HangEvent, LoopwatchEvent, StackFrame, StackTiming, ThreadState } from '../types.js';
import { culpritFrame, displayPath, formatFrame, isInternal, ms, onlyInternals, UNMAPPED } from './frames.js';

/** How many frames the pretty report shows; the events file has them all. */
const SHOWN_FRAMES = 8;

function describeThread(thread: ThreadState | undefined): string {
  if (thread === undefined) return '';
  if (thread.state === 'running') return ', running on the CPU';
  const where = thread.waitingIn === undefined ? '' : ` in ${thread.waitingIn}`;
  const children = thread.children === undefined ? '' : ` for ${thread.children.map((c) => `\`${c}\``).join(', ')}`;
  return `, ${thread.state === 'disk' ? 'waiting for the disk' : 'waiting'}${where}${children}`;
}

/**
 * `[pid 123]` for the main thread, `[pid 123 worker 4 "resize"]` for a worker thread (its name
 * when it has one).
 */
export function whose(event: { pid: number; thread?: string | undefined; threadName?: string | undefined }): string {
  if (event.thread === undefined || event.thread === 'main') return `[pid ${event.pid}]`;
  const name = event.threadName === undefined ? '' : ` ${JSON.stringify(event.threadName)}`;
  return `[pid ${event.pid} ${event.thread}${name}]`;
}

export function formatPretty(event: LoopwatchEvent, cwd: string): string {
  if (event.type === 'hang') return formatHang(event, cwd);
  const head = `loopwatch: ${whose(event)} block #${event.id}`;
  const exiting = event.thread === 'main' ? ' (process exiting)' : ' (thread exiting)';
  if (event.state === 'ended') {
    // A stack taken during the block names the culprit; otherwise the profiler's samples do.
    const sampled =
      event.stackTiming !== 'during' && event.profile !== undefined ? culpritFrame(event.profile.stack) : undefined;
    const culprit = sampled ?? (event.stackTiming === 'during' ? culpritFrame(event.stack) : undefined);
    const how =
      sampled === undefined || event.profile === undefined
        ? ''
        : ` [profiler: ${Math.round(event.profile.share * 100)}% of ${event.profile.samples} samples]`;
    const unmapped = culprit?.mapped === false ? `, ${UNMAPPED}` : '';
    const internals = culprit === undefined && event.stackTiming === 'during' ? onlyInternals(event.stack) : undefined;
    const tail =
      culprit !== undefined
        ? ` — ${culprit.function} (${displayPath(culprit.file, cwd)}:${culprit.line}${unmapped})${how}`
        : internals === undefined
          ? ''
          : ` — only Node internals on the stack: ${internals}`;
    const before = event.beforeArmed === true ? ' (before the monitor was armed: no stack)' : '';
    return `${head} ended after ${ms(event.durationMs)}${before}${event.exiting === true ? exiting : ''}${tail}\n`;
  }
  const lines = [
    `${head}: event loop blocked for ${ms(event.durationMs)} so far (threshold ${ms(event.thresholdMs)}, ${event.phase})`,
  ];
  contextLine(lines, event.context);
  stackLines(lines, event.stack, event.stackTiming, event.truncated === true, event.threadState, cwd);
  return `${lines.join('\n')}\n`;
}

/** `    request: span "GET /checkout" (trace …, span …) http.route=/checkout request.id=42`. */
export function contextLine(lines: string[], context: BlockContext | undefined): void {
  if (context === undefined) return;
  const parts: string[] = [];
  if (context.traceId !== undefined) {
    parts.push(
      `${context.spanName === undefined ? 'span' : `span "${context.spanName}"`} (trace ${context.traceId}, span ${context.spanId ?? '?'})`,
    );
  }
  for (const [key, value] of Object.entries(context.attributes ?? {})) parts.push(`${key}=${String(value)}`);
  if (parts.length > 0) lines.push(`    request: ${parts.join(' ')}`);
  if (context.error !== undefined) lines.push(`    (context lost: ${context.error})`);
}

function stackLines(
  lines: string[],
  stack: readonly StackFrame[],
  timing: StackTiming,
  truncated: boolean,
  thread: ThreadState | undefined,
  cwd: string,
): void {
  if (timing === 'none') {
    lines.push(
      `    (no stack: the blocked thread did not answer in time — inside one long native call${describeThread(thread)})`,
    );
    return;
  }
  if (timing === 'late')
    lines.push('    (stack taken late, after the thread answered: the culprit may already have returned)');
  let shown = 0;
  let hidden = 0;
  for (const frame of stack) {
    if (shown >= SHOWN_FRAMES || (isInternal(frame) && shown > 0)) {
      hidden++;
      continue;
    }
    lines.push(`    at ${formatFrame(frame, cwd)}`);
    shown++;
  }
  if (hidden > 0 || truncated)
    lines.push(`    … ${hidden}${truncated ? '+' : ''} more frame${hidden === 1 && !truncated ? '' : 's'}`);
}

const ACTIONS: Record<HangEvent['action'], string> = {
  none: 'reporting only (hangAction "none")',
  kill: 'ending the process with SIGKILL',
  abort: 'ending the process with SIGABRT (core dump where enabled)',
  exit: 'ending the process with process.exit(1)',
};

function formatHang(event: HangEvent, cwd: string): string {
  const head = `loopwatch: ${whose(event)}`;
  const lines: string[] = [];
  if (event.reason === 'block') {
    lines.push(
      `${head} HANG: block #${event.blockId ?? '?'} has blocked the event loop for ${ms(event.blockedMs)} (hangMs ${ms(event.limitMs)}) — ${event.thread === undefined ? ACTIONS[event.action] : "reporting only (a worker thread's hang is not acted on)"}`,
    );
  } else {
    const after = event.cause === undefined ? '' : ` of ${event.cause}`;
    const state =
      event.blockedMs > 0
        ? `the event loop is blocked (for ${ms(event.blockedMs)})`
        : 'the event loop runs on, kept alive by what is listed below';
    lines.push(
      `${head} the process did not exit within ${ms(event.limitMs)}${after}; ${state} — ${ACTIONS[event.action]}`,
    );
  }
  contextLine(lines, event.context);
  if (event.blockedMs > 0) {
    stackLines(lines, event.stack, event.stackTiming, false, event.threadState, cwd);
  } else if (event.resources !== undefined) {
    const counts = Object.entries(event.resources.counts).map(([kind, count]) => `${kind} ×${count}`);
    lines.push(`    resources: ${counts.length === 0 ? 'none left' : counts.join(', ')}`);
    for (const handle of event.resources.handles) lines.push(`    - ${handle}`);
  }
  return `${lines.join('\n')}\n`;
}
