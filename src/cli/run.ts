/**
 * `loopwatch run -- command…`: runs a command with loopwatch preloaded into every Node process
 * it starts (through NODE_OPTIONS), reports each block live from the events file the monitors
 * write, and prints a summary when the command ends.
 *
 *   loopwatch (this process)                 the command (and the Node processes it starts)
 *   ────────────────────────                 ──────────────────────────────────────────────
 *   spawn, stdio inherited  ───────────────► NODE_OPTIONS="… -r dist/register.js"
 *                                            LOOPWATCH_LOG=off, LOOPWATCH_EVENTS_FILE=<file>
 *   tail <file> ◄──────── appended by each process's monitor worker, during the block
 *   print each event live (stderr)
 *   forward SIGINT / SIGTERM / SIGHUP ──────►
 *   child exits → summary, --html, exit with its status
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { constants as os, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LoopwatchError } from '../errors.js';
import { ENV_NAMES, optionsFromEnv } from '../options.js';
import type { LoopwatchEvent } from '../types.js';
import { parse, splitCommand } from './args.js';
import { CliError, EXIT_NOT_EXECUTABLE, EXIT_NOT_FOUND, usageError } from './errors.js';
import { EventCollector, describeProblems } from './events.js';
import { duration, formatLive, formatSummary, styleFor } from './format.js';
import { writeHtmlReport } from './html.js';
import { analyse } from './summary.js';
import { Tail } from './tail.js';
import { messageOf } from '../common/text.js';

export const RUN_OPTIONS = {
  threshold: { type: 'string' },
  hang: { type: 'string' },
  'hang-action': { type: 'string' },
  events: { type: 'string' },
  html: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Flags and the variables they set; a flag wins over the same variable in the environment. */
const FLAG_ENV = {
  threshold: ENV_NAMES.thresholdMs,
  hang: ENV_NAMES.hangMs,
  'hang-action': ENV_NAMES.hangAction,
} as const;

/** `-r` with the path quoted as NODE_OPTIONS wants it (paths with spaces, quotes, backslashes). */
function preloadOption(registerPath: string): string {
  return `-r "${registerPath.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A path a file can be written to (its folder exists and is writable), checked before the run. */
export function writablePath(flag: string, value: string, command: string): string {
  const file = resolve(value);
  let folderOk: boolean;
  try {
    folderOk = statSync(dirname(file)).isDirectory();
    accessSync(dirname(file), constants.W_OK);
  } catch {
    folderOk = false;
  }
  if (!folderOk)
    throw usageError(`${flag} ${value}: the folder ${dirname(file)} does not exist or is not writable`, command);
  try {
    if (statSync(file).isDirectory()) throw usageError(`${flag} ${value} is a folder, not a file`, command);
  } catch (error) {
    if (error instanceof CliError) throw error;
    // Not there yet: it will be created.
  }
  return file;
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** `node app.js --port 3000` for a pid's command line (Linux /proc), for pids the user did not start directly. */
function commandLineOf(pid: number): string | undefined {
  try {
    const words = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((w) => w !== '');
    const text = words.join(' ');
    return text.length > 80 ? `${text.slice(0, 79)}…` : text;
  } catch {
    return undefined;
  }
}

function quoteCommand(command: readonly string[]): string {
  return command.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export async function runCommand(args: readonly string[], helpText: string): Promise<number> {
  const { own, command } = splitCommand(args, RUN_OPTIONS);
  const { values } = parse('run', own, RUN_OPTIONS, false);
  if (values['help'] === true) {
    process.stdout.write(helpText);
    return 0;
  }
  const program = command[0];
  if (program === undefined) throw usageError('no command to run: loopwatch run [options] -- node app.js', 'run');
  const cwd = process.cwd();
  const eventsFlag = values['events'] as string | undefined;
  const htmlFile = typeof values['html'] === 'string' ? writablePath('--html', values['html'], 'run') : undefined;

  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [flag, variable] of Object.entries(FLAG_ENV)) {
    const value = values[flag];
    if (typeof value === 'string' && variable !== undefined) env[variable] = value;
  }
  // Without --events, a LOOPWATCH_EVENTS_FILE of the user's is kept (and followed).
  let tempDir: string | undefined;
  let eventsFile: string;
  if (eventsFlag !== undefined) eventsFile = writablePath('--events', eventsFlag, 'run');
  else if (env['LOOPWATCH_EVENTS_FILE'] !== undefined && env['LOOPWATCH_EVENTS_FILE'] !== '')
    eventsFile = resolve(env['LOOPWATCH_EVENTS_FILE']);
  else {
    tempDir = mkdtempSync(join(tmpdir(), 'loopwatch-run-'));
    eventsFile = join(tempDir, 'events.ndjson');
  }
  env['LOOPWATCH_EVENTS_FILE'] = eventsFile;
  // This command prints the report; the monitors only write the file.
  env['LOOPWATCH_LOG'] = 'off';
  const cleanup = (): void => {
    if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  };

  // The same validation the preload does in each process, once, before anything starts.
  let threshold: number;
  try {
    const warnings: string[] = [];
    threshold = optionsFromEnv(env, warnings).thresholdMs;
    for (const warning of warnings) process.stderr.write(`loopwatch: ${warning}\n`);
  } catch (error) {
    cleanup();
    if (!(error instanceof LoopwatchError)) throw error;
    let message = error.message;
    for (const [flag, variable] of Object.entries(FLAG_ENV)) {
      if (variable !== undefined && typeof values[flag] === 'string') message = message.replace(variable, `--${flag}`);
    }
    throw usageError(message, 'run');
  }

  const register = join(__dirname, '..', 'register.js');
  const inherited = env['NODE_OPTIONS'] ?? '';
  env['NODE_OPTIONS'] = `${inherited}${inherited.trim() === '' ? '' : ' '}${preloadOption(register)}`;

  const style = styleFor(process.stderr);
  const say = (text: string): void => {
    process.stderr.write(text);
  };
  const shown = quoteCommand(command);
  say(
    style.dim(
      `loopwatch: running \`${shown}\` — blocks over ${duration(threshold)} are reported here as they happen\n`,
    ),
  );

  const started = performance.now();
  const startedAt = Date.now();
  const child = spawn(program, command.slice(1), { stdio: 'inherit', env });
  const labelled = new Set<number>();
  const live = (event: LoopwatchEvent): void => {
    if (event.pid !== child.pid && !labelled.has(event.pid)) {
      // A process the command started (npm → sh → node): say which one it is, once.
      labelled.add(event.pid);
      const line = commandLineOf(event.pid);
      if (line !== undefined) say(style.dim(`loopwatch: pid ${event.pid} is \`${line}\`\n`));
    }
    say(formatLive(event, cwd, style));
  };
  const collector = new EventCollector(tempDir === undefined ? eventsFile : 'this run', live);
  const tail = new Tail(eventsFile, sizeOf(eventsFile), (chunk) => collector.push(chunk));
  tail.start();

  const forward = (signal: NodeJS.Signals): void => {
    // Ctrl-C in a terminal already reached the whole foreground process group, child included:
    // sending it again would count as a second Ctrl-C for apps that force-quit on one.
    if (signal === 'SIGINT' && process.stdin.isTTY) return;
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, forward);

  const outcome = await new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    error?: NodeJS.ErrnoException;
  }>((done) => {
    child.on('error', (error: NodeJS.ErrnoException) => done({ code: null, signal: null, error }));
    child.on('exit', (code, signal) => done({ code, signal }));
  });
  const exitedAt = Date.now();
  for (const signal of signals) process.off(signal, forward);
  tail.stop();
  const source = collector.end();
  const elapsed = duration(performance.now() - started);

  let status: number;
  if (outcome.error !== undefined) {
    cleanup();
    const notFound = outcome.error.code === 'ENOENT';
    say(`loopwatch: cannot run \`${program}\`: ${notFound ? 'command not found' : outcome.error.message}\n`);
    return notFound ? EXIT_NOT_FOUND : EXIT_NOT_EXECUTABLE;
  }
  if (outcome.signal !== null) {
    // A signal this platform's table lacks still ends the run with a status above 128.
    status = 128 + ((os.signals as Partial<Record<string, number>>)[outcome.signal] ?? 0);
    say(
      style.bold(`loopwatch: \`${shown}\` was killed by ${outcome.signal} after ${elapsed} (exit status ${status})\n`),
    );
  } else {
    status = outcome.code ?? 1;
    say(style.bold(`loopwatch: \`${shown}\` exited with code ${status} after ${elapsed}\n`));
  }
  const problems = describeProblems(source);
  if (problems !== undefined) say(`loopwatch: ${problems}\n`);
  const analysis = analyse([source], child.pid === undefined ? undefined : new Map([[child.pid, exitedAt]]));
  say(formatSummary(analysis.summary, cwd, style));
  if (htmlFile !== undefined) {
    try {
      writeHtmlReport(htmlFile, analysis, { cwd, title: shown, span: { startMs: startedAt, endMs: exitedAt } });
      say(`loopwatch: HTML report written to ${htmlFile}\n`);
    } catch (error) {
      say(`loopwatch: could not write ${htmlFile}: ${messageOf(error)}\n`);
    }
  }
  if (eventsFlag !== undefined || tempDir === undefined) say(style.dim(`loopwatch: events in ${eventsFile}\n`));
  cleanup();
  return status;
}
