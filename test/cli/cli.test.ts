/** The command's surface: help, version, unknown commands, exit codes. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe as group, expect, it } from 'vitest';
import { ROOT, cli, describe } from './helpers.js';

group('loopwatch', () => {
  it('--help lists the commands and documents the exit codes; each command has its own help', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const text of [
      'run [options] -- <command…>',
      'report [options] <file…|->',
      'doctor',
      'Exit status:',
      '128+N',
      '2        usage error',
    ])
      expect(help.stdout).toContain(text);
    for (const command of ['run', 'report', 'doctor']) {
      const own = await cli([command, '--help']);
      expect(own.code, describe(own)).toBe(0);
      expect(own.stdout).toContain(`Usage: loopwatch ${command}`);
    }
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
      bin: Record<string, string>;
    };
    const result = await cli(['--version']);
    expect(result.stdout).toBe(`${pkg.version}\n`);
    expect(pkg.bin['loopwatch']).toBe('./dist/cli/index.js');
  });

  it('an unknown command or option is a usage error (2), without a stack trace; no command prints the help', async () => {
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('loopwatch: unknown command frobnicate\n(run `loopwatch --help` for usage)\n');
    const option = await cli(['--frob']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain('unknown option --frob');
    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: loopwatch <command>');
  });
});
