/** `loopwatch report`: the summary of recorded events files, as a table and as JSON. */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe as group, expect, it } from 'vitest';
import { formatSummary, styleFor } from '../../src/cli/format.js';
import { analyse, type Summary } from '../../src/cli/summary.js';
import { STACKS, block, frame, hang, ndjson } from './events.js';
import { cli, describe, tempDir } from './helpers.js';

/** Two processes that both number their blocks from 1, a killed one, a startup block. */
function recording(): { a: string; b: string } {
  const a = ndjson([
    ...block(100, 1, 400, STACKS.render),
    ...block(100, 2, 150, STACKS.parse, { phase: 'startup' }),
    ...block(100, 3, 900, STACKS.renderOther),
    ...block(100, 4, 120, STACKS.lib),
  ]);
  const b = ndjson([
    ...block(200, 1, 250, STACKS.render), // same id as pid 100's first block: a different block
    ...block(200, 2, 1500, STACKS.render, { ended: false }),
    hang(200, 2, 1500, STACKS.render),
  ]);
  return { a, b };
}

group('the summary table', () => {
  it('tells threads apart: blocks by thread, and a worker thread named in the table and the hang line', () => {
    const onWorker = (events: ReturnType<typeof block>) =>
      events.map((e) => ({ ...e, thread: 'worker 4' as const, threadName: 'resize' }));
    const events = [
      ...block(300, 1, 400, STACKS.render),
      ...onWorker(block(300, 2, 900, STACKS.parse)),
      {
        ...hang(300, 2, 900, STACKS.parse),
        action: 'none' as const,
        thread: 'worker 4' as const,
        threadName: 'resize',
      },
    ];
    const summary = analyse([
      { name: 'x', events, malformedLines: [], otherLines: 0, lines: 3, truncatedLastLine: false },
    ]).summary;
    expect(summary.blocks).toBe(2);
    expect(summary.threads).toEqual([
      { pid: 300, thread: 'main', blocks: 1, totalMs: 400 },
      { pid: 300, thread: 'worker 4', threadName: 'resize', blocks: 1, totalMs: 900 },
    ]);
    const text = formatSummary(summary, '/srv/app', styleFor(process.stdout, { NO_COLOR: '1' }));
    expect(text).toContain('by thread: main: 1 block, 400 ms; worker 4 "resize": 1 block, 900 ms');
    expect(text).toContain('hang: [pid 300 worker 4 "resize"] block #2 reached 900 ms');
    // A main-thread-only recording reads as before.
    const plain = analyse([
      {
        name: 'y',
        events: block(301, 1, 400, STACKS.render),
        malformedLines: [],
        otherLines: 0,
        lines: 2,
        truncatedLastLine: false,
      },
    ]).summary;
    expect(formatSummary(plain, '/srv/app', styleFor(process.stdout, { NO_COLOR: '1' }))).not.toContain('by thread');
  });

  it('one row per culprit function, whichever line of its loop each stack was taken at; anonymous ones by line', () => {
    const at = (fn: string, line: number) => [
      frame(fn, '/srv/app/src/report.js', line),
      frame('next', '/srv/app/src/jobs.js', 49),
    ];
    const events = [
      ...block(300, 1, 505, at('renderReport', 13)),
      ...block(300, 2, 507, at('renderReport', 15)),
      ...block(300, 3, 120, at('<anonymous>', 30)),
      ...block(300, 4, 110, at('<anonymous>', 60)),
    ];
    const { culprits } = analyse([
      { name: 'x', events, malformedLines: [], otherLines: 0, lines: events.length, truncatedLastLine: false },
    ]).summary;
    expect(culprits.map((c) => [c.function, c.line, c.blocks, c.totalMs])).toEqual([
      // Named after its longest block's line.
      ['renderReport', 15, 2, 1012],
      ['<anonymous>', 30, 1, 120],
      ['<anonymous>', 60, 1, 110],
    ]);
  });

  it('never shows a node_modules frame as the top frame of your code: a stack of library code only says so', () => {
    const events = [
      ...block(300, 1, 400, [
        frame('walk', '/srv/app/node_modules/lib/index.js', 9),
        frame('processTimers', 'node:internal/timers', 519),
      ]),
      ...block(300, 2, 200, STACKS.render),
    ];
    const out = formatSummary(
      analyse([
        { name: 'x', events, malformedLines: [], otherLines: 0, lines: events.length, truncatedLastLine: false },
      ]).summary,
      '/srv/app',
      styleFor(process.stderr, { NO_COLOR: '1' }),
    );
    const rows = out.split('\n').filter((l) => /^\s+\d+\s/.test(l));
    expect(rows[0]).toMatch(
      /walk \(node_modules\/lib\/index\.js:9\) \[library code: no frame of yours in the stack\]$/,
    );
    expect(rows[1]).toMatch(/renderInvoice \(src\/invoice\.js:42\)$/);
  });
});

group('the canary', () => {
  it("a test integration's deliberate block (context loopwatch.canary) is left out of what run and report read", async () => {
    const canary = block(400, 1, 130, [frame('loopwatchCanary', 'loopwatch-canary.js', 1)]).map((e) => ({
      ...e,
      context: { attributes: { 'loopwatch.canary': true } },
    }));
    const dir = tempDir();
    writeFileSync(join(dir, 'e.ndjson'), ndjson([...canary, ...block(400, 2, 300, STACKS.render)]));
    const result = await cli(['report', join(dir, 'e.ndjson')]);
    expect(result.code, describe(result)).toBe(0);
    expect(result.stdout).toContain('loopwatch: 1 block, 300 ms blocked in total, worst 300 ms');
    expect(result.stdout).not.toContain('loopwatchCanary');
  });
});

group('loopwatch report', () => {
  it('groups blocks of several files and processes by culprit, heaviest first', async () => {
    const dir = tempDir();
    const { a, b } = recording();
    writeFileSync(join(dir, 'a.ndjson'), a);
    writeFileSync(join(dir, 'b.ndjson'), b);
    const result = await cli(['report', join(dir, 'a.ndjson'), join(dir, 'b.ndjson')]);
    expect(result.code, describe(result)).toBe(0);
    const out = result.stdout;
    expect(out).toContain('loopwatch: 6 blocks in 2 processes, 3,320 ms blocked in total, worst 1,500 ms');
    const rows = out.split('\n').filter((l) => /^\s+\d+\s/.test(l));
    expect(rows[0]).toMatch(
      /^\s+4\s+3,050 ms\s+1,500 ms\s+running\s+renderInvoice \(\/srv\/app\/src\/invoice\.js:42\) — 1 not ended — 1 hang$/,
    );
    expect(rows[1]).toMatch(/^\s+1\s+150 ms\s+150 ms\s+startup\s+loadConfig \(\/srv\/app\/src\/config\.js:3\)$/);
    // node_modules frames are not the culprit: the app's caller is.
    expect(rows[2]).toMatch(/search \(\/srv\/app\/src\/search\.js:21\)/);
    expect(out).toContain('1 block did not end');
    expect(out).toMatch(
      /hang: \[pid 200\] block #2 reached 1,500 ms in renderInvoice \(\/srv\/app\/src\/invoice\.js:42\) — action kill/,
    );
    expect(result.stderr).toBe('');
  });

  it('--json prints the documented summary; stdin works with -', async () => {
    const { a, b } = recording();
    const result = await cli(['report', '--json', '-'], { input: a + b });
    expect(result.code, describe(result)).toBe(0);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary.version).toBe(1);
    expect(summary.blocks).toBe(6);
    expect(summary.notEnded).toBe(1);
    expect(summary.processes.map((p) => p.pid)).toEqual([100, 200]);
    expect(summary.sources).toEqual([{ name: 'stdin', events: 12, malformedLines: [], truncatedLastLine: false }]);
    const [top] = summary.culprits;
    expect(top).toMatchObject({
      function: 'renderInvoice',
      file: '/srv/app/src/invoice.js',
      line: 42,
      attribution: 'during',
      blocks: 4,
      totalMs: 3050,
      worstMs: 1500,
      notEnded: 1,
      hangs: 1,
      pids: [100, 200],
      phases: { startup: 0, running: 4 },
    });
    expect(top?.stack[0]?.function).toBe('renderInvoice');
    expect(summary.hangs).toEqual([
      expect.objectContaining({ pid: 200, blockId: 2, reason: 'block', action: 'kill', function: 'renderInvoice' }),
    ]);
  });

  it('skips malformed lines and says which; a cut-off last line is tolerated', async () => {
    const dir = tempDir();
    const file = join(dir, 'events.ndjson');
    const good = ndjson(block(300, 1, 200, STACKS.render));
    const cut = JSON.stringify(block(300, 2, 200, STACKS.render)[0]).slice(0, 40);
    writeFileSync(file, `${good}not json\n{"type":"block","id":"x"}\n\n${good}${cut}`);
    const result = await cli(['report', file]);
    expect(result.code, describe(result)).toBe(0);
    expect(result.stderr).toBe(
      `loopwatch: ${file}: skipped 2 malformed lines (lines 3, 4); the last line was cut short (the writer ended mid-line) and was skipped\n`,
    );
    expect(result.stdout).toContain('loopwatch: 1 block, 200 ms blocked in total');
  });

  it('fails with one line and status 1 for a missing, unreadable or foreign file; 2 for usage errors', async () => {
    const dir = tempDir();
    const foreign = join(dir, 'notes.txt');
    writeFileSync(foreign, 'hello\nworld\n');
    const locked = join(dir, 'locked.ndjson');
    writeFileSync(locked, ndjson(block(1, 1, 200, STACKS.render)));
    chmodSync(locked, 0o000);
    const cases: [string[], number, string][] = [
      [['report', join(dir, 'missing.ndjson')], 1, `cannot read ${join(dir, 'missing.ndjson')}: no such file`],
      [['report', dir], 1, `cannot read ${dir}: not a file`],
      [['report', foreign], 1, `${foreign} holds no loopwatch events (2 lines, none of them an event`],
      [['report', '--csv', foreign], 2, 'unknown option --csv'],
      [['report', '-', '-'], 2, 'stdin (-) can be read only once'],
    ];
    // root reads any file whatever its mode: check the unreadable case only where it applies.
    if (process.getuid?.() !== 0) cases.push([['report', locked], 1, `cannot read ${locked}: permission denied`]);
    for (const [args, status, message] of cases) {
      const result = await cli(args);
      expect(result.code, `${args.join(' ')}\n${describe(result)}`).toBe(status);
      expect(result.stderr).toContain(`loopwatch: ${message}`);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('an empty file is no blocks, not an error', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'empty.ndjson'), '');
    const result = await cli(['report', join(dir, 'empty.ndjson')]);
    expect(result.code, describe(result)).toBe(0);
    expect(result.stdout).toBe('loopwatch: no blocks recorded.\n');
  });
});
