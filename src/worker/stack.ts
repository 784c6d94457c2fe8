/** From raw V8 frames to the event's stack: paths, source maps, own frames out, phase. */
import { sep } from 'node:path';
import type { Phase, StackFrame } from '../types.js';
import type { RawFrame, RemapAnswer, RemapRequest } from './capture.js';
import { type SourceMapper, toPath } from './sourcemap.js';

/** A frame whose code was transformed in memory, to be mapped on the watched thread. */
export interface Transformed {
  /** Its index in the resolved frames. */
  readonly index: number;
  /** Its generated position, with the script name as V8 gave it. */
  readonly request: RemapRequest;
}

/**
 * From raw V8 frames to the event's frames: paths, loopwatch's own frames dropped, and each
 * position mapped through the file's source map on disk — when the code that ran is that file.
 * A frame whose code was transformed in memory keeps its generated position, marked
 * `mapped: false`, and is listed in `transformed` for `applyRemap()`.
 */
export function resolveStack(
  raw: readonly RawFrame[],
  mapper: SourceMapper,
  ownDir: string,
): { frames: StackFrame[]; transformed: Transformed[] } {
  const own = ownDir.endsWith(sep) ? ownDir : ownDir + sep;
  const frames: StackFrame[] = [];
  const transformed: Transformed[] = [];
  for (const [i, frame] of raw.entries()) {
    const file = frame.file === undefined ? '<anonymous>' : toPath(frame.file);
    if (file.startsWith(own)) continue;
    if (
      frame.position !== undefined &&
      frame.file !== undefined &&
      mapper.sameCode(file, frame.line, frame.column, frame.position) === false
    ) {
      transformed.push({ index: frames.length, request: [frame.file, frame.line, frame.column] });
      const base = {
        function: frame.function,
        file,
        line: frame.line,
        column: frame.column,
        mapped: false as const,
        ...(frame.skipped === undefined ? {} : { skipped: frame.skipped }),
      };
      frames.push(frame.async ? { ...base, async: true } : base);
      continue;
    }
    const mapped = mapper.map(file, frame.line, frame.column);
    const base =
      mapped === undefined
        ? { function: frame.function, file, line: frame.line, column: frame.column }
        : {
            function: originalName(raw[i + 1], file, mapper) ?? frame.function,
            ...mapped,
            generated: { file, line: frame.line, column: frame.column },
          };
    const marked = frame.skipped === undefined ? base : { ...base, skipped: frame.skipped };
    frames.push(frame.async ? { ...marked, async: true } : marked);
  }
  return { frames, transformed };
}

export function resolveFrames(raw: readonly RawFrame[], mapper: SourceMapper, ownDir: string): StackFrame[] {
  return resolveStack(raw, mapper, ownDir).frames;
}

/**
 * Puts the watched thread's answers (see StackSource.remap) in place of the transformed
 * frames' generated positions; a frame without an answer stays `mapped: false`.
 */
export function applyRemap(
  frames: readonly StackFrame[],
  transformed: readonly Transformed[],
  answers: readonly RemapAnswer[] | undefined,
): StackFrame[] {
  if (answers === undefined) return [...frames];
  const out = [...frames];
  transformed.forEach(({ index }, i) => {
    const frame = out[index];
    const answer = answers[i];
    if (frame === undefined || answer === undefined || answer === null) return;
    const [file, line, column] = answer;
    const { mapped: _unmapped, ...rest } = frame;
    out[index] = {
      ...rest,
      file: toPath(file),
      line,
      column,
      generated: { file: frame.file, line: frame.line, column: frame.column },
    };
  });
  return out;
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
