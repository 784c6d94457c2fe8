// Type-checked lint for the TypeScript (library, tests, benchmark apps, the report's browser code)
// and the recommended rules for the plain JavaScript around it (scripts, bench, probes, examples).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The Node globals the JavaScript files use; listed rather than pulling in a package for it.
const node = Object.fromEntries(
  [
    'process',
    'console',
    'Buffer',
    'URL',
    'URLSearchParams',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
    'clearImmediate',
    'queueMicrotask',
    'structuredClone',
    'performance',
    'SharedArrayBuffer',
    'Atomics',
    'TextEncoder',
    'TextDecoder',
    'AbortController',
    'AbortSignal',
    'fetch',
    'require',
    'module',
    'exports',
    '__dirname',
    '__filename',
    'globalThis',
  ].map((name) => [name, 'readonly']),
);

export default tseslint.config(
  // Fixtures are test inputs shaped on purpose; docs/research holds prototypes kept as measured.
  { ignores: ['dist/', 'node_modules/', '.cache/', 'test-output/', '**/fixtures/**', 'docs/research/'] },
  js.configs.recommended,
  { files: ['**/*.{js,cjs,mjs}'], languageOptions: { globals: node } },
  {
    files: ['**/*.{ts,mts}'],
    extends: [tseslint.configs.strictTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['vitest.config.mts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Durations and counts in messages are numbers by design; strict's default forbids them.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/restrict-plus-operands': ['error', { allowNumberAndString: true }],
      // `(event) => sink.write(event)` where the callback's type says void is the idiom the
      // codebase uses for one-line handlers; braces would add nothing.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // `const { mapped: _, ...rest } = frame` is how a key is left out of a copy.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  {
    // node:inspector and the optional OpenTelemetry peers load lazily and synchronously, only when
    // the configuration uses them, so that an app without them (or a Node without the inspector)
    // never pays for them or fails on them. prom-client likewise, only for its default registry;
    // node:net and node:v8 on the main thread only for the options that need them; the profiler
    // only when it runs.
    files: [
      'src/prom-client/bridge.ts',
      'src/options.ts',
      'src/main/pressure.ts',
      'src/main/inspector.ts',
      'src/worker/boot.ts',
      'src/worker/capture.ts',
      'src/worker/threads.ts',
      'src/worker/sessions.ts',
      'src/worker/telemetry.ts',
    ],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
