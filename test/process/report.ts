/**
 * Collects the measured figures of the process-level suite (detection latency, whether the
 * culprit was right) and writes them to test-output/ — the numbers quoted in the docs.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { NODE, ROOT } from './harness.js';
import { execFileSync } from 'node:child_process';

const dir = join(ROOT, 'test-output');
let version: string | undefined;

export function record(row: Record<string, unknown>): void {
  version ??= execFileSync(NODE, ['--version'], { encoding: 'utf8' }).trim();
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, 'scenarios.ndjson'), `${JSON.stringify({ node: version, ...row })}\n`);
}
