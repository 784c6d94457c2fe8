/**
 * loopwatch/register stays out of package managers' own processes (`NODE_OPTIONS=-r … npm
 * start` loads it into npm too), and still watches everything else.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { FIXTURES, ROOT, tempDir } from './helpers.js';

function runAs(scriptName: string): { stdout: string; events: string } {
  const dir = tempDir();
  const script = join(dir, scriptName);
  copyFileSync(join(FIXTURES, 'spin.cjs'), script);
  const events = join(dir, 'events.ndjson');
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env))
    if (value !== undefined && !key.startsWith('LOOPWATCH_')) env[key] = value;
  const stdout = execFileSync(process.execPath, ['-r', join(ROOT, 'dist', 'register.js'), script], {
    env: {
      ...env,
      NODE_OPTIONS: '',
      LOOPWATCH_LOG: 'off',
      LOOPWATCH_EVENTS_FILE: events,
      LOOPWATCH_THRESHOLD_MS: '50',
    },
    encoding: 'utf8',
  });
  return { stdout, events: existsSync(events) ? readFileSync(events, 'utf8') : '' };
}

it('register does not watch npm, npx, pnpm, yarn or corepack, and watches an app', () => {
  for (const name of ['npm-cli.js', 'npm', 'npx-cli.js', 'pnpm.cjs', 'yarn.js', 'corepack'])
    expect(runAs(name), name).toEqual({ stdout: 'no monitor\n', events: '' });
  const app = runAs('app.js');
  expect(app.stdout).toBe('blocked\n');
  expect(app.events).toContain('"type":"block"');
});
