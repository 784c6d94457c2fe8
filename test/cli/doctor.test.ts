/** `loopwatch doctor` runs the real probes on this Node and explains the result. */
import { expect, it } from 'vitest';
import { cli, describe } from './helpers.js';

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
