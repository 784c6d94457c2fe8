// 5. Memory: where loopwatch's extra RSS goes in an idle app (one part at a time), and whether
// it stays flat under a storm of short blocks.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChild, result } from '../lib/child.mjs';
import { BENCH, ROOT, byName } from '../lib/variants.mjs';
import { rotated } from './overhead.mjs';

const app = (f) => join(BENCH, 'apps', f);

/** The idle parts, measured in alternating rounds; `otel` is `loopwatch` with OTLP export configured. */
export const PARTS = ['none', 'worker', 'modules', 'modules+worker', 'no-capture', 'loopwatch', 'otel'];

/** The parts measured on every Node version, in an empty script and in a small service. */
export const NODE_PARTS = ['none', 'worker', 'loopwatch', 'otel'];
/** Modules of the small service's own code (bench/apps/memory.cjs, BENCH_SERVICE_DIR). */
const SERVICE_MODULES = 50;

/** The Node binaries to compare: this one, and those the test matrix installed (scripts/test-matrix.mjs). */
function nodeBinaries() {
  const others = ['22', '24', '26']
    .map((major) => join(ROOT, '.cache', `node-${major}`, 'node_modules', 'node', 'bin', 'node'))
    .filter((bin) => existsSync(bin));
  return [process.execPath, ...others.filter((bin) => bin !== process.execPath)];
}

/** A small service's own code: modules of a few functions and a class each, required at start. */
function serviceModules() {
  const dir = mkdtempSync(join(tmpdir(), 'loopwatch-bench-service-'));
  for (let i = 0; i < SERVICE_MODULES; i++) {
    writeFileSync(
      join(dir, `m${String(i).padStart(3, '0')}.js`),
      `'use strict';
class Store${i} {
  #items = new Map();
  put(key, value) { this.#items.set(key, { value, at: Date.now() }); return this; }
  get(key) { return this.#items.get(key)?.value; }
  get size() { return this.#items.size; }
}
const store = new Store${i}();
function validate(input) {
  if (typeof input !== 'object' || input === null) throw new TypeError('input must be an object');
  return Object.entries(input).filter(([k]) => !k.startsWith('_'));
}
function render(entries) {
  return entries.map(([k, v]) => \`<li data-key="\${k}">\${String(v).replace(/[<>&]/g, '')}</li>\`).join('');
}
exports.handle = (input) => {
  const entries = validate(input);
  store.put('last', entries.length);
  return \`<ul id="m${i}">\${render(entries)}</ul>\${store.size}\`;
};
`,
    );
  }
  return dir;
}

/** Storm variants: no monitor, and loopwatch (register, threshold 5 ms, events to stderr as JSON). */
const STORM = ['none', 'loopwatch'];

export async function memory({ rounds, stormRounds, stormBlocks, sink, log }) {
  const idle = Object.fromEntries(PARTS.map((p) => [p, []]));
  const otelEnv = byName('loopwatch-otel').setup({ sinkUrl: sink.url }).env;
  /** One idle app holding `part`, on `node`, with `extraEnv`: its memory once settled. */
  const measure = async (part, node = process.execPath, extraEnv = {}) => {
    const env = {
      BENCH_MEMORY_PART: part === 'otel' ? 'loopwatch' : part,
      LOOPWATCH_LOG: 'off',
      ...(part === 'otel' ? otelEnv : {}),
      ...extraEnv,
    };
    return result(await runChild({ node, args: [app('memory.cjs')], env }));
  };
  for (let r = 0; r < rounds; r++) {
    for (const part of rotated(PARTS, r)) idle[part].push(await measure(part));
    log(`memory round ${r + 1}/${rounds}`);
  }

  // Every Node version, in an empty script and in a small service (the same parts, 3 rounds
  // each: the spread between versions is what this shows, not a tenth of a MB).
  const serviceDir = serviceModules();
  const byNodeRounds = Math.min(rounds, 3);
  const byNode = [];
  try {
    for (const node of nodeBinaries()) {
      const version = (await runChild({ node, args: ['-p', 'process.version'] })).lines[0]?.text ?? '?';
      const entry = { node: version, script: {}, service: {} };
      for (const mode of ['script', 'service']) {
        for (const part of NODE_PARTS) entry[mode][part] = [];
        for (let r = 0; r < byNodeRounds; r++) {
          const extraEnv = mode === 'service' ? { BENCH_SERVICE_DIR: serviceDir } : {};
          for (const part of rotated(NODE_PARTS, r)) entry[mode][part].push(await measure(part, node, extraEnv));
        }
      }
      byNode.push(entry);
      log(`memory on Node ${version}: empty script and small service`);
    }
  } finally {
    rmSync(serviceDir, { recursive: true, force: true });
  }

  const storm = Object.fromEntries(STORM.map((v) => [v, []]));
  for (let r = 0; r < stormRounds; r++) {
    for (const name of rotated(STORM, r)) {
      const { args, env } = byName(name).setup({ sinkUrl: sink.url, thresholdMs: 5 });
      // The stderr report is on, as a user has it (JSON, so the bench's pipe reads it cheaply).
      const run = await runChild({
        args: [...args, app('storm.cjs')],
        env: { ...env, LOOPWATCH_LOG: 'json', BENCH_BLOCKS: String(stormBlocks), BENCH_BLOCK_MS: '9' },
        timeoutMs: 600_000,
      });
      const reported = run.lines.filter((l) => l.text.startsWith('{') && l.text.includes('"state":"ended"')).length;
      storm[name].push({ ...result(run), reported });
      log(`storm ${name} round ${r + 1}/${stormRounds}: ${stormBlocks} blocks, ${reported} reported`);
    }
  }
  return { idle, byNode, byNodeRounds, serviceModules: SERVICE_MODULES, storm, stormBlocks };
}
