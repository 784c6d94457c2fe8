/**
 * The package as a user gets it: `npm pack` of the built dist/, installed from the tarball into
 * a fresh project in a temporary folder (nothing linked back into this repository), and used
 * there the documented ways: both preloads, `npx loopwatch run`, the vitest plugin, the Fastify
 * plugin and Express middleware (on Fastify 4 and 5, Express 4 and 5), and a TypeScript consumer
 * type-checked under moduleResolution node16, bundler and node10 (and against Fastify 4's types).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE, ROOT } from './harness.js';
import { OtlpReceiver } from './otlp-receiver.js';

const versionOf = (name: string): string =>
  (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

let dir = '';
let project = '';
let tarballPath = '';

/** The Node under test first on PATH, so that npm, npx and `node` in scripts all run it. */
const env = (): NodeJS.ProcessEnv => {
  const clean = Object.entries(process.env).filter(
    ([key]) => !key.startsWith('LOOPWATCH_') && !key.startsWith('VITEST') && key !== 'NODE_OPTIONS',
  );
  return {
    ...Object.fromEntries(clean),
    PATH: `${dirname(NODE)}${delimiter}${process.env['PATH'] ?? ''}`,
    LOOPWATCH_THRESHOLD_MS: '100',
    NO_COLOR: '1',
  };
};

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function inProject(
  command: string,
  args: readonly string[],
  extraEnv: NodeJS.ProcessEnv = {},
  cwd = project,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...env(), ...extraEnv } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** npm install of the packed tarball and `packages` into the project at `cwd`, as a user does it. */
function installInto(cwd: string, packages: readonly string[]): Promise<Outcome> {
  return inProject(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarballPath, ...packages],
    {},
    cwd,
  );
}

const show = (outcome: Outcome): string =>
  `exit ${outcome.code}\nstdout:\n${outcome.stdout}\nstderr:\n${outcome.stderr}`;

/** The block events a JSON-logging process wrote on stderr. */
function blockEvents(stderr: string): { state: string; stack: { function: string; file: string }[] }[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { type: string; state: string; stack: { function: string; file: string }[] })
    .filter((event) => event.type === 'block');
}

// Each app blocks once its monitor is armed (`start()` returns the one the preload started): on
// a loaded machine a worker thread can take longer to start than a short app takes to end.
const BLOCKING = `function crunchOrders() {
  const end = Date.now() + 400;
  let n = 0;
  while (Date.now() < end) n++;
  return n;
}
`;
const APP_CJS = `${BLOCKING}require('loopwatch').start().ready.then(() => setTimeout(() => crunchOrders(), 20));\n`;
const APP_MJS = `${BLOCKING}import { start } from 'loopwatch';\nawait start().ready;\nsetTimeout(() => crunchOrders(), 20);\n`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'loopwatch-pack-'));
  // dist/ is built by npm test before the suite; prepack would rebuild it under running tests.
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
      cwd: ROOT,
      encoding: 'utf8',
    }),
  ) as { filename: string; files: { path: string }[] }[];
  const tarball = packed[0];
  if (tarball === undefined) throw new Error('npm pack printed no tarball');
  tarballPath = join(dir, tarball.filename);
  project = join(dir, 'consumer');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  writeFileSync(join(project, 'app.cjs'), APP_CJS);
  writeFileSync(join(project, 'app.mjs'), APP_MJS);
  const install = await installInto(project, [
    `vitest@${versionOf('vitest')}`,
    `typescript@${versionOf('typescript')}`,
    `@types/node@${versionOf('@types/node')}`,
    `fastify@${versionOf('fastify')}`,
    `express@${versionOf('express')}`,
    // The 4.x majors the peer ranges allow, under the aliases of this repository's devDependencies.
    `fastify4@npm:fastify@${versionOf('fastify4')}`,
    `express4@npm:express@${versionOf('express4')}`,
    `prom-client@${versionOf('prom-client')}`,
  ]);
  if (install.code !== 0) throw new Error(`npm install of the tarball failed\n${show(install)}`);
}, 300_000);

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('the packed tarball, installed in a fresh project', () => {
  it('is a copy, not a link back into the repository, and ships what it needs only', () => {
    const installed = realpathSync(join(project, 'node_modules', 'loopwatch'));
    expect(installed.startsWith(realpathSync(project))).toBe(true);
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    expect(Object.keys(manifest.exports)).not.toContain('./worker');
    expect(readFileSync(join(installed, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    expect(() => readFileSync(join(installed, 'test', 'unit', 'package.test.ts'))).toThrow();
  });

  it.each([
    ['--import', 'app.mjs'],
    ['-r', 'app.cjs'],
  ])('node %s loopwatch/register %s: the block is reported with its culprit', async (flag, app) => {
    const outcome = await inProject(NODE, [flag, 'loopwatch/register', app], { LOOPWATCH_LOG: 'json' });
    expect(outcome.code, show(outcome)).toBe(0);
    const events = blockEvents(outcome.stderr);
    expect(
      events.map((e) => e.state),
      show(outcome),
    ).toEqual(['ongoing', 'ended']);
    expect(events[0]?.stack[0], show(outcome)).toMatchObject({ function: 'crunchOrders' });
    expect(events[0]?.stack[0]?.file, show(outcome)).toBe(join(realpathSync(project), app));
  });

  it("require('loopwatch/prom-client'): the app's registry shows the block by its culprit", async () => {
    writeFileSync(
      join(project, 'prom.cjs'),
      `${BLOCKING}const client = require('prom-client');
require('loopwatch/prom-client').collectLoopwatchMetrics();
require('loopwatch').start().ready.then(() => setTimeout(() => {
  crunchOrders();
  // The worker publishes the count within 100 ms of the block; the scrape reads it then.
  setTimeout(() => client.register.metrics().then((text) => console.log(text)), 300);
}, 20));
`,
    );
    const outcome = await inProject(NODE, ['prom.cjs'], { LOOPWATCH_LOG: 'off' });
    expect(outcome.code, show(outcome)).toBe(0);
    expect(outcome.stdout).toContain('loopwatch_up 1');
    expect(outcome.stdout).toMatch(/^loopwatch_blocks_total\{[^}]*code_function_name="crunchOrders"[^}]*\} 1$/m);
  });

  it('npx loopwatch run: reports the block live and exits with the command’s status', async () => {
    const outcome = await inProject('npx', ['--no-install', 'loopwatch', 'run', '--', 'node', 'app.cjs']);
    expect(outcome.code, show(outcome)).toBe(0);
    expect(outcome.stderr, show(outcome)).toMatch(/block #1: event loop blocked for [\d,]+ ms so far/);
    expect(outcome.stderr, show(outcome)).toMatch(/crunchOrders \(app\.cjs:4/);
  });

  it("import loopwatch from 'loopwatch/vitest': a test that blocks fails, naming the culprit", async () => {
    writeFileSync(
      join(project, 'vitest.config.mjs'),
      `import { defineConfig } from 'vitest/config';
import loopwatch from 'loopwatch/vitest';
export default defineConfig({ plugins: [loopwatch({ thresholdMs: 50, summary: false })] });
`,
    );
    writeFileSync(
      join(project, 'orders.test.mjs'),
      `import { it } from 'vitest';
function totalOrders() {
  const end = Date.now() + 200;
  while (Date.now() < end);
}
it('totals the orders', () => totalOrders());
`,
    );
    const outcome = await inProject('npx', ['--no-install', 'vitest', 'run', 'orders.test.mjs']);
    expect(outcome.code, show(outcome)).toBe(1);
    expect(outcome.stdout + outcome.stderr, show(outcome)).toMatch(/BlockingError: the event loop was blocked/);
    expect(outcome.stdout + outcome.stderr, show(outcome)).toMatch(/totalOrders .*orders\.test\.mjs:4/);
  });

  it("require('loopwatch/fastify') and import 'loopwatch/express', 4.x and 5.x: a blocked app sheds, then serves", async () => {
    const app = (framework: string, pkg: string): string => `${BLOCKING}
const monitor = require('loopwatch').start({ pressure: { maxLagMs: 200 } });
const results = [];
async function main(url) {
  await monitor.ready;
  // Let the app's own loading leave the figures, then block and ask at once.
  while ((await fetch(url)).status !== 200) await new Promise((r) => setTimeout(r, 50));
  setImmediate(() => crunchOrders());
  const during = await fetch(url);
  results.push(during.status, during.headers.get('retry-after'));
  while ((await fetch(url)).status !== 200) await new Promise((r) => setTimeout(r, 50));
  results.push(200);
  console.log(JSON.stringify(results));
}
${
  framework === 'fastify'
    ? `const fastify = require('${pkg}')();
fastify.register(require('loopwatch/fastify'));
fastify.get('/', async () => 'ok');
fastify.listen({ port: 0, host: '127.0.0.1' }).then((url) => main(url).finally(() => fastify.close()));`
    : `const app = require('${pkg}')();
import('loopwatch/express').then(({ default: shed }) => {
  app.use(shed());
  app.get('/', (req, res) => res.send('ok'));
  const server = app.listen(0, '127.0.0.1', () =>
    main('http://127.0.0.1:' + server.address().port).finally(() => server.close()));
});`
}
`;
    const packages = { fastify: 'fastify', fastify4: 'fastify', express: 'express', express4: 'express' };
    for (const [pkg, framework] of Object.entries(packages))
      writeFileSync(join(project, `${pkg}-app.cjs`), app(framework, pkg));
    for (const file of Object.keys(packages).map((pkg) => `${pkg}-app.cjs`)) {
      const outcome = await inProject(NODE, [file], { LOOPWATCH_LOG: 'off' });
      expect(outcome.code, show(outcome)).toBe(0);
      expect(JSON.parse(outcome.stdout.trim().split('\n').at(-1) ?? ''), `${file}\n${show(outcome)}`).toEqual([
        503,
        '1',
        200,
      ]);
    }
  }, 120_000);

  it('type-checks a TypeScript consumer under moduleResolution node16, bundler and node10, and against Fastify 4', async () => {
    const consumer = `import { start, DEFAULT_THRESHOLD_MS, LoopwatchError, type BlockEvent, type Monitor } from 'loopwatch';
import loopwatch, { expectNoBlocking, type LoopwatchVitestOptions } from 'loopwatch/vitest';
import { allowBlocking, DEFAULT_NODE_TEST_HANG_MS } from 'loopwatch/node-test';
const monitor: Monitor = start({ thresholdMs: DEFAULT_THRESHOLD_MS });
monitor.on('block', (event: BlockEvent) => console.log(event.durationMs.toFixed(0)));
const options: LoopwatchVitestOptions = { thresholdMs: 50 };
export const plugin = loopwatch(options);
export const hang: number = DEFAULT_NODE_TEST_HANG_MS;
export const fine = (): Promise<void> => expectNoBlocking(() => allowBlocking(() => 1));
export const isError = (error: unknown): boolean => error instanceof LoopwatchError;
import fastifyLoopwatch, { type PressureState } from 'loopwatch/fastify';
import { expressLoopwatch } from 'loopwatch/express';
import { fastify } from 'fastify';
import { createServer } from 'node:http';
export const app = fastify().register(fastifyLoopwatch, {
  statusCode: 503,
  onPressure: (request, reply, state: PressureState) => reply.code(503).send(state.reasons[0]?.limit),
});
const middleware = expressLoopwatch({ body: (state: PressureState) => ({ why: state.reasons }) });
export const server = createServer((req, res) => middleware(req, res, () => res.end()));
export const pressured: boolean = monitor.isUnderPressure().underPressure;
`;
    writeFileSync(join(project, 'consumer.ts'), consumer);
    writeFileSync(join(project, 'consumer.mts'), consumer);
    // A mistake must fail the check, or the check proves nothing.
    writeFileSync(join(project, 'wrong.ts'), `import { start } from 'loopwatch';\nstart({ thresholdMs: 'fast' });\n`);
    const base = { strict: true, noEmit: true, skipLibCheck: false, target: 'es2022', types: ['node'] };
    const configs = {
      node16: { module: 'node16', moduleResolution: 'node16', files: ['consumer.ts', 'consumer.mts'] },
      bundler: { module: 'esnext', moduleResolution: 'bundler', files: ['consumer.ts'] },
      // Fastify's own types (pino's, through it) need esModuleInterop under node10.
      node10: { module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true, files: ['consumer.ts'] },
      // Fastify 4's types, for the consumer's `fastify` and for loopwatch/fastify's own import of it.
      fastify4: {
        module: 'node16',
        moduleResolution: 'node16',
        paths: { fastify: ['./node_modules/fastify4/fastify.d.ts'] },
        files: ['consumer.ts', 'consumer.mts'],
      },
      wrong: { module: 'node16', moduleResolution: 'node16', files: ['wrong.ts'] },
    };
    const results = Object.fromEntries(
      await Promise.all(
        Object.entries(configs).map(async ([name, { files, ...compilerOptions }]) => {
          writeFileSync(
            join(project, `tsconfig.${name}.json`),
            JSON.stringify({ compilerOptions: { ...base, ...compilerOptions }, files }),
          );
          // The files listed show which Fastify's types the check read.
          const args = ['--no-install', 'tsc', '-p', `tsconfig.${name}.json`, '--listFiles'];
          return [name, await inProject('npx', args)] as const;
        }),
      ),
    );
    for (const name of ['node16', 'bundler', 'node10', 'fastify4']) {
      const outcome = results[name];
      expect(outcome?.code, `${name}: ${outcome === undefined ? '' : show(outcome)}`).toBe(0);
    }
    expect(results['fastify4']?.stdout).toContain('/node_modules/fastify4/fastify.d.ts');
    expect(results['fastify4']?.stdout).not.toContain('/node_modules/fastify/fastify.d.ts');
    expect(results['node16']?.stdout).toContain('/node_modules/fastify/fastify.d.ts');
    expect(results['wrong']?.code).toBe(2);
    expect(results['wrong']?.stdout).toMatch(/wrong\.ts\(2,.*'string' is not assignable to type 'number'/);
  }, 240_000);
  it('with @opentelemetry packages of mismatched releases: exports, and one line says which copies are loaded', async () => {
    // What a user gets who installed @opentelemetry/core at another release than the SDK's:
    // npm nests a private copy of core under each package that pins its own.
    const mismatched = '2.12.1';
    expect(versionOf('@opentelemetry/core')).not.toBe(mismatched);
    const otel = join(dir, 'otel-consumer');
    mkdirSync(otel);
    writeFileSync(join(otel, 'package.json'), JSON.stringify({ name: 'otel-consumer', private: true }));
    writeFileSync(join(otel, 'app.cjs'), `${BLOCKING}setTimeout(() => crunchOrders(), 1500);\n`);
    const install = await installInto(otel, [
      ...['api', 'sdk-logs', 'resources', 'exporter-logs-otlp-http'].map(
        (name) => `@opentelemetry/${name}@${versionOf(`@opentelemetry/${name}`)}`,
      ),
      `@opentelemetry/core@${mismatched}`,
    ]);
    expect(install.code, show(install)).toBe(0);
    const receiver = new OtlpReceiver();
    const endpoint = await receiver.listen();
    try {
      const outcome = await inProject(
        NODE,
        ['-r', 'loopwatch/register', 'app.cjs'],
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_LOGS_EXPORTER: 'otlp',
          OTEL_METRICS_EXPORTER: 'none',
        },
        otel,
      );
      expect(outcome.code, show(outcome)).toBe(0);
      const lines = outcome.stderr.split('\n').filter((line) => line.includes('copies of @opentelemetry/'));
      expect(lines, show(outcome)).toHaveLength(1);
      expect(lines[0], show(outcome)).toMatch(
        /^loopwatch: [2-9] copies of @opentelemetry\/core (and \d copies of @opentelemetry\/otlp-transformer )?are loaded: .*`npm ls @opentelemetry\/core`/,
      );
      // Still exported: the block's alert reached the receiver.
      expect(
        receiver.arrivals.some((a) => a.logs.length > 0),
        show(outcome),
      ).toBe(true);
    } finally {
      receiver.close();
    }
  }, 300_000);
});
