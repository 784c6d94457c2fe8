/**
 * The test-process side of `loopwatch/vitest`: one watch per process (or thread), armed and
 * proven by the canary before the first test, and four hooks that cut the run into windows —
 * a file's imports, its beforeAll hooks, each test (with its beforeEach/afterEach hooks), its
 * afterAll hooks — so that each block is blamed on the window it ran in.
 */
import { optionsFromWire } from '../testing/options.js';
import { installWatch, TestWatch, type BlockRecord, type Verdict } from '../testing/runtime.js';
import { META_KEY, PROVIDE_KEY, type VitestWire } from './shared.js';

interface Meta {
  [key: string]: unknown;
}
interface FileLike {
  readonly filepath: string;
  readonly meta: Meta;
}
interface SuiteLike {
  readonly file?: FileLike;
  readonly filepath?: string;
  readonly meta: Meta;
}
interface TestContextLike {
  readonly task: { readonly name: string; readonly meta: Meta; readonly file: FileLike; readonly suite?: { readonly name: string } };
}

type Hook<A> = (fn: (arg: A) => Promise<void>) => void;
type SuiteHook = (fn: () => Promise<void>) => void;

export interface VitestApi {
  readonly beforeAll: SuiteHook;
  readonly afterAll: SuiteHook;
  readonly beforeEach: Hook<TestContextLike>;
  readonly afterEach: Hook<TestContextLike>;
  readonly inject: (key: string) => unknown;
}

const CANARY_DONE = Symbol.for('loopwatch.vitest.canary');

/**
 * The file whose suite-level hook runs. vitest 4 passes (fixtures, suite), vitest 3 (suite),
 * and vitest 4 rejects a first parameter that is not a destructuring pattern: the hooks take
 * no parameters and read `arguments`.
 */
function fileOf(args: ArrayLike<unknown>): FileLike | undefined {
  for (let i = args.length - 1; i >= 0; i--) {
    const suite = args[i] as SuiteLike | undefined;
    if (suite !== null && typeof suite === 'object' && 'meta' in suite) {
      const file = suite.file ?? (typeof suite.filepath === 'string' ? (suite as unknown as FileLike) : undefined);
      if (file !== undefined) return file;
    }
  }
  return undefined;
}

function record(meta: Meta, records: readonly BlockRecord[]): void {
  if (records.length === 0) return;
  const previous = Array.isArray(meta[META_KEY]) ? (meta[META_KEY] as BlockRecord[]) : [];
  meta[META_KEY] = [...previous, ...records];
}

function settle(meta: Meta, verdict: Verdict): void {
  record(meta, verdict.records);
  if (verdict.error !== undefined) throw verdict.error;
}

export async function setupVitest(api: VitestApi): Promise<void> {
  const wire = api.inject(PROVIDE_KEY) as VitestWire | undefined;
  if (wire === undefined) {
    throw new Error('loopwatch/vitest: the setup file ran without the plugin; add loopwatch() to the plugins of your vitest config instead of listing the setup file');
  }
  const watch = installWatch(() => new TestWatch(optionsFromWire(wire.options), wire.hangMs, wire.runDir, wire.root));
  const global = globalThis as { [CANARY_DONE]?: boolean };
  if (watch.options.canary && global[CANARY_DONE] !== true) {
    await watch.canary();
    global[CANARY_DONE] = true;
  }
  let inTests = false;

  api.beforeAll(async function () {
    const file = fileOf(arguments) ?? { filepath: watch.currentFile, meta: {} };
    inTests = false;
    settle(file.meta, watch.judge(await watch.take(), { kind: 'file', what: 'imports', file: file.filepath }));
  });
  api.beforeEach(async (context) => {
    const file = context.task.file;
    // Before the first test: what the file's beforeAll hooks blocked. Between tests the
    // previous afterEach has just settled: one round trip to the worker per test is enough.
    const earlier = inTests ? watch.takeDelivered() : await watch.take();
    settle(file.meta, watch.judge(earlier, { kind: 'file', what: inTests ? 'between tests' : 'beforeAll', file: file.filepath }));
    inTests = true;
    watch.beginTest(context.task.name, file.filepath);
  });
  api.afterEach(async (context) => {
    settle(context.task.meta, watch.judge(await watch.take(), { kind: 'test', name: context.task.name }));
  });
  api.afterAll(async function () {
    const file = fileOf(arguments) ?? { filepath: watch.currentFile, meta: {} };
    inTests = false;
    settle(file.meta, watch.judge(await watch.take(), { kind: 'file', what: 'afterAll', file: file.filepath }));
  });
}
