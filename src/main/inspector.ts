/**
 * Can this thread's inspector be reached? Asked before the monitor worker is spawned, because
 * the worker's `session.connectToMainThread()` does not throw when it cannot: Node checks with
 * a native assertion (`parent_handle_ != nullptr`) and aborts the whole process (exit 134).
 * That happens whenever the spawning thread was created without an inspector agent — `node
 * --test`'s runner process, `node --test --watch`, the permission model without
 * `--allow-inspector` — on Node 20, 22, 24 and 26 alike.
 *
 * The question is asked the one way that cannot abort: a session connected to this very
 * thread (`session.connect()`). Node answers with a thrown value when the thread has no
 * agent ("This Environment was initialized without a V8::Inspector") or when the permission
 * model denies it (`ERR_ACCESS_DENIED`), and the monitor worker gets a parent inspector handle
 * exactly when this thread has an agent. Flags are not asked: they come from the command line,
 * NODE_OPTIONS and config files, and change between versions; the agent itself does not lie.
 */
import type { Session } from 'node:inspector';
import { messageOf } from '../common/text.js';

/**
 * `inspector.url()` (the debugger's address while a port is open), or undefined always on a
 * Node built without the inspector, where even loading `node:inspector` throws.
 */
export const inspectorUrl: () => string | undefined = (() => {
  try {
    return (require('node:inspector') as typeof import('node:inspector')).url;
  } catch {
    return () => undefined;
  }
})();

/** Why the inspector of the calling thread cannot be reached, or undefined when it can. */
export function inspectorUnavailable(): string | undefined {
  let SessionClass: typeof Session;
  try {
    // A Node built without the inspector throws here (ERR_INSPECTOR_NOT_AVAILABLE).
    SessionClass = (require('node:inspector') as typeof import('node:inspector')).Session;
  } catch (error) {
    return `this Node has no inspector (${messageOf(error)})`;
  }
  const session = new SessionClass();
  try {
    session.connect();
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === 'ERR_ACCESS_DENIED') {
      return 'the permission model denies the inspector (Node ≥ 24 allows it with --allow-inspector)';
    }
    return `this process has no inspector${processRole()} (${messageOf(error)})`;
  }
  try {
    session.disconnect();
  } catch {
    // connected a moment ago; nothing to undo
  }
  return undefined;
}

/**
 * `node --test` runs each test file in a process of its own and only orchestrates them (unless
 * its isolation is `none`): there is no app code to watch in that process, and Node gives it
 * no inspector.
 */
export function isTestRunnerProcess(
  execArgv: readonly string[] = process.execArgv,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (env['NODE_TEST_CONTEXT'] !== undefined) return false;
  const isolationNone = execArgv.some(
    (arg) => arg === '--test-isolation=none' || arg === '--experimental-test-isolation=none',
  );
  return !isolationNone && execArgv.some((arg) => arg === '--test' || arg.startsWith('--test='));
}

function processRole(): string {
  if (isTestRunnerProcess()) return ": it is node --test's runner process";
  if (process.execArgv.some((arg) => arg === '--test' || arg.startsWith('--test='))) return ': it runs node --test';
  return '';
}
