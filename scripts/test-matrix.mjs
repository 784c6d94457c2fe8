// Runs the process-level suite with children on other Node versions, installed from the npm
// registry's `node` package (it ships the real binary) into .cache/node-<major>, reused
// between runs.   node scripts/test-matrix.mjs [22 24 26]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const installOnly = process.argv.includes('--install-only');
const given = process.argv.slice(2).filter((arg) => arg !== '--install-only');
const majors = given.length > 0 ? given : ['22', '24', '26'];
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const results = [];

for (const major of majors) {
  if (!/^\d+$/.test(major)) {
    console.error(`test-matrix: "${major}" is not a Node major version`);
    process.exit(2);
  }
  const prefix = join(root, '.cache', `node-${major}`);
  const binary = join(prefix, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(binary)) {
    console.log(`test-matrix: installing node@${major} into ${prefix}`);
    const install = spawnSync(
      npm,
      ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', '--loglevel=error', `node@${major}`],
      { stdio: 'inherit' },
    );
    if (install.status !== 0 || !existsSync(binary)) {
      results.push({ major, version: '-', ok: false, note: 'install failed' });
      continue;
    }
  }
  const version = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout.trim();
  if (installOnly) {
    results.push({ major, version, ok: true, note: 'installed' });
    continue;
  }
  console.log(`\ntest-matrix: process-level suite with children on Node ${version}`);
  const run = spawnSync(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/process'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, LOOPWATCH_TEST_NODE: binary },
  });
  results.push({ major, version, ok: run.status === 0, note: run.status === 0 ? '' : `vitest exited ${run.status}` });
}

console.log('\ntest-matrix summary');
for (const r of results) console.log(`  ${r.ok ? 'ok  ' : 'FAIL'} node ${r.version} ${r.note}`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
