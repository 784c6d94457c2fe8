#!/usr/bin/env node
// `node bench/canary.mjs [--files=24] [--rounds=5] [--dist=<a loopwatch dist folder>]`
// What the test integrations' canary costs per test file: a throwaway project of N one-test
// files (loopwatch installed in its node_modules, vitest linked), run by vitest's default
// forks pool — without the plugin, with the plugin and `canary: false`, with the plugin and
// its canary — in alternating rounds. Prints the median wall time of each variant and the
// canary's cost per file (canary minus no canary, divided by N). `--dist` measures another
// build (an older commit's) with the same project. Builds first unless --dist is given.
import { execFileSync, execSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const ROOT = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const arg = (name, fallback) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const files = Number(arg('files', '24'));
const rounds = Number(arg('rounds', '5'));
const dist = arg('dist', undefined);
if (dist === undefined) execSync('npm run build --silent', { cwd: ROOT, stdio: 'inherit' });

const project = mkdtempSync(join(tmpdir(), 'loopwatch-canary-bench-'));
try {
  const installed = join(project, 'node_modules', 'loopwatch');
  mkdirSync(installed, { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(installed, 'package.json'));
  cpSync(resolve(dist ?? join(ROOT, 'dist')), join(installed, 'dist'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules', 'vitest'), join(project, 'node_modules', 'vitest'), 'dir');
  for (let i = 1; i <= files; i++) {
    writeFileSync(
      join(project, `f${i}.test.ts`),
      `import { expect, test } from 'vitest';\ntest('t${i}', () => { expect(${i}).toBe(${i}); });\n`,
    );
  }
  writeFileSync(
    join(project, 'vitest.config.mjs'),
    `import { defineConfig } from 'vitest/config';
import loopwatch from 'loopwatch/vitest';
const v = process.env.VARIANT;
export default defineConfig({ plugins: v === 'off' ? [] : [loopwatch({ thresholdMs: 50, canary: v === 'canary' })], test: { include: ['*.test.ts'] } });
`,
  );
  const variants = ['off', 'no canary', 'canary'];
  const times = Object.fromEntries(variants.map((v) => [v, []]));
  process.stderr.write(
    `canary bench: ${files} files, ${rounds} rounds, ${cpus().length} CPUs, load ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}, ${dist ?? 'this build'}\n`,
  );
  for (let round = 0; round < rounds; round++) {
    // Alternate the order: drift on a shared machine falls on every variant alike.
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const variant of order) {
      const started = performance.now();
      execFileSync(process.execPath, [join(project, 'node_modules', 'vitest', 'vitest.mjs'), 'run'], {
        cwd: project,
        env: { ...process.env, VARIANT: variant === 'no canary' ? 'nocanary' : variant, CI: 'true', NODE_OPTIONS: '' },
        stdio: 'ignore',
      });
      times[variant].push(performance.now() - started);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const v of variants)
    process.stdout.write(
      `${v.padEnd(10)} median ${Math.round(median(times[v]))} ms  (${times[v].map((t) => Math.round(t)).join(', ')})\n`,
    );
  const perFile = (median(times.canary) - median(times['no canary'])) / files;
  process.stdout.write(
    `canary: ${Math.round(perFile)} ms per test file (median of ${rounds} rounds, ${files} files)\n`,
  );
} finally {
  rmSync(project, { recursive: true, force: true });
}
