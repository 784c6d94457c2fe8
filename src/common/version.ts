import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let version: string | undefined;

/**
 * loopwatch's own version, read once from its package.json (this file is two levels below it
 * in src/ and in dist/ alike).
 */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string })
    .version;
  return version;
}
