/**
 * `loopwatch run`: real commands that really block, run through the built command in a child
 * process; what a user sees on the terminal, the exit status, signals, `npm start`.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe as group, expect, it } from 'vitest';
import type { Summary } from '../../src/cli/summary.js';
import { FIXTURES, cli, describe, tempDir } from './helpers.js';

const blocker = join(FIXTURES, 'blocker.cjs');

group('loopwatch run', () => {
  it('reports each block live with its culprit, then a summary, and exits with the command’s status', async () => {
    const dir = tempDir();
    const events = join(dir, 'events.ndjson');
    const html = join(dir, 'report.html');
    // The flag wins over the environment's threshold (which would hide both blocks).
    let reportedAt = 0;
    const result = await cli(
      ['run', '--threshold', '100', '--events', events, '--html', html, '--', 'node', blocker, '3'],
      {
        env: { LOOPWATCH_THRESHOLD_MS: '2000' },
        onLine: (line) => {
          if (reportedAt === 0 && /block #\d+: event loop blocked/.test(line)) reportedAt = Date.now();
        },
      },
    );
    expect(result.code, describe(result)).toBe(3);
    // The app's own output passes through untouched, on its own stream.
    expect(result.stdout).toMatch(/^app: armed\napp: unblocked \d+\napp: done\n$/);
    // The live report of block #1 reached this process while the app was still blocked (by the
    // app's own clock, on the same machine; arriving here can only be later than being printed).
    const unblockedAt = Number(/app: unblocked (\d+)/.exec(result.stdout)?.[1]);
    expect(reportedAt, describe(result)).toBeGreaterThan(0);
    expect(reportedAt, describe(result)).toBeLessThan(unblockedAt);
    const err = result.stderr;
    expect(err).toMatch(
      /loopwatch: \[pid \d+\] block #1: event loop blocked for \d+ ms so far \(threshold 100 ms, running\) — slowCulprit \(test\/cli\/fixtures\/blocker\.cjs:8\)\n {4}at slowCulprit \(test\/cli\/fixtures\/blocker\.cjs:8:\d+\)/,
    );
    expect(err).toMatch(/block #1 ended after \d{3} ms — slowCulprit \(test\/cli\/fixtures\/blocker\.cjs:8\)/);
    expect(err).toMatch(/block #2 ended after/);
    expect(err).toMatch(/`node .*blocker\.cjs 3` exited with code 3 after/);
    expect(err).toMatch(/loopwatch: 2 blocks, [\d,]+ ms blocked in total, worst \d{3} ms/);
    expect(err).toMatch(/ {7}2 +[\d,]+ ms +\d{3} ms +running +slowCulprit \(test\/cli\/fixtures\/blocker\.cjs:8\)/);
    expect(err).not.toContain('\u001b['); // not a terminal: no colour
    // --events kept the file, --html wrote the report.
    const lines = readFileSync(events, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; state?: string });
    // Two blocks, each ongoing then ended (with progress records between while they last).
    expect(lines.filter((e) => e.type === 'block').map((e) => e.state)).toEqual([
      'ongoing',
      'ended',
      'ongoing',
      'ended',
    ]);
    expect(lines.every((e) => e.type === 'block' || e.type === 'progress')).toBe(true);
    expect(readFileSync(html, 'utf8')).toContain('slowCulprit');
    // The recorded file gives the same answer later.
    const report = await cli(['report', '--json', events]);
    expect(report.code, describe(report)).toBe(0);
    const summary = JSON.parse(report.stdout) as Summary;
    expect(summary.blocks).toBe(2);
    expect(summary.culprits.map((c) => [c.function, c.blocks, c.attribution])).toEqual([['slowCulprit', 2, 'during']]);
  });

  it('colours the report when asked to (FORCE_COLOR); without --events, a temporary file is used and removed', async () => {
    const tmp = tempDir();
    const result = await cli(['run', '--', 'node', blocker, '0'], { env: { FORCE_COLOR: '1', TMPDIR: tmp } });
    expect(result.code, describe(result)).toBe(0);
    expect(result.stderr).toContain('\u001b[1m    at slowCulprit');
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('applies the LOOPWATCH_* variables of the environment', async () => {
    // A threshold above the blocks: nothing to report (the first test shows that a flag wins).
    const quiet = await cli(['run', '--', 'node', blocker, '0'], { env: { LOOPWATCH_THRESHOLD_MS: '2000' } });
    expect(quiet.stderr, describe(quiet)).toContain('loopwatch: no blocks recorded.');
  });

  it('forwards SIGTERM; a command killed by a signal ends loopwatch with 128 + its number', async () => {
    const result = await cli(['run', '--', 'node', join(FIXTURES, 'waits.cjs')], {
      onLine: (line, child) => {
        if (line === 'READY') child.kill('SIGTERM');
      },
    });
    expect(result.code, describe(result)).toBe(143);
    expect(result.stderr).toMatch(/`node .*waits\.cjs` was killed by SIGTERM after .* \(exit status 143\)/);
  });

  it('a command killed during a block: the block is reported as not ended, blocked until the command died', async () => {
    let seenAt = 0;
    const result = await cli(['run', '--', 'node', join(FIXTURES, 'spins-forever.cjs')], {
      onLine: (line, child) => {
        // Signal once the block has been reported live, 300 ms later.
        if (line.includes('block #1: event loop blocked') && seenAt === 0) {
          seenAt = Date.now();
          setTimeout(() => child.kill('SIGTERM'), 300);
        }
      },
    });
    expect(result.code, describe(result)).toBe(143);
    expect(result.stderr).toMatch(/ {4}at stuckForever \(test\/cli\/fixtures\/spins-forever\.cjs:5:\d+\)/);
    const [, ms] = /^ +1 +[\d,]+ ms +([\d,]+) ms +running +stuckForever .* — 1 not ended$/m.exec(result.stderr) ?? [];
    expect(Number(ms?.replace(',', '')), describe(result)).toBeGreaterThanOrEqual(400);
    expect(result.stderr).toContain('1 block did not end');
  });

  it('--hang with --hang-action kill: the hang is reported and the status is 137', async () => {
    const result = await cli([
      'run',
      '--threshold',
      '100',
      '--hang',
      '400',
      '--hang-action',
      'kill',
      '--',
      'node',
      join(FIXTURES, 'spins-forever.cjs'),
    ]);
    expect(result.code, describe(result)).toBe(137);
    expect(result.stderr).toMatch(
      /HANG: block #1 has blocked the event loop for [\d,]+ ms \(hangMs 400 ms\) — ending the process with SIGKILL/,
    );
    expect(result.stderr).toMatch(/was killed by SIGKILL .* \(exit status 137\)/);
    expect(result.stderr).toMatch(/hang: \[pid \d+\] block #1 reached 400 ms in stuckForever .* — action kill/);
  });

  it('forwards SIGHUP; a command it ends is reported with status 129', async () => {
    const result = await cli(['run', '--', 'node', join(FIXTURES, 'waits.cjs')], {
      onLine: (line, child) => {
        if (line === 'READY') child.kill('SIGHUP');
      },
    });
    expect(result.code, describe(result)).toBe(129);
    expect(result.stderr).toMatch(/`node .*waits\.cjs` was killed by SIGHUP after .* \(exit status 129\)/);
  });

  it('--events appends: what the file held is kept, and the summary counts only this run', async () => {
    const events = join(tempDir(), 'events.ndjson');
    const earlier = `${JSON.stringify({ type: 'block', id: 1, state: 'ended', pid: 1, note: 'an earlier run' })}\n`;
    writeFileSync(events, earlier);
    const result = await cli(['run', '--threshold', '100', '--events', events, '--', 'node', blocker, '0']);
    expect(result.code, describe(result)).toBe(0);
    const text = readFileSync(events, 'utf8');
    expect(text.startsWith(earlier), text).toBe(true);
    const appended = text
      .slice(earlier.length)
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; id: number; state?: string; pid: number });
    const blocks = appended.filter((e) => e.type === 'block');
    // Both of blocker.cjs's blocks (a loaded machine may add a start-up block).
    expect(blocks.filter((e) => e.state === 'ongoing').length, text).toBeGreaterThanOrEqual(2);
    expect(blocks.every((e) => e.pid !== 1)).toBe(true);
    // The summary counts this run's blocks, not the earlier line's.
    const count = new Set(blocks.map((e) => e.id)).size;
    expect(result.stderr, describe(result)).toMatch(new RegExp(`loopwatch: ${count} blocks, `));
  });

  it('forwards SIGINT to a command that handles it, and its exit status 0 is loopwatch’s', async () => {
    const result = await cli(['run', '--', 'node', join(FIXTURES, 'waits.cjs'), 'handle'], {
      onLine: (line, child) => {
        if (line === 'READY') child.kill('SIGINT');
      },
    });
    expect(result.code, describe(result)).toBe(0);
    expect(result.stdout).toContain('app: got SIGINT');
    expect(result.stderr).toMatch(/exited with code 0/);
  });

  it('runs `npm start`: only the app’s process is reported, not npm’s own, and npm’s status is kept', async () => {
    const result = await cli(['run', '--threshold', '50', '--', 'npm', 'start', '--silent'], {
      cwd: join(FIXTURES, 'npm-app'),
      timeoutMs: 30_000,
    });
    expect(result.code, describe(result)).toBe(3);
    const pids = new Set([...result.stderr.matchAll(/\[pid (\d+)\] block/g)].map((m) => m[1]));
    expect(pids.size, describe(result)).toBe(1);
    expect(result.stderr).toMatch(/loopwatch: pid \d+ is `node \.\.\/blocker\.cjs 3`/);
    expect(result.stderr).toMatch(/slowCulprit \(.*blocker\.cjs:8\)/);
    expect(result.stderr).not.toContain('node_modules/npm');
  });

  it('runs examples/blocking-app.mjs (the README’s example) and names renderReport', async () => {
    const result = await cli(['run', '--', 'node', 'examples/blocking-app.mjs']);
    expect(result.code, describe(result)).toBe(0);
    expect(result.stderr).toMatch(
      / {7}2 +[\d,]+ ms +\d{3} ms +running +renderReport \(examples\/blocking-app\.mjs:\d+\)/,
    );
  });

  it('a command that exists but cannot be executed: 126, as a shell says', async () => {
    const script = join(tempDir(), 'not-executable.sh');
    writeFileSync(script, '#!/bin/sh\necho never\n', { mode: 0o644 });
    const result = await cli(['run', '--', script]);
    expect(result.code, describe(result)).toBe(126);
    expect(result.stderr).toContain(`loopwatch: cannot run \`${script}\`: `);
    expect(result.stderr).toContain('EACCES');
    expect(result.stdout).toBe('');
  });

  it('says so when the command does not exist (127), and refuses bad flags before running anything (2)', async () => {
    const missing = await cli(['run', '--', 'no-such-command-loopwatch']);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain('cannot run `no-such-command-loopwatch`: command not found');
    for (const [args, message] of [
      [
        ['run', '--threshold', 'abc', '--', 'node', blocker],
        '--threshold must be a number of milliseconds from 1 to 3600000, got "abc"',
      ],
      [
        ['run', '--hang', '50', '--', 'node', blocker],
        '--hang must be an integer from 100 to 86400000 (milliseconds), got "50"',
      ],
      [['run', '--hang-action', 'explode', '--hang', '500', '--', 'node', blocker], '--hang-action must be'],
      [['run', '--colour', '--', 'node', blocker], 'unknown option --colour'],
      [['run', '--threshold'], '--threshold needs a value'],
      [['run'], 'no command to run'],
      [['run', '--html', '/no/such/folder/r.html', '--', 'node', blocker], 'the folder /no/such/folder does not exist'],
    ] as const) {
      const result = await cli(args);
      expect(result.code, `${args.join(' ')}\n${describe(result)}`).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stderr).toContain('run `loopwatch run --help` for usage');
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.stdout).toBe('');
    }
  });
});
