// 3. Attribution: for each blocking scenario and each tool, was the culprit function in the
// report, was the report taken during the block, was the block's duration reported.
import { join } from 'node:path';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { runBlocks } from '../lib/blocks.mjs';
import { ALERTING, BENCH } from '../lib/variants.mjs';

const BLOCK = join(BENCH, 'apps', 'block.cjs');

/** label, culprit function, how to run it, whether it is JS-level (the interrupt can land). */
export const SCENARIOS = [
  { name: 'js-loop', label: 'JS loop', culprit: 'spinLoop', js: true },
  { name: 'regexp', label: 'catastrophic RegExp', culprit: 'validateInput', js: true },
  { name: 'json-stringify', label: 'JSON.stringify 600k objects', culprit: 'serializeReport', js: true },
  { name: 'json-parse', label: 'one lone JSON.parse', culprit: 'loadCatalog', js: false },
  { name: 'crypto', label: 'crypto.pbkdf2Sync', culprit: 'hashPassword', js: false },
  { name: 'zlib', label: 'zlib.gzipSync 12 MB', culprit: 'compressBackup', js: false },
  { name: 'fs', label: 'fs: sync open of a FIFO', culprit: 'readFifoConfig', js: false },
  { name: 'child-process', label: 'child_process.execSync', culprit: 'runShell', js: false },
  { name: 'atomics-wait', label: 'Atomics.wait', culprit: 'waitForLock', js: true },
  { name: 'promise', label: 'promise callback', culprit: 'crunchNumbers', js: true },
  {
    name: 'startup',
    label: 'start-up (top level)',
    culprit: 'loadConfiguration',
    js: true,
    app: join(BENCH, 'apps', 'startup.cjs'),
  },
  { name: 'ts', label: 'TypeScript + source map', culprit: 'summariseOrders', js: true, ts: true },
];

/** Compiles bench/apps/ts/report.ts to a temp dir with an external source map. */
function compileTs() {
  const ts = createRequire(import.meta.url)('typescript');
  const dir = mkdtempSync(join(tmpdir(), 'loopwatch-bench-ts-'));
  const src = join(BENCH, 'apps', 'ts', 'report.ts');
  const out = ts.transpileModule(readFileSync(src, 'utf8'), {
    fileName: src,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, sourceMap: true },
  });
  writeFileSync(
    join(dir, 'report.js'),
    out.outputText.replace(/\/\/# sourceMappingURL=.*$/m, '//# sourceMappingURL=report.js.map'),
  );
  const map = JSON.parse(out.sourceMapText);
  map.sources = [src];
  writeFileSync(join(dir, 'report.js.map'), JSON.stringify(map));
  return { dir, app: join(dir, 'report.js') };
}

function judge(scenario, block) {
  const named = (frames) =>
    frames.some(
      (f) =>
        (f.function ?? '').split('.').pop() === scenario.culprit && (!scenario.ts || String(f.file).endsWith('.ts')),
    );
  const namedAnyFile = (frames) => frames.some((f) => (f.function ?? '').split('.').pop() === scenario.culprit);
  const a = block.alert;
  if (!a) return { alerted: false };
  // Strictly before the app's own `unblock` mark: an alert in the same millisecond came after it.
  const during = block.end === undefined || a.at < block.end;
  let culprit = named(a.frames);
  let timing = a.stackTiming ?? (during ? 'during' : 'after');
  if (a.stackTiming === 'none' || (a.stackTiming === undefined && a.frames.length === 0)) culprit = undefined;
  // loopwatch: when the alert had no stack, the ended event carries a stack marked `late`.
  if (a.source === 'loopwatch' && a.stackTiming !== 'during' && block.ended?.stackTiming === 'late') {
    timing = 'late';
    culprit = named(block.ended.frames);
  }
  const tsAtJs = scenario.ts && !culprit && namedAnyFile(a.frames);
  const durationMs = block.ended?.durationMs ?? a.durationMs;
  return { alerted: true, culprit, tsAtJs, timing, alertDuring: during, durationMs, actualMs: block.end - block.start };
}

/**
 * Two processes at a time: what is judged here is whether the report names the culprit and
 * came before the block ended (600 ms blocks, 100 ms threshold), which a second process on a
 * 2-core machine does not change; it halves the section's time. `scenarios` limits the set
 * (--quick).
 */
export async function attribution({ sink, log, scenarios = SCENARIOS.map((s) => s.name), concurrency = 2 }) {
  const ts = compileTs();
  const out = {};
  const jobs = [];
  for (const s of SCENARIOS.filter((x) => scenarios.includes(x.name))) {
    out[s.name] = {};
    for (const v of ALERTING) jobs.push({ s, v });
  }
  const one = async ({ s, v }) => {
    const { blocks, run } = await runBlocks({
      variant: v,
      thresholdMs: 100,
      app: s.ts ? ts.app : (s.app ?? BLOCK),
      appArgs: s.app || s.ts ? [] : [s.name, '1', '300', '600'],
      sink,
      env: { BENCH_BLOCK_MS: '600' },
    });
    out[s.name][v.name] = blocks[0]
      ? judge(s, blocks[0])
      : { alerted: false, error: `no block mark (exit ${run.code})` };
  };
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < jobs.length) await one(jobs[next++]);
      }),
    );
    log(`attribution: ${Object.keys(out).length} scenarios done`);
  } finally {
    rmSync(ts.dir, { recursive: true, force: true });
  }
  return out;
}
