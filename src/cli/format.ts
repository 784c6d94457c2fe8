/** What the command writes to a terminal: the live block report and the summary table. */
import type { LoopwatchEvent } from '../types.js';
import { culpritOfEvent } from '../common/culprit.js';
import { culpritFrame, displayPath, formatFrame, onlyInternals, UNMAPPED } from '../common/frames.js';
import { formatPretty } from '../common/pretty.js';
import { type Attribution, type CulpritSummary, type Summary, threadLabel } from './summary.js';

export interface Style {
  readonly bold: (text: string) => string;
  readonly dim: (text: string) => string;
  readonly red: (text: string) => string;
  readonly yellow: (text: string) => string;
  readonly cyan: (text: string) => string;
}

const plain = (text: string): string => text;
const PLAIN: Style = { bold: plain, dim: plain, red: plain, yellow: plain, cyan: plain };

function sgr(open: number, close: number): (text: string) => string {
  return (text) => `\u001b[${open}m${text}\u001b[${close}m`;
}
const COLOUR: Style = { bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), yellow: sgr(33, 39), cyan: sgr(36, 39) };

/**
 * Colour for a terminal that supports it; plain text for pipes and files. `FORCE_COLOR`
 * (not `0`) forces it on, `NO_COLOR` off — `hasColors()` reads both for a TTY.
 */
export function styleFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): Style {
  const force = env['FORCE_COLOR'];
  if (force !== undefined && force !== '' && force !== '0') return COLOUR;
  if (!stream.isTTY) return PLAIN;
  return typeof stream.hasColors === 'function' && stream.hasColors(env) ? COLOUR : PLAIN;
}

/** `640 ms`, `1,234 ms`, `12.3 s`, `4 min 5 s`, `7 h 38 min`. */
export function duration(ms: number): string {
  if (ms < 10_000) return `${Math.round(ms).toLocaleString('en-US')} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function plural(count: number, word: string, words = `${word}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? word : words}`;
}

/**
 * The worker's own pretty report (the same text `LOOPWATCH_LOG=pretty` writes), with the head
 * line and the culprit frame highlighted and Node's internal frames dimmed.
 */
export function formatLive(event: LoopwatchEvent, cwd: string, style: Style): string {
  const text = formatPretty(event, cwd);
  if (style === PLAIN) return text;
  const named = event.type === 'block' ? culpritOfEvent(event) : undefined;
  const culprit =
    event.type === 'hang'
      ? culpritFrame(event.stack)
      : named?.source === 'stack'
        ? culpritFrame(event.stack)
        : undefined;
  const culpritLine = culprit === undefined ? undefined : `    at ${formatFrame(culprit, cwd)}`;
  const lines = text.replace(/\n$/, '').split('\n');
  return `${lines
    .map((line, i) => {
      if (i === 0)
        return event.type === 'hang'
          ? style.red(style.bold(line))
          : event.state === 'ended'
            ? style.cyan(line)
            : style.yellow(style.bold(line));
      if (line === culpritLine) return style.bold(line);
      if (line.startsWith('    at ') && /\((node:|<anonymous>)/.test(line)) return style.dim(line);
      if (line.startsWith('    (') || line.startsWith('    …')) return style.dim(line);
      return line;
    })
    .join('\n')}\n`;
}

const ATTRIBUTION_NOTE: Record<Attribution, string> = {
  during: '',
  profiler: ' [profiler]',
  late: ' [stack taken late: may be later code]',
  internals: '',
  none: '',
};

function culpritLabel(
  culprit: Pick<CulpritSummary, 'function' | 'file' | 'line' | 'attribution' | 'mapped'>,
  cwd: string,
): string {
  if (culprit.function === null || culprit.file === null) return '(no stack: inside one long native call)';
  if (culprit.attribution === 'internals') {
    const frame = { function: culprit.function, file: culprit.file, line: culprit.line ?? 0, column: 0 };
    return `(only Node internals on the stack: ${onlyInternals([frame]) ?? 'Node internals'}) ${culprit.function} (${culprit.file}${culprit.line === null ? '' : `:${culprit.line}`})`;
  }
  const unmapped = culprit.mapped === false ? `, ${UNMAPPED}` : '';
  // The culprit is the top frame of the app's own code; a stack with none falls back to its top
  // library frame, which must not read as the user's.
  const library = /[\\/]node_modules[\\/]/.test(culprit.file) ? ' [library code: no frame of yours in the stack]' : '';
  return `${culprit.function} (${displayPath(culprit.file, cwd)}:${culprit.line ?? '?'}${unmapped})${ATTRIBUTION_NOTE[culprit.attribution]}${library}`;
}

function phaseText(phases: CulpritSummary['phases']): string {
  if (phases.startup > 0 && phases.running > 0) return `startup ${phases.startup}, running ${phases.running}`;
  return phases.startup > 0 ? 'startup' : 'running';
}

/** How many culprits the terminal table shows; `--json` and the HTML report have them all. */
const TABLE_ROWS = 20;

/** The summary as a table: blocks by culprit, heaviest first. */
export function formatSummary(summary: Summary, cwd: string, style: Style): string {
  const out: string[] = [];
  const processes = summary.processes.length;
  if (summary.blocks === 0) {
    out.push(`loopwatch: no blocks${summary.hangs.length > 0 ? '' : ' recorded'}.`);
  } else {
    const where = processes > 1 ? ` in ${plural(processes, 'process', 'processes')}` : '';
    out.push(
      style.bold(
        `loopwatch: ${plural(summary.blocks, 'block')}${where}, ${duration(summary.totalMs)} blocked in total, worst ${duration(summary.worstMs)}`,
      ),
    );
    const rows = summary.culprits
      .slice(0, TABLE_ROWS)
      .map((c) => [
        String(c.blocks),
        duration(c.totalMs),
        duration(c.worstMs),
        phaseText(c.phases),
        culpritLabel(c, cwd) +
          (c.notEnded > 0 ? ` — ${c.notEnded} not ended` : '') +
          (c.hangs > 0 ? ` — ${plural(c.hangs, 'hang')}` : ''),
      ]);
    const head = ['blocks', 'total', 'worst', 'phase', 'culprit (top frame of your code)'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const line = (cells: string[]): string =>
      `  ${cells
        .map((cell, i) =>
          i === cells.length - 1 ? cell : i < 3 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0),
        )
        .join('  ')}`;
    out.push(style.dim(line(head)));
    for (const row of rows) {
      const last = row.length - 1;
      out.push(line(row.map((cell, i) => (i === last ? style.bold(cell) : cell))));
    }
    // With worker threads in the picture, where the blocked time went, thread by thread.
    if (summary.threads.some((t) => t.thread !== 'main')) {
      const several = processes > 1;
      const parts = summary.threads.map(
        (t) =>
          `${several ? `pid ${t.pid} ` : ''}${threadLabel(t)}: ${plural(t.blocks, 'block')}, ${duration(t.totalMs)}`,
      );
      out.push(`  by thread: ${parts.join('; ')}`);
    }
    if (summary.culprits.length > TABLE_ROWS)
      out.push(style.dim(`  … ${plural(summary.culprits.length - TABLE_ROWS, 'more culprit')} (see --json or --html)`));
    if (summary.notEnded > 0) {
      out.push(
        `  ${plural(summary.notEnded, 'block')} did not end: the process ended (or was killed) during ${summary.notEnded === 1 ? 'it' : 'them'}, or ${summary.notEnded === 1 ? 'it' : 'they'} still last${summary.notEnded === 1 ? 's' : ''}; the duration shown is the last one known`,
      );
    }
  }
  for (const hang of summary.hangs) {
    const where =
      hang.function === null ? '' : ` in ${hang.function} (${displayPath(hang.file ?? '', cwd)}:${hang.line ?? '?'})`;
    const what =
      hang.reason === 'block'
        ? `block #${hang.blockId ?? '?'} reached ${duration(hang.limitMs)}`
        : `did not exit within ${duration(hang.limitMs)}`;
    const thread =
      hang.thread === undefined ? '' : ` ${threadLabel({ thread: hang.thread, threadName: hang.threadName })}`;
    out.push(style.red(`  hang: [pid ${hang.pid}${thread}] ${what}${where} — action ${hang.action}`));
  }
  return `${out.join('\n')}\n`;
}
