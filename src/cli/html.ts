/**
 * The HTML report: one self-contained file (inline CSS and JS, no network) that shows a run's
 * blocks — a timeline, the culprits, and per culprit its stack, the code around it and a
 * flame-style view of the stacks that blocked. The data is aggregated here (a block is five
 * numbers on the timeline; stacks are merged into trees) so that 100,000 events make a file
 * that opens fast; the page renders the details of a culprit only when it is opened.
 */
import { closeSync, fstatSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { ProfileFlame, StackFrame } from '../types.js';
import { displayPath, isInternal } from '../common/frames.js';
import { packageVersion } from '../common/version.js';
import type { CulpritData, FlameNode, ReportData, StackRow, TimelineFlags } from '../browser/report-data.js';
import { CLIENT_CSS } from './html-style.js';
import { type Analysis, type BlockRecord, groupKey, threadLabel } from './summary.js';

export interface HtmlOptions {
  readonly cwd: string;
  /** What was run, or which files were read: the report's heading. */
  readonly title: string;
  readonly version?: string | undefined;
  /** Culprits that get a code excerpt (each reads one source file). */
  readonly excerpts?: number;
  /** The run's start and end (epoch ms), when known: the timeline spans the whole run. */
  readonly span?: { readonly startMs: number; readonly endMs: number } | undefined;
}

const { STARTUP, NOT_ENDED, HANG }: TimelineFlags = { STARTUP: 1, NOT_ENDED: 2, HANG: 4 };

/** Tree nodes under this share of their culprit's time are folded into their parent. */
const FLAME_MIN_SHARE = 0.002;
const FLAME_MAX_DEPTH = 64;
/** Links to the `.cpuprofile` files of a culprit's longest blocks. */
const PROFILE_LINKS = 5;
const EXCERPT_CONTEXT = 3;
const MAX_SOURCE_BYTES = 2 * 1024 * 1024;

/**
 * JSON that can sit inside `<script type="application/json">`: `<`, `>` and `&` escaped (so
 * no `</script>` or `<!--` can end or change the element), and U+2028/U+2029 too.
 */
function embedJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

class Strings {
  readonly list: string[] = [];
  readonly #index = new Map<string, number>();
  id(text: string): number {
    let i = this.#index.get(text);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(text);
      this.#index.set(text, i);
    }
    return i;
  }
}

function frameName(frame: StackFrame, cwd: string): string {
  return frame.line > 0
    ? `${frame.function} ${displayPath(frame.file, cwd)}:${frame.line}`
    : `${frame.function} ${displayPath(frame.file, cwd)}`;
}

interface MutableNode {
  name: number;
  total: number;
  children: Map<number, MutableNode>;
}

/** A sampled node's name: `(garbage collector)` and `(program)` have no file. */
function sampledName(node: ProfileFlame, cwd: string): string {
  if (node.file === undefined) return node.function;
  return `${node.function} ${displayPath(node.file, cwd)}:${node.line ?? 0}`;
}

/**
 * Merges a culprit's blocks into one tree, outermost frame at the root, weighted by blocked
 * time. A block with the profiler's samples adds its sampled call tree (scaled to its duration,
 * so a block that spent half its time in each of two functions shows both); a block without
 * adds its one stack, for its whole duration.
 */
function flameOf(blocks: readonly BlockRecord[], strings: Strings, cwd: string): FlameNode {
  const root: MutableNode = { name: strings.id('all blocks'), total: 0, children: new Map() };
  const childOf = (node: MutableNode, name: number): MutableNode => {
    let child = node.children.get(name);
    if (child === undefined) {
      child = { name, total: 0, children: new Map() };
      node.children.set(name, child);
    }
    return child;
  };
  const addSampled = (into: MutableNode, node: ProfileFlame, scale: number, depth: number): void => {
    if (depth >= FLAME_MAX_DEPTH) return;
    for (const child of node.children ?? []) {
      const target = childOf(into, strings.id(sampledName(child, cwd)));
      target.total += child.ms * scale;
      addSampled(target, child, scale, depth + 1);
    }
  };
  for (const block of blocks) {
    root.total += block.durationMs;
    if (block.flame !== undefined && block.flame.ms > 0) {
      addSampled(root, block.flame, block.durationMs / block.flame.ms, 0);
      continue;
    }
    let node = root;
    const frames = block.stack.slice(0, FLAME_MAX_DEPTH);
    for (let i = frames.length - 1; i >= 0; i--) {
      node = childOf(node, strings.id(frameName(frames[i] as StackFrame, cwd)));
      node.total += block.durationMs;
    }
  }
  const min = root.total * FLAME_MIN_SHARE;
  const freeze = (node: MutableNode): FlameNode => [
    node.name,
    Math.round(node.total * 10) / 10,
    [...node.children.values()]
      .filter((c) => c.total >= min)
      .sort((a, b) => b.total - a.total)
      .map(freeze),
  ];
  return freeze(root);
}

interface Source {
  readonly lines: string[];
  readonly modifiedMs: number;
}

/**
 * A few lines around the culprit's line, read now from its source file when it is there (only
 * source text: no values of the running program). `changed` when the file was modified after
 * the block, so that its lines may have moved.
 */
function excerptOf(
  frame: StackFrame | undefined,
  blockedAtMs: number,
  cache: Map<string, Source | undefined>,
): { first: number; mark: number; lines: string[]; changed: boolean } | undefined {
  // A line of code transformed in memory is not a line of the file on disk: show no excerpt.
  if (frame === undefined || frame.mapped === false || !isAbsolute(frame.file) || frame.line < 1) return undefined;
  if (!cache.has(frame.file)) {
    let source: Source | undefined;
    try {
      const fd = openSync(frame.file, 'r');
      try {
        const stat = fstatSync(fd);
        if (stat.isFile() && stat.size <= MAX_SOURCE_BYTES)
          source = { lines: readFileSync(fd, 'utf8').split(/\r?\n/), modifiedMs: stat.mtimeMs };
      } finally {
        closeSync(fd);
      }
    } catch {
      // Not readable here (another machine's path, deleted, no permission): no excerpt.
    }
    cache.set(frame.file, source);
  }
  const source = cache.get(frame.file);
  if (source === undefined || frame.line > source.lines.length) return undefined;
  const first = Math.max(1, frame.line - EXCERPT_CONTEXT);
  const last = Math.min(source.lines.length, frame.line + EXCERPT_CONTEXT);
  // Long minified lines would swamp the page: cut them.
  const lines = source.lines.slice(first - 1, last).map((l) => (l.length > 240 ? `${l.slice(0, 240)}…` : l));
  return { first, mark: frame.line, lines, changed: source.modifiedMs > blockedAtMs };
}

/** The report's data, as the page reads it. */
function reportData(analysis: Analysis, options: HtmlOptions): ReportData {
  const { cwd } = options;
  const strings = new Strings();
  const { summary, blocks, groups } = analysis;
  const pids = summary.processes.map((p) => p.pid);
  // One timeline row per thread of each process.
  const lanes = summary.threads.map((t) => ({ pid: t.pid, thread: threadLabel(t) }));
  const laneIndex = new Map(summary.threads.map((t, i) => [`${t.pid}:${t.thread}`, i]));
  const first = blocks[0]?.startMs;
  const t0 = options.span === undefined ? (first ?? 0) : Math.min(options.span.startMs, first ?? Infinity);
  const s: number[] = [];
  const d: number[] = [];
  const g: number[] = [];
  const f: number[] = [];
  const p: number[] = [];
  const keys = groups.map((group) => group.key);
  const keyIndex = new Map(keys.map((k, i) => [k, i]));
  for (const block of blocks) {
    s.push(Math.round((block.startMs - t0) * 10) / 10);
    d.push(Math.round(block.durationMs * 10) / 10);
    g.push(keyIndex.get(groupKey(block.culprit, block.attribution)) ?? 0);
    f.push(
      (block.phase === 'startup' ? STARTUP : 0) | (block.ended ? 0 : NOT_ENDED) | (block.hang === undefined ? 0 : HANG),
    );
    p.push(laneIndex.get(`${block.pid}:${block.thread}`) ?? 0);
  }
  const excerpts = options.excerpts ?? 100;
  const sources = new Map<string, Source | undefined>();
  const firstBlockMs = new Map<string, number>();
  for (const block of blocks)
    if (!firstBlockMs.has(groupKey(block.culprit, block.attribution)))
      firstBlockMs.set(groupKey(block.culprit, block.attribution), block.startMs);
  const blocksOf = new Map<string, BlockRecord[]>();
  for (const block of blocks) {
    const key = groupKey(block.culprit, block.attribution);
    const list = blocksOf.get(key) ?? [];
    list.push(block);
    blocksOf.set(key, list);
  }
  const culprits = groups.map((group, i): CulpritData => {
    const own = blocksOf.get(group.key) ?? [];
    const profileFiles = own
      .filter((block) => block.profileFile !== undefined)
      .sort((a, b) => b.durationMs - a.durationMs)
      .slice(0, PROFILE_LINKS)
      .map((block) => ({ file: block.profileFile ?? '', ms: Math.round(block.durationMs * 10) / 10 }));
    const c = summary.culprits[i];
    return {
      fn: group.culprit?.function ?? null,
      file: group.culprit === undefined ? null : displayPath(group.culprit.file, cwd),
      line: group.culprit?.line ?? null,
      ...(group.culprit?.mapped === false ? { unmapped: true as const } : {}),
      how: group.attribution,
      blocks: group.blocks,
      total: Math.round(group.totalMs * 10) / 10,
      worst: Math.round(group.worstMs * 10) / 10,
      startup: group.phases.startup,
      running: group.phases.running,
      notEnded: group.notEnded,
      hangs: group.hangs,
      pids: c?.pids ?? [],
      stacks: group.stacks.size,
      stack: (c?.stack ?? []).map((frame): StackRow => [
        frame.function,
        displayPath(frame.file, cwd),
        frame.line,
        frame.column,
        isInternal(frame) ? 1 : 0,
      ]),
      excerpt: i < excerpts ? (excerptOf(group.culprit, firstBlockMs.get(group.key) ?? 0, sources) ?? null) : null,
      flame: flameOf(own, strings, cwd),
      sampled: own.some((block) => block.flame !== undefined),
      profileFiles,
    };
  });
  return {
    v: 1,
    title: options.title,
    version: options.version ?? null,
    generatedAt: new Date().toISOString(),
    t0: blocks.length === 0 ? null : new Date(t0).toISOString(),
    /** How long the timeline is, ms: the run's length, or 0 to end with the last block. */
    span: options.span === undefined ? 0 : options.span.endMs - t0,
    blocks: summary.blocks,
    notEnded: summary.notEnded,
    total: summary.totalMs,
    worst: summary.worstMs,
    processes: summary.processes,
    sources: summary.sources.map((src) => ({
      name: src.name,
      events: src.events,
      malformed: src.malformedLines.length,
      truncated: src.truncatedLastLine,
    })),
    hangs: summary.hangs.map((h) => ({ ...h, file: h.file === null ? null : displayPath(h.file, cwd) })),
    pids,
    lanes,
    timeline: { s, d, g, f, p },
    culprits,
    strings: strings.list,
  };
}

let script: string | undefined;

/**
 * The page's script: src/browser/report.ts, compiled for the browser by the build into
 * dist/browser/report.js (scripts/browser.mjs). Read once.
 */
function clientScript(): string {
  script ??= readFileSync(join(__dirname, '..', 'browser', 'report.js'), 'utf8');
  return script;
}

function renderHtml(analysis: Analysis, options: HtmlOptions): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<link rel="icon" href="data:,">
<title>loopwatch report</title>
<style>${CLIENT_CSS}</style>
</head>
<body>
<noscript><p>This report draws itself with JavaScript: open it in a browser with scripts enabled.</p></noscript>
<main id="app"></main>
<script type="application/json" id="loopwatch-data">${embedJson(reportData(analysis, options))}</script>
<script>${clientScript()}</script>
</body>
</html>
`;
}

export function writeHtmlReport(file: string, analysis: Analysis, options: HtmlOptions): void {
  writeFileSync(file, renderHtml(analysis, { version: packageVersion(), ...options }));
}
