/**
 * The opt-in sampling profiler: a block inside one long native call, whose stack can only be
 * taken after the call returned, is still attributed to its culprit.
 */
import { describe, expect, it } from 'vitest';
import { describeRun, fixture, run } from './harness.js';
import { record } from './report.js';

const env = { LOOPWATCH_THRESHOLD_MS: '100', LOOPWATCH_PROFILER: 'on' };

describe('profiler', () => {
  for (const [file, mode, culprit] of [
    ['json-parse.cjs', 'require', 'loadCatalog'],
    ['exec-sync.cjs', 'require', 'runShell'],
    ['crypto-sync.mjs', 'import', 'hashPassword'],
  ] as const) {
    it(`names the culprit of a native-call block: ${culprit} (${file})`, async () => {
      const result = await run(fixture(file), { mode, env });
      expect(result.code, describeRun(result)).toBe(0);
      const block = result.marks.get('block') ?? 0;
      const ended = result.events.find((e) => e.state === 'ended' && Date.parse(e.startedAt) >= block - 50);
      expect(ended?.profile, describeRun(result)).toBeDefined();
      const stack = ended?.profile?.stack.map((f) => f.function) ?? [];
      record({
        scenario: `profiler: ${file}`,
        stackTiming: ended?.stackTiming,
        culprit: stack.slice(0, 3).join(' < '),
        share: ended?.profile?.share,
        samples: ended?.profile?.samples,
        culpritRight: stack.includes(culprit),
      });
      expect(stack, describeRun(result)).toContain(culprit);
      expect(ended?.profile?.share).toBeGreaterThan(0.3);
      expect(ended?.profile?.samples).toBeGreaterThan(10);
    });
  }

  it('a process that calls process.exit() ends cleanly, printing nothing about a debugger', async () => {
    const result = await run(fixture('exit-in-block.cjs'), { mode: 'require', env });
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.events.map((e) => e.state)).toEqual(['ongoing', 'ended']);
    expect(result.stderrText).not.toContain('Waiting for the debugger');
  });

  it('a script that ends on its own ends promptly', async () => {
    const result = await run(fixture('exits.cjs'), { mode: 'require', env });
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.wallMs, describeRun(result)).toBeLessThan(2000);
    expect(result.stderrText).not.toContain('Waiting for the debugger');
  });

  it('ready says whether the profiler runs', async () => {
    const result = await run(fixture('api-profiler.mjs'), { mode: 'plain' });
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout.map((l) => l.text)).toContain('READY {"stackCapture":true,"profiler":true}');
  });
});
