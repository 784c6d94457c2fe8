import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Fixture projects have test files of their own, run by the tests that own them.
    exclude: [...configDefaults.exclude, 'test/**/fixtures/**'],
    reporters: ['default', './test/summary-reporter.ts'],
    // Process-level tests spawn children that really block a core (and a monitor thread
    // each): one file at a time on a 2-core machine, so that what they time is loopwatch,
    // not the machine's load.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
