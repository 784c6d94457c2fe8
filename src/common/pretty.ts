/**
 * The human report of an event, as the monitor writes it to stderr while the loop is blocked
 * (`log: 'pretty'`) and as the CLI prints it. Runs on any thread.
 */
import { sep } from 'node:path';
import type {
  BlockContext,
  BlockEvent,
  Culprit,
  HangEvent,
  LoopwatchEvent,
  StackFrame,
  StackTiming,
  ThreadState,
} from '../types.js';
import { culpritOfEvent } from './culprit.js';
import { displayPath, formatFrame, isInternal, ms, onlyInternals, UNMAPPED } from './frames.js';

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
  // A late stack may show code that ran after the culprit: the report does not name it as one.
  const named = culpritOfEvent(event);
  const culprit = named?.source === 'late' ? undefined : named;
  if (event.state === 'ended') {
    const internals = culprit === undefined && event.stackTiming === 'during' ? onlyInternals(event.stack) : undefined;
    const tail =
      culprit !== undefined
        ? ` — ${describeCulprit(culprit, event, cwd)}`
        : internals === undefined
          ? ''
          : ` — only Node internals on the stack: ${internals}`;
    const before = event.beforeArmed === true ? ' (before the monitor was armed: no stack)' : '';
    return `${head} ended after ${ms(event.durationMs)}${before}${event.exiting === true ? exiting : ''}${tail}${whereTimeWent(event)}\n`;
  }
  const lines = [
    `${head}: event loop blocked for ${ms(event.durationMs)} so far (threshold ${ms(event.thresholdMs)}, ${event.phase})${culprit === undefined ? '' : ` — ${describeCulprit(culprit, event, cwd)}`}`,
  ];
  contextLine(lines, event.context);
  stackLines(lines, event.stack, event.stackTiming, event.truncated === true, event.threadState, cwd, culprit);
  return `${lines.join('\n')}\n`;
}

/** A share of the block's time above which the report says where the time went. */
const NOTABLE_SHARE = 0.2;

/**
 * `; mostly garbage collection: 78% of 412 ms, heap 312 MB in use` when the collector took most of the samples;
 * `; time: indexOrders 51%, renderInvoices 48%` when more than one function took a notable share.
 */
function whereTimeWent(event: BlockEvent): string {
  const profile = event.profile;
  if (profile === undefined) return '';
  if (profile.gc !== undefined && profile.gc.share >= 0.5) {
    const heap = profile.gc.heapUsedMb === undefined ? '' : `, heap ${Math.round(profile.gc.heapUsedMb)} MB in use`;
    return `; mostly garbage collection: ${Math.round(profile.gc.share * 100)}% of ${ms(profile.gc.ms / profile.gc.share)}${heap}`;
  }
  const notable = (profile.top ?? []).filter((e) => e.share >= NOTABLE_SHARE);
  if (notable.length < 2) return '';
  return `; time: ${notable.map((e) => `${e.function} ${Math.round(e.share * 100)}%`).join(', ')}`;
}

/** `loadCatalog (src/c.ts:3) [profiler: 62% of 80 samples]`: the culprit, and how it was found. */
function describeCulprit(culprit: Culprit, event: BlockEvent, cwd: string): string {
  const unmapped = culprit.mapped === false ? `, ${UNMAPPED}` : '';
  const how =
    culprit.source === 'profile' && event.profile !== undefined
      ? ` [profiler: ${Math.round(event.profile.share * 100)}% of ${event.profile.samples} samples]`
      : '';
  return `${culprit.function} (${displayPath(culprit.file, cwd)}:${culprit.line}${unmapped})${how}`;
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

/** A run of at least this many library frames (one package) is shown as one line. */
const ELIDE_RUN = 3;

/** `lodash` for a frame in …/node_modules/lodash/…, `@scope/pkg` for a scoped one; else undefined. */
export function packageOf(file: string): string | undefined {
  const at = file.lastIndexOf(`${sep}node_modules${sep}`);
  if (at < 0) return undefined;
  const parts = file.slice(at + 14).split(sep);
  const name = parts[0]?.startsWith('@') === true ? `${parts[0]}/${parts[1] ?? ''}` : parts[0];
  return name === undefined || name === '' ? undefined : name;
}

function stackLines(
  lines: string[],
  stack: readonly StackFrame[],
  timing: StackTiming,
  truncated: boolean,
  thread: ThreadState | undefined,
  cwd: string,
  culprit?: Culprit,
): void {
  if (timing === 'none') {
    lines.push(
      `    (no stack: the blocked thread did not answer in time — inside one long native call${describeThread(thread)})`,
    );
    return;
  }
  if (timing === 'late')
    lines.push('    (stack taken late, after the thread answered: the culprit may already have returned)');
  // The culprit's frame is always shown, however many library frames sit above it.
  const culpritAt =
    culprit === undefined || culprit.source === 'profile'
      ? -1
      : stack.findIndex((f) => f.function === culprit.function && f.file === culprit.file && f.line === culprit.line);
  let shown = 0;
  let hidden = 0;
  for (let i = 0; i < stack.length; i++) {
    const frame = stack[i];
    if (frame === undefined) continue;
    const pkg = packageOf(frame.file);
    if (pkg !== undefined && i !== culpritAt) {
      let end = i;
      while (end + 1 < stack.length && end + 1 !== culpritAt && packageOf(stack[end + 1]?.file ?? '') === pkg) end++;
      const run = end - i + 1;
      if (run >= ELIDE_RUN) {
        if (shown < SHOWN_FRAMES || culpritAt > end) {
          lines.push(`    … ${run} frames in node_modules/${pkg} …`);
          shown++;
        } else hidden += run;
        i = end;
        continue;
      }
    }
    const mustShow = i === culpritAt;
    if (!mustShow && (shown >= SHOWN_FRAMES || (isInternal(frame) && shown > 0))) {
      hidden++;
      continue;
    }
    // The capture looked past maxFrames for the app's frame (a deep recursion in a library).
    if (frame.skipped !== undefined) lines.push(`    … ${frame.skipped} more frames …`);
    lines.push(`    at ${formatFrame(frame, cwd)}`);
    shown++;
  }
  if (hidden > 0)
    lines.push(`    … ${hidden}${truncated ? '+' : ''} more frame${hidden === 1 && !truncated ? '' : 's'}`);
  else if (truncated) lines.push('    … more frames');
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
