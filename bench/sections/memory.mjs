// 5. Memory: where loopwatch's extra RSS goes in an idle app (one part at a time), and whether
// it stays flat under a storm of short blocks.
import { join } from 'node:path';
import { runChild, result } from '../lib/child.mjs';
import { BENCH, byName } from '../lib/variants.mjs';
import { rotated } from './overhead.mjs';

const app = (f) => join(BENCH, 'apps', f);

/** The idle parts, measured in alternating rounds; `otel` is `loopwatch` with OTLP export configured. */
export const PARTS = ['none', 'worker', 'modules', 'modules+worker', 'no-capture', 'loopwatch', 'otel'];

/** Storm variants: no monitor, and loopwatch (register, threshold 5 ms, events to stderr as JSON). */
const STORM = ['none', 'loopwatch'];

export async function memory({ rounds, stormRounds, stormBlocks, sink, log }) {
  const idle = Object.fromEntries(PARTS.map((p) => [p, []]));
  const otelEnv = byName('loopwatch-otel').setup({ sinkUrl: sink.url }).env;
  for (let r = 0; r < rounds; r++) {
    for (const part of rotated(PARTS, r)) {
      const env = {
        BENCH_MEMORY_PART: part === 'otel' ? 'loopwatch' : part,
        LOOPWATCH_LOG: 'off',
        ...(part === 'otel' ? otelEnv : {}),
      };
      const run = await runChild({ args: [app('memory.cjs')], env });
      idle[part].push(result(run));
    }
    log(`memory round ${r + 1}/${rounds}`);
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
  return { idle, storm, stormBlocks };
}
