// Pins the exported surface of both builds (the package must be built: `npm test` does).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(__filename);

describe('package entry points', () => {
  it('CJS and ESM export the same names, and ESM re-exports the CJS instance', () => {
    const cjs = require('loopwatch') as Record<string, unknown>;
    expect(Object.keys(cjs).sort()).toEqual(['DEFAULT_THRESHOLD_MS', 'LoopwatchError', 'start']);
    // Plain Node, not the test runner's module graph.
    const script = `import * as esm from 'loopwatch'; import { createRequire } from 'node:module';
      const cjs = createRequire(import.meta.url)('loopwatch');
      console.log(JSON.stringify({ keys: Object.keys(esm).sort(), same: esm.start === cjs.start }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ keys: ['DEFAULT_THRESHOLD_MS', 'LoopwatchError', 'start'], same: true });
  });

  it('ships the register entry points; the monitor thread is a file start() spawns, not an export', () => {
    expect(() => require.resolve('loopwatch/worker')).toThrow(/not defined by "exports"/);
    expect(require.resolve('loopwatch/register')).toMatch(/dist\/register\.js$/);
  });

  it('loopwatch/vitest and loopwatch/node-test export the same names both ways, from one instance', () => {
    const script = `import * as vitestEsm from 'loopwatch/vitest'; import * as nodeTestEsm from 'loopwatch/node-test';
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const vitestCjs = require('loopwatch/vitest'); const nodeTestCjs = require('loopwatch/node-test');
      console.log(JSON.stringify({
        vitest: Object.keys(vitestEsm).sort(), vitestCjs: Object.keys(vitestCjs).sort(), sameVitest: vitestEsm.allowBlocking === vitestCjs.allowBlocking && vitestEsm.default === vitestCjs.default,
        nodeTest: Object.keys(nodeTestEsm).sort(), nodeTestCjs: Object.keys(nodeTestCjs).sort(), sameNodeTest: nodeTestEsm.expectNoBlocking === nodeTestCjs.expectNoBlocking,
      }));`;
    // Importing loopwatch/node-test installs its root hooks, so node:test reports an empty run
    // after our line.
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out.split('\n').find((line) => line.startsWith('{')) ?? '')).toEqual({
      vitest: ['BlockingError', 'allowBlocking', 'default', 'expectNoBlocking'],
      vitestCjs: ['BlockingError', 'allowBlocking', 'default', 'expectNoBlocking'],
      sameVitest: true,
      nodeTest: ['BlockingError', 'DEFAULT_NODE_TEST_HANG_MS', 'allowBlocking', 'expectNoBlocking'],
      nodeTestCjs: ['BlockingError', 'DEFAULT_NODE_TEST_HANG_MS', 'allowBlocking', 'expectNoBlocking'],
      sameNodeTest: true,
    });
  });

  it('loopwatch/prom-client exports collectLoopwatchMetrics both ways, from one instance', () => {
    const script = `import * as esm from 'loopwatch/prom-client'; import { createRequire } from 'node:module';
      const cjs = createRequire(import.meta.url)('loopwatch/prom-client');
      console.log(JSON.stringify({ esm: Object.keys(esm).sort(), cjs: Object.keys(cjs).sort(),
        same: esm.collectLoopwatchMetrics === cjs.collectLoopwatchMetrics }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({
      esm: ['collectLoopwatchMetrics'],
      cjs: ['collectLoopwatchMetrics'],
      same: true,
    });
  });
});
