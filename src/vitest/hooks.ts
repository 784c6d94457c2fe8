/**
 * The test-process side of `loopwatch/vitest`: one watch per process (or thread), armed and
 * proven by the canary before the first test, and four hooks that cut the run into windows —
 * a file's imports, its beforeAll hooks, each test (with its beforeEach/afterEach hooks), its
 * afterAll hooks — so that each block is blamed on the window it ran in.
 */
import { optionsFromWire } from '../testing/options.js';
import { isObject } from '../common/guards.js';
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
  readonly task: {
    readonly name: string;
    readonly meta: Meta;
    readonly file: FileLike;
    readonly suite?: { readonly name: string };
  };
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

/**
 * The file whose suite-level hook runs. vitest 4 passes (fixtures, suite), vitest 3 (suite),
 * and vitest 4 rejects a first parameter that is not a destructuring pattern: the hooks take
 * no parameters and read `arguments`.
 */
function fileOf(args: ArrayLike<unknown>): FileLike | undefined {
  for (let i = args.length - 1; i >= 0; i--) {
    const suite = args[i] as SuiteLike | undefined;
    if (isObject(suite) && 'meta' in suite) {
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
    throw new Error(
      'loopwatch/vitest: the setup file ran without the plugin; add loopwatch() to the plugins of your vitest config instead of listing the setup file',
    );
  }
  const watch = installWatch(() => new TestWatch(optionsFromWire(wire.options), wire.hangMs, wire.runDir, wire.root));
  if (watch.options.canary) await watch.canary();

  // vitest reads a hook's first parameter as a fixtures pattern and rejects anything but `{ … }`,
  // so the suite it passes is read from `arguments`.
  api.beforeAll(async function () {
    // eslint-disable-next-line prefer-rest-params -- see above: a rest parameter is rejected by vitest
    const file = fileOf(arguments) ?? { filepath: watch.currentFile, meta: {} };
    settle(file.meta, await watch.fileStart(file.filepath));
  });
  api.beforeEach(async (context) => {
    const file = context.task.file;
    settle(file.meta, await watch.testStart(context.task.name, file.filepath));
  });
  api.afterEach(async (context) => {
    settle(context.task.meta, await watch.testEnd(context.task.name));
  });
  api.afterAll(async function () {
    // eslint-disable-next-line prefer-rest-params -- as in beforeAll
    const file = fileOf(arguments) ?? { filepath: watch.currentFile, meta: {} };
    settle(file.meta, await watch.fileEnd(file.filepath));
  });
}
