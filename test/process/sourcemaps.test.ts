/**
 * TypeScript compiled with source maps: the stack must name the `.ts` file and line,
 * whatever the kind of map and whether Node's own --enable-source-maps is on.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BlockEvent } from '../../src/types.js';
import { describeRun, fixture, ongoingAt, run } from './harness.js';
import { record } from './report.js';

const source = fixture('ts/app.ts');
const culpritLine =
  readFileSync(source, 'utf8')
    .split('\n')
    .findIndex((line) => line.includes('// CULPRIT')) + 1;
let dir = '';

/** Transpiles app.ts the way tsc would (transpileModule: no type-check, fast). */
function compile(outDir: string, options: ts.CompilerOptions): string {
  mkdirSync(outDir, { recursive: true });
  const js = join(outDir, 'app.js');
  const output = ts.transpileModule(readFileSync(join(dir, 'app.ts'), 'utf8'), {
    fileName: join(dir, 'app.ts'),
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, ...options },
  });
  // transpileModule knows no output folder: point the map's sources from outDir back at
  // app.ts, as tsc would (`../app.ts`).
  const fix = (text: string): string => {
    const map = JSON.parse(text) as { sources: string[]; file: string };
    map.sources = [relative(outDir, join(dir, 'app.ts'))];
    map.file = 'app.js';
    return JSON.stringify(map);
  };
  const inline = /(\/\/# sourceMappingURL=data:application\/json;base64,)(\S+)/;
  writeFileSync(
    js,
    output.outputText.replace(
      inline,
      (_, head: string, data: string) =>
        head + Buffer.from(fix(Buffer.from(data, 'base64').toString('utf8'))).toString('base64'),
    ),
  );
  if (output.sourceMapText !== undefined) writeFileSync(`${js}.map`, fix(output.sourceMapText));
  return js;
}

beforeAll(() => {
  // The sources live in a temporary folder: paths come from the map, not from guesses.
  dir = mkdtempSync(join(tmpdir(), 'loopwatch-ts-'));
  copyFileSync(source, join(dir, 'app.ts'));
  writeFileSync(join(dir, 'package.json'), '{"type":"commonjs"}');
});

describe('TypeScript with source maps', () => {
  const variants: [string, ts.CompilerOptions, string[]][] = [
    ['external .map file', { sourceMap: true }, []],
    ['inline map', { inlineSourceMap: true }, []],
    ['external map with --enable-source-maps', { sourceMap: true }, ['--enable-source-maps']],
    [
      'inline map with inline sources and --enable-source-maps',
      { inlineSourceMap: true, inlineSources: true },
      ['--enable-source-maps'],
    ],
  ];
  for (const [name, options, nodeArgs] of variants) {
    it(name, async () => {
      const js = compile(join(dir, name.replace(/\W+/g, '-')), options);
      const result = await run(js, { mode: 'require', nodeArgs, env: { LOOPWATCH_THRESHOLD_MS: '100' } });
      expect(result.code, describeRun(result)).toBe(0);
      const first = ongoingAt(result);
      expect(first, describeRun(result)).toBeDefined();
      const top = first?.stack[0];
      record({
        scenario: `TypeScript, ${name}`,
        culprit: `${top?.function} ${top?.file}:${top?.line}`,
        culpritRight: top?.file === join(dir, 'app.ts') && top.line === culpritLine,
      });
      expect(top?.function).toBe('summarise');
      expect(top?.file, describeRun(result)).toBe(join(dir, 'app.ts'));
      expect(top?.line).toBe(culpritLine);
      expect(top?.column).toBeGreaterThan(0);
      expect(top?.generated?.file).toBe(js);
      expect(first?.stack[1]).toMatchObject({ function: 'handleReport', file: join(dir, 'app.ts') });
    });
  }
});

describe('minified code with a source map that has `names`', () => {
  it('names the functions as the source does, not as the minifier renamed them', async () => {
    // minified/app.min.js: `function e(e){…}function t(){return e(…)}` (see minified/README.md).
    const dir = fixture('minified');
    const culprit =
      readFileSync(join(dir, 'app.src.js'), 'utf8')
        .split('\n')
        .findIndex((line) => line.includes('CULPRIT-LINE')) + 1;
    const result = await run(join(dir, 'app.min.js'), { mode: 'require', env: { LOOPWATCH_THRESHOLD_MS: '100' } });
    expect(result.code, describeRun(result)).toBe(0);
    // The 300 ms block: the longest (a loaded machine may report a short start-up block first).
    const ended = result.events
      .filter((e) => e.state === 'ended')
      .reduce<BlockEvent | undefined>((a, e) => (a === undefined || e.durationMs > a.durationMs ? e : a), undefined);
    expect(ended?.stack[0], describeRun(result)).toMatchObject({
      function: 'checksumInvoiceLines',
      file: join(dir, 'app.src.js'),
      line: culprit,
    });
    expect(ended?.stack[1]).toMatchObject({ function: 'renderInvoicePage', file: join(dir, 'app.src.js') });
  });
});
