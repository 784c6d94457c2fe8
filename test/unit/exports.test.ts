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

  it('loopwatch/fastify and loopwatch/express export the same names both ways, from one instance; the plugin skips encapsulation', () => {
    const script = `import * as fastifyEsm from 'loopwatch/fastify'; import * as expressEsm from 'loopwatch/express';
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const fastifyCjs = require('loopwatch/fastify'); const expressCjs = require('loopwatch/express');
      const plugin = fastifyEsm.default;
      console.log(JSON.stringify({
        fastify: Object.keys(fastifyEsm).sort(), fastifyCjs: Object.keys(fastifyCjs).sort(),
        sameFastify: plugin === fastifyCjs.default && plugin === fastifyCjs.fastifyLoopwatch,
        skipOverride: plugin[Symbol.for('skip-override')], name: plugin[Symbol.for('fastify.display-name')],
        express: Object.keys(expressEsm).sort(), expressCjs: Object.keys(expressCjs).sort(),
        sameExpress: expressEsm.default === expressCjs.expressLoopwatch,
      }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({
      fastify: ['default', 'fastifyLoopwatch'],
      fastifyCjs: ['default', 'fastifyLoopwatch'],
      sameFastify: true,
      skipOverride: true,
      name: 'loopwatch',
      express: ['default', 'expressLoopwatch'],
      expressCjs: ['default', 'expressLoopwatch'],
      sameExpress: true,
    });
  });

  it('loopwatch/express validates its options when the middleware is made, with coded errors', () => {
    const { expressLoopwatch } = require('loopwatch/express') as typeof import('../../src/express/index.js');
    const { LoopwatchError } = require('loopwatch') as typeof import('../../src/index.js');
    const cases: [unknown, string][] = [
      [{ statusCode: 200 }, 'loopwatch/express: `statusCode` must be an integer from 400 to 599, got 200'],
      [{ retryAfterS: -1 }, 'loopwatch/express: `retryAfterS` must be an integer from 0 to 86400 (seconds), got -1'],
      [
        { headers: { 'x-a': 1 } },
        'loopwatch/express: `headers.x-a` must be a string, under a valid header name, got 1',
      ],
      [
        { body: 5 },
        'loopwatch/express: `body` must be a string, an object (sent as JSON) or a function of the pressure state, got 5',
      ],
      [{ onPressure: 'log' }, 'loopwatch/express: `onPressure` must be a function, got "log"'],
      [
        { monitor: {} },
        "loopwatch/express: `monitor` must be loopwatch's monitor (the value start() returns), got an object",
      ],
      [
        { maxEventLoopDelay: 5 },
        'loopwatch/express: unknown option `maxEventLoopDelay`; known options are monitor, statusCode, retryAfterS, headers, body, onPressure',
      ],
    ];
    for (const [options, message] of cases) {
      let thrown: unknown;
      try {
        expressLoopwatch(options as never);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(LoopwatchError);
      expect(thrown).toMatchObject({ code: 'ERR_LOOPWATCH_INVALID_OPTION', message });
    }
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
