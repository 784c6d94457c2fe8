/**
 * Frames of code transformed in memory (vitest, tsx, ts-node): the monitor must not present a
 * generated position as a line of the file on disk. It tells the two apart by V8's offset of
 * the position in the code that ran, and maps the rest on the watched thread.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInThisContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import assert from 'node:assert/strict';
import { saveStackHook } from './stack-hook.js';
import {
  captureExpression,
  decodeFrames,
  decodeRemap,
  remapExpression,
  type RemapRequest,
} from '../../src/worker/capture.js';
import { SourceMapper } from '../../src/worker/sourcemap.js';
import { applyRemap, resolveStack } from '../../src/worker/stack.js';

const dir = mkdtempSync(join(tmpdir(), 'loopwatch-positions-'));
const ON_DISK = ['// what is on disk', 'function culprit() {', '  return probe();', '}', 'culprit();', ''].join('\n');

/** Runs `code` as if loaded from `file` and captures the stack on top of it, as the interrupt does. */
function captureIn(code: string, file: string): ReturnType<typeof decodeFrames>['frames'] {
  (globalThis as { probe?: unknown }).probe = () => (0, eval)(captureExpression(10)) as { f: unknown };
  try {
    const value = runInThisContext(code, { filename: file }) as { f: unknown };
    return decodeFrames(value.f, 10).frames;
  } finally {
    delete (globalThis as { probe?: unknown }).probe;
  }
}

describe('sameCode: is the code that ran the file on disk?', () => {
  const file = join(dir, 'app.js');
  writeFileSync(file, ON_DISK);

  it('yes when the script is the file, and its frames are resolved as they are', () => {
    const frames = captureIn(ON_DISK, file);
    const frame = frames.find((f) => f.function === 'culprit');
    expect(frame).toMatchObject({ line: 3, column: 10 });
    expect(typeof frame?.position).toBe('number');
    const { frames: resolved, transformed } = resolveStack(frames, new SourceMapper(), '/nowhere');
    // (This test file's own frames are listed: vitest transformed it.)
    expect(transformed.map(({ index }) => resolved[index]?.function)).not.toContain('culprit');
    expect(resolved.find((f) => f.function === 'culprit')).toEqual({ function: 'culprit', file, line: 3, column: 10 });
  });

  it('no when the code was transformed (one line less before it): marked mapped: false, listed for the thread', () => {
    const transformed = ON_DISK.replace('// what is on disk\n', '');
    const frames = captureIn(transformed, file);
    const { frames: resolved, transformed: pending } = resolveStack(frames, new SourceMapper(), '/nowhere');
    const index = resolved.findIndex((f) => f.function === 'culprit');
    expect(resolved[index]).toEqual({ function: 'culprit', file, line: 2, column: 10, mapped: false });
    expect(pending).toContainEqual({ index, request: [file, 2, 10] });
  });

  it('yes for type stripping, which keeps every offset (TypeScript run by Node itself)', () => {
    const ts = join(dir, 'strip.ts');
    const source = [
      'interface A { x: number }',
      'function culprit(a: A): unknown {',
      '  return probe();',
      '}',
      'culprit({ x: 1 });',
      '',
    ].join('\n');
    writeFileSync(ts, source);
    const stripped = source
      .replace('interface A { x: number }', ' '.repeat(25))
      .replace('(a: A): unknown', '(a            )');
    const mapper = new SourceMapper();
    const frame = captureIn(stripped, ts).find((f) => f.function === 'culprit');
    assert(frame?.position !== undefined, 'the culprit frame and its position are captured');
    expect(mapper.sameCode(ts, frame.line, frame.column, frame.position)).toBe(true);
  });

  it('unknown when there is no file to compare with', () => {
    expect(new SourceMapper().sameCode(join(dir, 'missing.js'), 1, 1, 0)).toBeUndefined();
    expect(new SourceMapper().sameCode('node:internal/timers', 1, 1, 0)).toBeUndefined();
  });
});

describe('remapExpression: mapping on the watched thread', () => {
  const requests: RemapRequest[] = [
    ['/src/a.ts', 6, 2],
    ['/src/b.ts', 1, 1],
  ];

  it("asks the tool's stack-trace hook (vitest, ts-node) and reads back what it prints", () => {
    const restore = saveStackHook();
    Error.prepareStackTrace = (_error, sites) =>
      `Error\n${sites.map((s) => (s.getFileName() === '/src/a.ts' ? `    at culprit (${s.getFileName()}:${(s.getLineNumber() ?? 0) + 7}:3)` : `    at ${s.getFileName()}:${s.getLineNumber()}:${s.getColumnNumber()}`)).join('\n')}`;
    try {
      const answers = decodeRemap((0, eval)(remapExpression(requests)), requests.length);
      // b.ts comes back as it went: the hook knows no map for it.
      expect(answers).toEqual([['/src/a.ts', 13, 3], null]);
    } finally {
      restore();
    }
  });

  it('answers null for every frame when there is no hook and no source-map cache', () => {
    const restore = saveStackHook();

    delete (Error as { prepareStackTrace?: unknown }).prepareStackTrace;
    try {
      expect(decodeRemap((0, eval)(remapExpression(requests)), 2)).toEqual([null, null]);
    } finally {
      restore();
    }
  });

  it('a hook that throws or prints nonsense leaves the frame unmapped; bad answers are dropped', () => {
    expect(decodeRemap([['/a.ts', 0, 1], ['', 1, 1], 'x', ['/b.ts', 2, 3]], 5)).toEqual([
      null,
      null,
      null,
      ['/b.ts', 2, 3],
      null,
    ]);
    expect(decodeRemap(undefined, 1)).toEqual([null]);
  });

  it('applyRemap puts the answers in place, keeping the generated position; unanswered frames stay mapped: false', () => {
    const frames = [
      { function: 'culprit', file: '/src/a.ts', line: 6, column: 2, mapped: false as const },
      { function: 'other', file: '/src/b.ts', line: 1, column: 1, mapped: false as const },
    ];
    const pending = requests.map((request, index) => ({ index, request }));
    expect(applyRemap(frames, pending, [['file:///src/a.ts', 13, 3], null])).toEqual([
      {
        function: 'culprit',
        file: '/src/a.ts',
        line: 13,
        column: 3,
        generated: { file: '/src/a.ts', line: 6, column: 2 },
      },
      frames[1],
    ]);
    expect(applyRemap(frames, pending, undefined)).toEqual(frames);
  });
});
