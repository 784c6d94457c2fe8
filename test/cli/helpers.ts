/**
 * Runs the built `loopwatch` command (dist/cli/index.js) in a child process, the way a user
 * does, and collects what it prints, line by line as it arrives (for readiness signals).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli', 'index.js');
export const FIXTURES = join(__dirname, 'fixtures');

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
  /** Written to the command's stdin, which is then closed. */
  readonly input?: string | Buffer;
  /** Every line of stdout and stderr, as it arrives. */
  readonly onLine?: (line: string, child: ChildProcess) => void;
  readonly timeoutMs?: number;
  /** Another copy of the built command to run (default: this repository's dist/cli/index.js). */
  readonly command?: string;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'loopwatch-cli-test-'));
}

export function cli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  // The test runner's own LOOPWATCH_* / NODE_OPTIONS / colour settings must not leak in.
  const env: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('LOOPWATCH_') && !['NODE_OPTIONS', 'FORCE_COLOR', 'NO_COLOR'].includes(key)) env[key] = value;
  }
  Object.assign(env, options.env);
  const child = spawn(process.execPath, [options.command ?? CLI, ...args], {
    cwd: options.cwd ?? ROOT,
    env: Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined)),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const lines = (append: (text: string) => void): ((chunk: Buffer) => void) => {
    let pending = '';
    return (chunk) => {
      const text = chunk.toString('utf8');
      append(text);
      pending += text;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        options.onLine?.(pending.slice(0, newline), child);
        pending = pending.slice(newline + 1);
      }
    };
  };
  child.stdout.on(
    'data',
    lines((t) => (stdout += t)),
  );
  child.stderr.on(
    'data',
    lines((t) => (stderr += t)),
  );
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.input);
  const killer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  return new Promise((done) => {
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      done({ code, signal, stdout, stderr });
    });
  });
}

export function describe(result: CliResult): string {
  return `exit ${result.code} signal ${result.signal}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}
