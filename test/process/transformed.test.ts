/**
 * Code transformed in memory — by vitest's module runner, by a transpiling loader such as tsx
 * or ts-node — runs under the name of its source file, but with other lines: its positions
 * are not lines of the file on disk. The monitor must map them through the maps the tool
 * holds on the blocked thread, or mark them `mapped: false` — never show a generated line as
 * the file's (the HTML report used to show an unrelated doc comment as the culprit's code).
 */
import { cpSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BlockEvent, LoopwatchEvent } from '../../src/types.js';
import { describeRun, fixture, NODE, ROOT, run, runCli } from './harness.js';

function lineOf(file: string, marker: string): number {
  return (
    readFileSync(file, 'utf8')
      .split('\n')
      .findIndex((line) => line.includes(marker)) + 1
  );
}

/**
 * The file's block events. One torn line was seen once in CI (an ~8 KB event cut at 7,612
 * bytes), most likely a fork that vitest killed in the middle of its write (Linux ends a write
 * to a file short when a fatal signal is pending; not reproduced). `loopwatch report` counts
 * such a line as malformed and goes on, and so does this, allowing one.
 */
function blocks(file: string): BlockEvent[] {
  const parsed = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line): LoopwatchEvent | undefined => {
      try {
        return JSON.parse(line) as LoopwatchEvent;
      } catch {
        return undefined;
      }
    });
  expect(parsed.filter((event) => event === undefined).length, 'torn lines in the events file').toBeLessThanOrEqual(1);
  return parsed.filter((event): event is BlockEvent => event?.type === 'block');
}

describe('a transpiling loader (TypeScript compiled in memory when required, as ts-node and tsx do)', () => {
  let dir = '';
  let culpritLine = 0;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'loopwatch-in-memory-'));
    cpSync(fixture('ts/app.ts'), join(dir, 'app.ts'));
    writeFileSync(join(dir, 'package.json'), '{"type":"commonjs"}');
    culpritLine = lineOf(join(dir, 'app.ts'), '// CULPRIT');
  });

  it('with its map in Node’s cache (source maps on, tsx’s way): the culprit at its .ts line', async () => {
    const result = await run(fixture('ts/in-memory.cjs'), {
      mode: 'require',
      args: [join(dir, 'app.ts')],
      env: { FIXTURE_SOURCE_MAPS: 'on', LOOPWATCH_THRESHOLD_MS: '100' },
    });
    expect(result.code, describeRun(result)).toBe(0);
    // (Loading typescript at start-up is a block of its own.)
    const ongoing = result.events.find(
      (event) => event.state === 'ongoing' && event.stack.some((frame) => frame.function === 'summarise'),
    );
    expect(ongoing?.stack[0], describeRun(result)).toMatchObject({
      function: 'summarise',
      file: join(dir, 'app.ts'),
      line: culpritLine,
    });
    expect(ongoing?.stack[0]?.generated?.line).not.toBe(culpritLine);
    expect(ongoing?.stack[0]?.mapped).toBeUndefined();
  });

  it('with no map it can reach: the frame says mapped: false, and no report shows its line as the file’s', async () => {
    const result = await run(fixture('ts/in-memory.cjs'), {
      mode: 'require',
      args: [join(dir, 'app.ts')],
      env: { FIXTURE_SOURCE_MAPS: 'off', LOOPWATCH_THRESHOLD_MS: '100' },
    });
    expect(result.code, describeRun(result)).toBe(0);
    // (Loading typescript at start-up is a block of its own.)
    const ongoing = result.events.find(
      (event) => event.state === 'ongoing' && event.stack.some((frame) => frame.function === 'summarise'),
    );
    const top = ongoing?.stack[0];
    expect(top, describeRun(result)).toMatchObject({ function: 'summarise', file: join(dir, 'app.ts'), mapped: false });
    // The generated line: types removed, so it is above the culprit's line in app.ts.
    expect(top?.line).toBeLessThan(culpritLine);
    expect(top?.generated).toBeUndefined();
    // Frames of files that ran as they are on disk are not marked.
    expect(
      ongoing?.stack.filter((frame) => frame.file.startsWith('node:')).every((frame) => frame.mapped === undefined),
    ).toBe(true);

    const events = join(dir, 'unmapped.ndjson');
    writeFileSync(
      events,
      `${result.events
        .filter((event) => event.stack.some((frame) => frame.function === 'summarise'))
        .map((event) => JSON.stringify(event))
        .join('\n')}\n`,
    );
    const report = await runCli(['report', events, '--json'], dir);
    const [culprit] = (JSON.parse(report.output) as { culprits: { function: string; line: number; mapped?: false }[] })
      .culprits;
    expect(culprit).toMatchObject({ function: 'summarise', line: top?.line, mapped: false });
    const text = await runCli(['report', events], dir);
    expect(text.output).toContain(`summarise (app.ts:${top?.line}, generated code, not source-mapped)`);
  });
});

describe('vitest on a TypeScript project, under loopwatch run (no plugin)', () => {
  it('names the culprit at its .ts line in the events file, the summary and the HTML report', async () => {
    const project = mkdtempSync(join(tmpdir(), 'loopwatch-vitest-ts-'));
    cpSync(fixture('vitest-ts-project'), project, { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(project, 'node_modules'), 'dir');
    const source = join(project, 'src', 'invoice.ts');
    const culpritLine = lineOf(source, 'CULPRIT-LINE');
    const events = join(project, 'events.ndjson');
    const html = join(project, 'report.html');

    const { code, output } = await runCli(
      ['run', '--events', events, '--html', html, '--', NODE, join('node_modules', 'vitest', 'vitest.mjs'), 'run'],
      project,
    );
    expect(code, output).toBe(0);

    const ours = blocks(events).filter((event) => event.stack.some((frame) => frame.function === 'totalInvoice'));
    // (vitest may end the fork before its `ended` event is written: issue 17, item 5.)
    expect(
      ours.map((event) => event.state),
      output,
    ).toContain('ongoing');
    for (const event of ours) {
      const frame = event.stack.find((f) => f.function === 'totalInvoice');
      expect(frame, JSON.stringify(event)).toMatchObject({ file: source, line: culpritLine });
      // Mapped through vitest's own maps, on the test's thread: the generated line differs.
      expect(frame?.generated?.line).not.toBe(culpritLine);
      expect(frame?.mapped).toBeUndefined();
    }
    expect(output).toMatch(new RegExp(`totalInvoice \\(src/invoice\\.ts:${culpritLine}\\)`));

    // The HTML report shows the culprit's own line of code.
    const data = /<script type="application\/json" id="loopwatch-data">(.*?)<\/script>/s.exec(
      readFileSync(html, 'utf8'),
    )?.[1];
    const culprits =
      (
        JSON.parse(data ?? '{}') as {
          culprits?: {
            fn: string | null;
            line: number | null;
            excerpt: { first: number; mark: number; lines: string[] } | null;
          }[];
        }
      ).culprits ?? [];
    const culprit = culprits.find((c) => c.fn === 'totalInvoice');
    expect(culprit, JSON.stringify(culprits.map((c) => c.fn))).toMatchObject({ line: culpritLine });
    expect(culprit?.excerpt?.mark).toBe(culpritLine);
    const excerpt = culprit?.excerpt;
    expect(excerpt?.lines[culpritLine - excerpt.first]).toContain('// CULPRIT-LINE');
  });
});
