import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Fixture projects have test files of their own, run by the tests that own them. The
    // OpenTelemetry 3.x test needs the project scripts/otel-v3.mjs installs; it runs there only
    // (listed here rather than skipped, so that a skip in the suite always means something).
    exclude: [
      ...configDefaults.exclude,
      'test/**/fixtures/**',
      ...(process.env['LOOPWATCH_OTEL_V3_DIR'] === undefined ? ['test/process/otel-v3.test.ts'] : []),
    ],
    reporters: ['default', './test/summary-reporter.ts'],
    // Process-level tests spawn children that really block a core (and a monitor thread
    // each): one file at a time on a 2-core machine, so that what they time is loopwatch,
    // not the machine's load.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
