import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  files: string[];
};

describe('package.json', () => {
  it('runs nothing when installed: the tarball ships dist, built by prepack', () => {
    // npm (11 and later) asks users to approve any of these on every install of the package.
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare'])
      expect(pkg.scripts[hook], hook).toBeUndefined();
    expect(pkg.scripts['prepack']).toBe('npm run build');
    expect(pkg.files).toContain('dist');
  });
});
