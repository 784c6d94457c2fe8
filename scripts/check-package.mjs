// Checks the package as npm would publish it: packs the built dist/ (without running prepack
// again, so a test run's dist/ is never rebuilt under it) and runs publint and
// arethetypeswrong on that tarball, failing on any problem they report.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'loopwatch-pack-'));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (command, args) => execFileSync(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
try {
  const [{ filename }] = JSON.parse(
    run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir]).toString('utf8'),
  );
  const tarball = join(dir, filename);
  run('npx', ['--no-install', 'publint', 'run', tarball, '--strict']);
  run('npx', ['--no-install', 'attw', tarball, '--format', 'ascii', '--no-color']);
  process.stdout.write(`package: publint and arethetypeswrong find no problem in ${filename}\n`);
} catch (error) {
  // The tools' own report is in what they printed; the status says they found something.
  if (error.stdout) process.stdout.write(error.stdout);
  process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
