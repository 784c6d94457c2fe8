/**
 * Test runners that transform sources on the fly (vitest's module runner, ts-node, tsx…) keep
 * the source maps in memory, where the monitor worker cannot read them: the frames it reports
 * for such files carry positions in the generated code. After the block, on the test's own
 * thread, the runner's stack-trace hook can map them — it is installed as
 * `Error.prepareStackTrace` and takes V8 CallSites, so frames are handed to it as objects
 * with the CallSite methods, and the positions read back from what it prints.
 */
import type { StackFrame } from '../types.js';

class FrameSite {
  readonly #frame: StackFrame;

  constructor(frame: StackFrame) {
    this.#frame = frame;
  }

  getFileName(): string {
    return this.#frame.file;
  }
  getScriptNameOrSourceURL(): string {
    return this.#frame.file;
  }
  getLineNumber(): number {
    return this.#frame.line;
  }
  getColumnNumber(): number {
    return this.#frame.column;
  }
  getFunctionName(): string {
    return this.#frame.function;
  }
  getTypeName(): null {
    return null;
  }
  getMethodName(): null {
    return null;
  }
  getThis(): undefined {
    return undefined;
  }
  getFunction(): undefined {
    return undefined;
  }
  getEvalOrigin(): undefined {
    return undefined;
  }
  getPosition(): number {
    return 0;
  }
  getPromiseIndex(): null {
    return null;
  }
  getScriptHash(): string {
    return '';
  }
  getEnclosingLineNumber(): null {
    return null;
  }
  getEnclosingColumnNumber(): null {
    return null;
  }
  isNative(): boolean {
    return false;
  }
  isEval(): boolean {
    return false;
  }
  isToplevel(): boolean {
    return true;
  }
  isConstructor(): boolean {
    return false;
  }
  isAsync(): boolean {
    return false;
  }
  isPromiseAll(): boolean {
    return false;
  }
  toString(): string {
    return `${this.#frame.function} (${this.#frame.file}:${this.#frame.line}:${this.#frame.column})`;
  }
}

const POSITION = /\(?((?:file:\/\/)?[^()]+):(\d+):(\d+)\)?$/;

/** Maps each frame through the installed stack-trace hook; a frame it cannot read back stays as it was. */
export function remapFrames(frames: readonly StackFrame[]): StackFrame[] {
  if (typeof Error.prepareStackTrace !== 'function') return [...frames];
  return frames.map((frame) => {
    // A frame the monitor mapped already (through the file's map or this same hook) is final.
    if (frame.file === '' || frame.line < 1 || frame.generated !== undefined) return frame;
    try {
      const printed: unknown = Error.prepareStackTrace(new Error('loopwatch'), [new FrameSite(frame)]);
      if (typeof printed !== 'string') return frame;
      const line = printed.split('\n').find((l) => l.trimStart().startsWith('at '));
      const match = line === undefined ? null : POSITION.exec(line.trim().replace(/^at\s+/, ''));
      if (match === null) return frame;
      const [, printedFile = '', printedLine, printedColumn] = match;
      const file = printedFile.startsWith('file://') ? decodeURIComponent(new URL(printedFile).pathname) : printedFile;
      const { mapped: _unmapped, ...rest } = frame;
      const mappedLine = Number(printedLine);
      const column = Number(printedColumn);
      // The hook gives a frame it knows no map for back as it was: still not mapped.
      if (file === frame.file && mappedLine === frame.line && column === frame.column) return frame;
      return {
        ...rest,
        file,
        line: mappedLine,
        column,
        generated: { file: frame.file, line: frame.line, column: frame.column },
      };
    } catch {
      return frame;
    }
  });
}
