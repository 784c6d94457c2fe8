/** From raw V8 frames to the event's stack: paths, source maps, own frames out, phase. */
import { sep } from 'node:path';
import type { Phase, StackFrame } from '../types.js';
import type { RawFrame } from './capture.js';
import { type SourceMapper, toPath } from './sourcemap.js';

export function resolveFrames(raw: readonly RawFrame[], mapper: SourceMapper, ownDir: string): StackFrame[] {
  const own = ownDir.endsWith(sep) ? ownDir : ownDir + sep;
  const frames: StackFrame[] = [];
  for (const [i, frame] of raw.entries()) {
    const file = frame.file === undefined ? '<anonymous>' : toPath(frame.file);
    if (file.startsWith(own)) continue;
    const mapped = mapper.map(file, frame.line, frame.column);
    const base = mapped === undefined
      ? { function: frame.function, file, line: frame.line, column: frame.column }
      : { function: originalName(raw[i + 1], file, mapper) ?? frame.function, ...mapped, generated: { file, line: frame.line, column: frame.column } };
    frames.push(frame.async ? { ...base, async: true } : base);
  }
  return frames;
}

/** A minified function's original name: the map's name at its caller's call site, in the same file. */
function originalName(caller: RawFrame | undefined, file: string, mapper: SourceMapper): string | undefined {
  if (caller?.file === undefined || toPath(caller.file) !== file) return undefined;
  return mapper.nameAt(file, caller.line, caller.column);
}

/** Frames of Node's own entry-point loading: the main module, preloads, the ESM entry job. */
const ENTRY_LOADING = /^node:internal\/(?:modules\/run_main|main\/|process\/pre_execution)/;

/**
 * Whether a blocked stack is inside the loading of the program's entry point. The stack says
 * it precisely: Node's entry runner is at its bottom, for CJS directly and for ESM through
 * V8's async frames (`asyncRunEntryPointWithESMLoader`). Preloads (`-r`, `--import`) count as
 * startup too. Code that runs after a top-level `await` of the entry module has lost those
 * frames and counts as running. Without a
 * (whole) stack, whether the loop has turned is the guess.
 */
export function phaseOf(raw: readonly RawFrame[] | undefined, truncated: boolean, loopTurned: boolean): Phase {
  const guess: Phase = loopTurned ? 'running' : 'startup';
  if (raw === undefined || raw.length === 0) return guess;
  if (raw.some((frame) => frame.file !== undefined && ENTRY_LOADING.test(frame.file))) return 'startup';
  // A truncated stack may hide the entry runner at its bottom.
  return truncated ? guess : 'running';
}
