/**
 * Prints one closing line, `tests: N passed, N failed, N skipped`, that CI and people can read
 * without parsing vitest's table; with LOOPWATCH_SUMMARY_FILE set it also appends the counts
 * there, so a script that runs several suites can add them up.
 *
 * Under CI (CI set and not "false"/"0"), a skipped test that is not on the allow-list in
 * test/skips.json fails the run: a test that silently stops running proves nothing, and a
 * missing tool (Prometheus, Chromium, a Node binary) would otherwise look like a green run.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Reporter, TestCase, TestModule } from 'vitest/node';

const ROOT = join(__dirname, '..');

interface AllowedSkip {
  /** `<file from the repository root> > <describe> > … > <test name>`. */
  readonly test: string;
  readonly reason: string;
  /** The skip is allowed only when this environment variable is set. */
  readonly when?: string;
}

/** A test's name as test/skips.json writes it. */
export function skipName(test: TestCase): string {
  return `${relative(ROOT, test.module.moduleId)} > ${test.fullName}`;
}

function underCi(): boolean {
  const ci = process.env['CI'];
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

function allowed(): readonly AllowedSkip[] {
  return (JSON.parse(readFileSync(join(ROOT, 'test', 'skips.json'), 'utf8')) as { allowed: AllowedSkip[] }).allowed;
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const unlisted: string[] = [];
    const list = allowed();
    for (const module of testModules) {
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0) failed++;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else {
          skipped++;
          const name = skipName(test);
          const entry = list.find((e) => e.test === name);
          if (entry === undefined || (entry.when !== undefined && process.env[entry.when] === undefined))
            unlisted.push(name);
        }
      }
    }
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
    if (unlisted.length > 0 && underCi()) {
      process.stdout.write(
        `\nskipped under CI and not allowed by test/skips.json (install what they need, or list them there with the reason):\n${unlisted.map((n) => `  ${n}\n`).join('')}`,
      );
      process.exitCode = 1;
    }
    const file = process.env['LOOPWATCH_SUMMARY_FILE'];
    if (file !== undefined && file !== '') appendFileSync(file, `${passed} ${failed} ${skipped}\n`);
  }
}
