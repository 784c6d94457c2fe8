#!/usr/bin/env node
/**
 * The `loopwatch` command: `run` a command under watch, `report` on recorded events, `doctor`.
 * Every failure ends as one line on stderr and a documented exit status, never a stack trace.
 */
import { packageVersion } from '../common/version.js';
import { CliError, EXIT_INPUT, EXIT_USAGE, usageError } from './errors.js';
import { doctorCommand } from './doctor.js';
import { reportCommand } from './report.js';
import { runCommand } from './run.js';
import { messageOf } from '../common/text.js';

const EXIT_CODES = `Exit status:
  0        success (run: the command exited with 0)
  N        run: the command's own exit status
  128+N    run: the command was killed by signal N (130 SIGINT, 137 SIGKILL, 143 SIGTERM)
  126/127  run: the command could not be executed / was not found
  1        an input file could not be read or holds no loopwatch events;
           doctor: a capability loopwatch needs does not work on this Node
  2        usage error (unknown option, bad value, missing argument)
`;

const HELP = {
  main: `Usage: loopwatch <command> [options]

Find where a Node.js event loop is blocked, while it is blocked.

Commands:
  run [options] -- <command…>   run a command with loopwatch attached, report blocks live
                                and summarise them at exit
  report [options] <file…|->    summarise recorded events (LOOPWATCH_EVENTS_FILE output)
  doctor                        check what works on this Node (stack capture, source maps…)

Options:
  -h, --help       help (also: loopwatch <command> --help)
  -v, --version    print the version

${EXIT_CODES}`,
  run: `Usage: loopwatch run [options] -- <command> [args…]

Runs the command with loopwatch preloaded into every Node.js process it starts (through
NODE_OPTIONS), so \`node app.js\`, \`npm start\` and \`npx tsx app.ts\` all work. Each block is
reported on stderr as it happens (with the stack of the blocked code) and when it ends; a
summary of blocks by culprit is printed when the command exits. The command's stdio is passed
through untouched; SIGINT, SIGTERM and SIGHUP are forwarded to it.

Options:
  --threshold <ms>         report blocks longer than this (default 100, LOOPWATCH_THRESHOLD_MS)
  --hang <ms>              a block this long is a hang (LOOPWATCH_HANG_MS)
  --hang-action <action>   none | kill | abort: what to do with a hang (LOOPWATCH_HANG_ACTION)
  --events <file>          also keep the events in this NDJSON file (appended)
  --html <file>            write an HTML report when the command exits
  -h, --help               this help

Other LOOPWATCH_* variables in the environment apply too; these flags win over them.

${EXIT_CODES}`,
  report: `Usage: loopwatch report [options] <events.ndjson…>
       … | loopwatch report [options] -

Summarises events files written by loopwatch (LOOPWATCH_EVENTS_FILE, or \`run --events\`):
blocks grouped by culprit — the top frame of your own code — with their count, total and
worst duration and phase. Several files (and several processes in one file) are merged;
malformed lines are skipped and counted, a cut-off last line is tolerated.

Options:
  --html <file>   also write a self-contained HTML report (timeline, culprits, stacks)
  --json          print the summary as JSON instead of a table
  -h, --help      this help

${EXIT_CODES}`,
  doctor: `Usage: loopwatch doctor [--json]

Runs loopwatch's native-free probes on this Node (each in its own process, ~10 s in all) and
prints which capabilities work here and what to do about the ones that do not.

Options:
  --json       print the results as JSON (name, ok, detail, title, needed, advice)
  -h, --help   this help

${EXIT_CODES}`,
} as const;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      process.stderr.write(HELP.main);
      return EXIT_USAGE;
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(
        rest[0] === 'run' || rest[0] === 'report' || rest[0] === 'doctor' ? HELP[rest[0]] : HELP.main,
      );
      return 0;
    case '-v':
    case '--version':
      process.stdout.write(`${packageVersion()}\n`);
      return 0;
    case 'run':
      return runCommand(rest, HELP.run);
    case 'report':
      return reportCommand(rest, HELP.report);
    case 'doctor':
      return doctorCommand(rest, HELP.doctor);
    default:
      throw command.startsWith('-')
        ? usageError(`unknown option ${command}`)
        : usageError(`unknown command ${command}`);
  }
}

// `loopwatch report … | head`: a reader that went away is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
});
process.stderr.on('error', () => undefined);

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    if (error instanceof CliError) {
      process.stderr.write(`loopwatch: ${error.message}\n${error.hint === undefined ? '' : `(${error.hint})\n`}`);
      process.exitCode = error.exitCode;
      return;
    }
    // A bug or an unexpected system error: one line, the details only when asked for.
    const message = messageOf(error);
    process.stderr.write(`loopwatch: ${message}\n`);
    if ((process.env['NODE_DEBUG'] ?? '').includes('loopwatch') && error instanceof Error)
      process.stderr.write(`${error.stack ?? ''}\n`);
    process.exitCode = EXIT_INPUT;
  },
);
