/** `loopwatch doctor` runs the real probes on this Node and explains the result. */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT, cli, describe, tempDir } from './helpers.js';

it('doctor lists each capability with its probe result, and exits 0 when what loopwatch needs works', async () => {
  const result = await cli(['doctor'], { timeoutMs: 60_000 });
  expect(result.code, describe(result)).toBe(0);
  for (const capability of [
    'block detection',
    'stack capture while JavaScript code blocks',
    'source maps in the monitor worker',
    'health endpoints served from the worker',
  ]) {
    expect(result.stdout).toMatch(new RegExp(`^ok +${capability}`, 'm'));
  }
  expect(result.stdout).toMatch(/capabilities work here|optional capabilit/);
  const json = await cli(['doctor', '--json', '--nope']);
  expect(json.code).toBe(2);
});

/**
 * A copy of the installed package whose probe runner reports the given results. No runtime
 * here lacks worker threads or an inspector, so the failure itself cannot be produced for
 * real; what is tested is what doctor does with it (the probes are run for real above and by
 * `npm run probes`).
 */
function packageWithProbes(results: { name: string; ok: boolean; detail: string }[]): string {
  const dir = tempDir();
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  mkdirSync(join(dir, 'native-free-probes'));
  const rows = results.map((r) => ({ probe: `${r.name}.mjs`, ...r }));
  writeFileSync(
    join(dir, 'native-free-probes', 'run-all.mjs'),
    `process.stdout.write(${JSON.stringify(JSON.stringify(rows))});\n`,
  );
  return join(dir, 'dist', 'cli', 'index.js');
}

it('doctor exits 1, naming what failed and what to do, when a capability loopwatch needs does not work', async () => {
  const command = packageWithProbes([
    { name: 'heartbeat', ok: false, detail: 'Worker is not available' },
    { name: 'stack-js-loop', ok: true, detail: 'spinLoop' },
    { name: 'worker-http', ok: true, detail: '200' },
  ]);
  const optionalOnly = packageWithProbes([
    { name: 'heartbeat', ok: true, detail: '' },
    { name: 'stack-js-loop', ok: true, detail: '' },
    { name: 'worker-http', ok: false, detail: 'EACCES' },
  ]);
  const [result, json, optional] = await Promise.all([
    cli(['doctor'], { command }),
    cli(['doctor', '--json'], { command }),
    cli(['doctor'], { command: optionalOnly }),
  ]);
  expect(result.code, describe(result)).toBe(1);
  expect(result.stdout).toMatch(/^FAIL +block detection/m);
  expect(result.stdout).toContain('loopwatch cannot detect blocks on this runtime');
  expect(result.stdout).toContain('loopwatch cannot do its job here: heartbeat failed');
  expect(json.code, describe(json)).toBe(1);
  expect((JSON.parse(json.stdout) as { name: string; ok: boolean }[]).find((r) => r.name === 'heartbeat')?.ok).toBe(
    false,
  );
  // An optional capability that fails is reported, and the status stays 0.
  expect(optional.code, describe(optional)).toBe(0);
  expect(optional.stdout).toContain('1 optional capability does not work here');
});
