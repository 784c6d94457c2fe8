// 4. Cost: extra RSS and start-up time with each tool, the main-thread time a capture takes
// from a blocked app with 2,000 loaded modules, and the hold of the profiler's start in an app
// whose heap is already 400 MB.
import { join } from 'node:path';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { runChild, result } from '../lib/child.mjs';
import { VARIANTS, BENCH, byName } from '../lib/variants.mjs';
import { rotated } from './overhead.mjs';

const app = (f) => join(BENCH, 'apps', f);

/** 2,000 tiny CommonJS modules, each with a few functions (generated, never committed). */
function generateModules(n) {
  const dir = mkdtempSync(join(tmpdir(), 'loopwatch-bench-modules-'));
  for (let i = 0; i < n; i++) {
    writeFileSync(
      join(dir, `m${String(i).padStart(4, '0')}.js`),
      `'use strict';\nfunction f${i}(x) { return x * ${i} + 1; }\nfunction g${i}(s) { return String(s).repeat(2); }\nmodule.exports = { f${i}, g${i}, id: ${i} };\n`,
    );
  }
  return dir;
}

export async function cost({ rounds, sink, log }) {
  const rss = Object.fromEntries(VARIANTS.map((v) => [v.name, []]));
  const firstLine = Object.fromEntries(VARIANTS.map((v) => [v.name, []]));
  const wall = Object.fromEntries(VARIANTS.map((v) => [v.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const v of rotated(VARIANTS, r)) {
      const { args, env } = v.setup({ sinkUrl: sink.url });
      const idle = await runChild({ args: [...args, app('idle.cjs')], env: { ...env, BENCH_SETTLE_MS: '1000' } });
      rss[v.name].push(result(idle).rss / 2 ** 20);
      const spawnedAt = Date.now() - (performance.now() - idle.startedAt);
      const started = idle.lines.find((l) => l.text.startsWith('STARTED '));
      firstLine[v.name].push(Number(started.text.slice(8)) - spawnedAt);
      const empty = await runChild({ args: [...args, app('empty.cjs')], env });
      wall[v.name].push(empty.wallMs);
    }
    log(`cost round ${r + 1}/${rounds}`);
  }
  const diff = (table) =>
    Object.fromEntries(VARIANTS.map((v) => [v.name, table[v.name].map((x, i) => x - table.none[i])]));

  // Capture cost: no tool vs the tools that take a stack during the block.
  const dir = generateModules(2000);
  const capturing = ['none', 'loopwatch', 'sentry-native', 'sentry-anr'].map(byName);
  const capture = Object.fromEntries(capturing.map((v) => [v.name, []]));
  try {
    for (let r = 0; r < rounds; r++) {
      for (const v of rotated(capturing, r)) {
        const { args, env } = v.setup({ sinkUrl: sink.url, thresholdMs: 50, forBlocks: true });
        const run = await runChild({
          args: [...args, app('capture.cjs')],
          env: { ...env, BENCH_MODULES_DIR: dir, BENCH_SETTLE_MS: '1000', LOOPWATCH_LOG: 'off' },
        });
        capture[v.name].push(result(run));
      }
      log(`capture round ${r + 1}/${rounds}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // The profiler's start with a large heap (loopwatch started late, from code): on vs off.
  const profilerStart = { on: [], off: [] };
  for (let r = 0; r < rounds; r++) {
    for (const mode of r % 2 === 0 ? ['on', 'off'] : ['off', 'on']) {
      const run = await runChild({
        args: ['--expose-gc', app('profiler-start.cjs')],
        env: { BENCH_PROFILER: mode, BENCH_HEAP_MB: '400' },
      });
      profilerStart[mode].push(result(run));
    }
    log(`profiler start round ${r + 1}/${rounds}`);
  }
  return {
    rss,
    rssExtra: diff(rss),
    firstLine,
    firstLineExtra: diff(firstLine),
    wall,
    wallExtra: diff(wall),
    capture,
    profilerStart,
  };
}
