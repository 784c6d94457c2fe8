/**
 * A process killed in the middle of a block writes no `ended` event. Its block must not count
 * as the detection-time figure (100 ms) when it lasted seconds: the monitor records how long it
 * has lasted while it lasts, and `loopwatch report` takes the last record.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BlockProgress } from '../../src/types.js';
import { describeRun, fixture, NODE, ROOT, run } from './harness.js';

describe('a process killed during a block', () => {
  it('leaves progress records, and loopwatch report counts the block with its last known duration', async () => {
    const eventsFile = join(mkdtempSync(join(tmpdir(), 'loopwatch-killed-')), 'events.ndjson');
    let markedAt: number | undefined;
    const result = await run(fixture('killed-in-block.cjs'), {
      mode: 'require',
      env: { LOOPWATCH_THRESHOLD_MS: '100', LOOPWATCH_EVENTS_FILE: eventsFile },
      onLine: (line) => {
        if (line.text.startsWith('MARK block')) markedAt = line.at;
      },
      onSpawn: (child) => {
        // SIGKILL 2.5 s into the block: nothing of the process runs after it.
        const timer = setInterval(() => {
          if (markedAt !== undefined && Date.now() - markedAt >= 2500) {
            clearInterval(timer);
            child.kill('SIGKILL');
          }
        }, 20);
        child.on('close', () => clearInterval(timer));
      },
    });
    expect(result.signal, describeRun(result)).toBe('SIGKILL');
    const lines = readFileSync(eventsFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; state?: string });
    expect(lines.filter((e) => e.type === 'block').map((e) => e.state)).toEqual(['ongoing']);
    const progress = lines.filter((e): e is BlockProgress & { type: 'progress' } => e.type === 'progress');
    // At 200, 400, 800 and 1,600 ms into the block at least, then every second.
    expect(progress.length, JSON.stringify(lines)).toBeGreaterThanOrEqual(4);
    const last = progress.at(-1)?.durationMs ?? 0;
    expect(last).toBeGreaterThanOrEqual(1500);

    const report = spawnSync(NODE, [join(ROOT, 'dist', 'cli', 'index.js'), 'report', '--json', eventsFile], {
      encoding: 'utf8',
    });
    const summary = JSON.parse(report.stdout) as { blocks: number; notEnded: number; totalMs: number };
    expect(summary).toMatchObject({ blocks: 1, notEnded: 1 });
    expect(summary.totalMs).toBe(last);
  });
});
