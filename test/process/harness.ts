/**
 * Runs a fixture in a child process that really blocks its event loop, with loopwatch
 * attached the way a user would (`-r`, `--import`, or `start()` in the fixture), and observes
 * it from outside: the test process timestamps every line the child writes as it arrives.
 *
 * Fixtures print `MARK <name> <epoch ms>` lines (with fs.writeSync, so they leave before the
 * block) to say when they started blocking. LOOPWATCH_LOG=json makes loopwatch's stderr
 * report machine-readable, so the harness sees each event when it is written — during the
 * block — and can measure detection latency against the fixture's mark.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { BlockEvent, HangEvent, LoopwatchEvent } from '../../src/types.js';

export const ROOT = resolve(__dirname, '..', '..');
export const FIXTURES = join(__dirname, 'fixtures');

/** The Node binary the process-level suite runs children on (LOOPWATCH_TEST_NODE overrides). */
export const NODE = resolve(process.env['LOOPWATCH_TEST_NODE'] ?? process.execPath);

/** The major version of that binary. */
export const NODE_MAJOR = Number(
  execFileSync(NODE, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).trim(),
);

export type Mode = 'require' | 'import' | 'plain';

export interface RunOptions {
  /** How loopwatch is loaded: `-r loopwatch/register`, `--import loopwatch/register`, or not at all (the fixture calls start()). */
  readonly mode: Mode;
  readonly env?: Record<string, string | undefined>;
  readonly nodeArgs?: readonly string[];
  readonly args?: readonly string[];
  /** Kill the child after this long (a failing test must not hang the suite). */
  readonly timeoutMs?: number;
  /** Write no events file. */
  readonly noEventsFile?: boolean;
  /** Called with every line the child writes (stdout and stderr), as it arrives. */
  readonly onLine?: (line: Line) => void;
  /** Called with the child once spawned (to signal it). */
  readonly onSpawn?: (child: ChildProcess) => void;
  /** Working directory of the child (default: the repository). */
  readonly cwd?: string;
}

export interface Line {
  readonly at: number;
  readonly text: string;
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: readonly Line[];
  readonly stderr: readonly Line[];
  readonly stderrText: string;
  /** Block events from the events file (what the worker wrote). */
  readonly events: BlockEvent[];
  /** Hang events from the events file. */
  readonly hangs: HangEvent[];
  /** Block events from stderr (LOOPWATCH_LOG=json), with the time each arrived here. */
  readonly live: { at: number; event: BlockEvent }[];
  /** Hang events from stderr, with the time each arrived here. */
  readonly liveHangs: { at: number; event: HangEvent }[];
  /** `MARK name epochMs` lines of the fixture. */
  readonly marks: Map<string, number>;
  readonly wallMs: number;
  /** Epoch ms at which the child's streams closed (it had exited). */
  readonly closedAt: number;
  readonly timedOut: boolean;
}

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

function splitLines(sink: Line[], onLine?: (line: Line) => void): (chunk: Buffer) => void {
  let pending = '';
  return (chunk) => {
    const at = Date.now();
    pending += chunk.toString('utf8');
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = { at, text: pending.slice(0, newline) };
      pending = pending.slice(newline + 1);
      sink.push(line);
      onLine?.(line);
    }
  };
}

export async function run(script: string, options: RunOptions): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'loopwatch-test-'));
  const eventsFile = join(dir, 'events.ndjson');
  const preload =
    options.mode === 'require'
      ? ['-r', 'loopwatch/register']
      : options.mode === 'import'
        ? ['--import', 'loopwatch/register']
        : [];
  const env: Record<string, string | undefined> = {
    ...process.env,
    LOOPWATCH_LOG: 'json',
    LOOPWATCH_EVENTS_FILE: options.noEventsFile === true ? undefined : eventsFile,
    NODE_OPTIONS: undefined,
    ...options.env,
  };
  const started = Date.now();
  const child = spawn(NODE, [...(options.nodeArgs ?? []), ...preload, script, ...(options.args ?? [])], {
    cwd: options.cwd ?? ROOT,
    env: Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  options.onSpawn?.(child);
  const stdout: Line[] = [];
  const stderr: Line[] = [];
  const live: { at: number; event: BlockEvent }[] = [];
  const liveHangs: { at: number; event: HangEvent }[] = [];
  child.stdout.on('data', splitLines(stdout, options.onLine));
  child.stderr.on(
    'data',
    splitLines(stderr, (line) => {
      options.onLine?.(line);
      if (line.text.startsWith('{"type":"block"'))
        live.push({ at: line.at, event: JSON.parse(line.text) as BlockEvent });
      if (line.text.startsWith('{"type":"hang"'))
        liveHangs.push({ at: line.at, event: JSON.parse(line.text) as HangEvent });
    }),
  );
  let timedOut = false;
  const killer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 20_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) => {
    child.on('close', (c, s) => done([c, s]));
    // Not spawned at all (a wrong binary path): fail now rather than wait for the timeout.
    child.on('error', (error) => {
      stderr.push({ at: Date.now(), text: `spawn failed: ${error.message}` });
      done([null, null]);
    });
  });
  clearTimeout(killer);
  const marks = new Map<string, number>();
  for (const line of stdout) {
    const match = /^MARK (\S+) (\d+(?:\.\d+)?)$/.exec(line.text);
    if (match?.[1] !== undefined) marks.set(match[1], Number(match[2]));
  }
  const all = existsSync(eventsFile)
    ? readFileSync(eventsFile, 'utf8')
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as LoopwatchEvent)
    : [];
  const events = all.filter((e): e is BlockEvent => e.type === 'block');
  const hangs = all.filter((e): e is HangEvent => e.type === 'hang');
  return {
    code,
    signal,
    stdout,
    stderr,
    stderrText: stderr.map((l) => l.text).join('\n'),
    events,
    hangs,
    live,
    liveHangs,
    marks,
    wallMs: Date.now() - started,
    closedAt: Date.now(),
    timedOut,
  };
}

/**
 * Runs the built `loopwatch` command on the Node under test, as a user would: the test
 * runner's own LOOPWATCH_*, NODE_OPTIONS, npm and vitest variables left out, and that Node
 * first on PATH (so that `npm test` and the `node` it starts are the Node under test too).
 * Resolves with its exit status and all it printed, stdout and stderr together.
 */
export async function runCli(
  args: readonly string[],
  cwd: string,
  extraEnv: Readonly<Record<string, string>> = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (
      value !== undefined &&
      !key.startsWith('LOOPWATCH_') &&
      key !== 'NODE_OPTIONS' &&
      !key.startsWith('npm_') &&
      !key.startsWith('VITEST')
    )
      env[key] = value;
  }
  env['PATH'] = `${dirname(NODE)}:${env['PATH'] ?? ''}`;
  env['NO_COLOR'] = '1';
  Object.assign(env, extraEnv);
  const child = spawn(NODE, [join(ROOT, 'dist', 'cli', 'index.js'), ...args], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) =>
    child.on('close', (c, s) => done([c, s])),
  );
  return { code, signal, output };
}

/** Explains a failed expectation with everything the child said. */
export function describeRun(result: RunResult): string {
  return [
    `exit ${result.code} signal ${result.signal}${result.timedOut ? ' (timed out)' : ''} after ${result.wallMs} ms`,
    `stdout:\n${result.stdout.map((l) => l.text).join('\n')}`,
    `stderr:\n${result.stderrText}`,
    `events:\n${[...result.events, ...result.hangs].map((e) => JSON.stringify(e)).join('\n')}`,
  ].join('\n');
}

/**
 * The `ongoing` event of the block in progress when the fixture printed `MARK <mark>`, on
 * `thread`: the last one that started before the mark. A loaded machine may have reported
 * blocks of its own before it (start-up, a late timer); those started earlier still.
 */
export function ongoingAt(result: RunResult, mark = 'block', thread = 'main'): BlockEvent | undefined {
  const at = result.marks.get(mark);
  if (at === undefined) return undefined;
  // startedAt is the last beat before the block, which the mark follows (the clocks agree to ~1 ms).
  return result.events.findLast(
    (e) => e.thread === thread && e.state === 'ongoing' && Date.parse(e.startedAt) <= at + 5,
  );
}

/** The functions of a stack, innermost first. */
export function functions(event: BlockEvent): string[] {
  return event.stack.map((frame) => frame.function);
}
