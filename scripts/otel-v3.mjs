// The OpenTelemetry SDK 3.x line (Node ≥ 22.15, api 1.10), end to end: the repository's
// devDependencies are the 2.x line, so this packs loopwatch, installs it with the 3.x packages
// into .cache/otel-v3 (as an app would), type-checks src/ against that line, and runs
// test/process/otel-v3.test.ts with children on Node 22 from .cache/node-22 (installed by
// test-matrix).   node scripts/otel-v3.mjs
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dir = join(root, '.cache', 'otel-v3');
const node22 = join(root, '.cache', 'node-22', 'node_modules', 'node', 'bin', 'node');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

// Exact pins of one consistent 3.x line (the exporters pin sdk 3.1.0 themselves).
const LINE = {
  '@opentelemetry/api': '1.10.0',
  '@opentelemetry/resources': '3.1.0',
  '@opentelemetry/sdk-metrics': '3.1.0',
  '@opentelemetry/sdk-logs': '3.1.0',
  '@opentelemetry/exporter-metrics-otlp-proto': '0.301.0',
  '@opentelemetry/exporter-metrics-otlp-http': '0.301.0',
  '@opentelemetry/exporter-logs-otlp-proto': '0.301.0',
  '@opentelemetry/exporter-logs-otlp-http': '0.301.0',
  '@opentelemetry/exporter-prometheus': '0.301.0',
  // For the app's own tracing (block context): 3.x renamed sdk-trace-base to sdk-trace
  // (and BasicTracerProvider to TracerProvider).
  '@opentelemetry/sdk-trace': '3.1.0',
  '@opentelemetry/context-async-hooks': '3.1.0',
};

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) {
    console.error(`otel-v3: ${command} ${args.join(' ')} exited ${result.status}`);
    process.exit(1);
  }
}

if (!existsSync(node22)) run(process.execPath, [join(root, 'scripts', 'test-matrix.mjs'), '--install-only', '22']);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
run(npm, ['pack', '--silent', '--pack-destination', dir], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
const tarball = readdirSync(dir).find((name) => name.endsWith('.tgz'));
writeFileSync(
  join(dir, 'package.json'),
  `${JSON.stringify({ private: true, dependencies: { loopwatch: `file:./${tarball}`, ...LINE } }, null, 2)}\n`,
);
run(npm, ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir });

// The same source type-checks against the 3.x line's declarations (the repository checks 2.x).
writeFileSync(
  join(dir, 'tsconfig.check.json'),
  `${JSON.stringify({ extends: '../../tsconfig.json', compilerOptions: { noEmit: true, skipLibCheck: false, baseUrl: '.', paths: { '@opentelemetry/*': ['./node_modules/@opentelemetry/*'] } }, include: ['../../src/**/*.ts', '../../src/**/*.mts'] }, null, 2)}\n`,
);
console.log('otel-v3: type-checking src/ against the 3.x declarations');
run(
  process.execPath,
  [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.check.json')],
  { cwd: root },
);

console.log(
  `\notel-v3: OpenTelemetry 3.x line, children on Node ${spawnSync(node22, ['--version'], { encoding: 'utf8' }).stdout.trim()}`,
);
run(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/process/otel-v3.test.ts'], {
  cwd: root,
  env: { ...process.env, LOOPWATCH_TEST_NODE: node22, LOOPWATCH_OTEL_V3_DIR: dir },
});
