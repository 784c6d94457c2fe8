/** `loopwatch report events.ndjson…`: the summary (or HTML report) of recorded events. */
import { createReadStream, statSync } from 'node:fs';
import { parse } from './args.js';
import { inputError, usageError } from './errors.js';
import { type EventSource, describeProblems, readEvents } from './events.js';
import { formatSummary, plural, styleFor } from './format.js';
import { writeHtmlReport } from './html.js';
import { writablePath } from './run.js';
import { analyse } from './summary.js';

export const REPORT_OPTIONS = {
  html: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function readInput(name: string): Promise<EventSource> {
  if (name === '-') return readEvents('stdin', process.stdin);
  let isFile: boolean;
  try {
    isFile = statSync(name).isFile();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw inputError(
      `cannot read ${name}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(code)}`,
    );
  }
  if (!isFile) throw inputError(`cannot read ${name}: not a file`);
  return readEvents(name, createReadStream(name));
}

export async function reportCommand(args: readonly string[], helpText: string): Promise<number> {
  const { values, positionals } = parse('report', args, REPORT_OPTIONS, true);
  if (values['help'] === true) {
    process.stdout.write(helpText);
    return 0;
  }
  let inputs = positionals;
  if (inputs.length === 0) {
    if (process.stdin.isTTY)
      throw usageError('give an events file (or - to read stdin): loopwatch report events.ndjson', 'report');
    inputs = ['-'];
  }
  if (inputs.filter((i) => i === '-').length > 1) throw usageError('stdin (-) can be read only once', 'report');
  const htmlFile = typeof values['html'] === 'string' ? writablePath('--html', values['html'], 'report') : undefined;

  const sources: EventSource[] = [];
  for (const input of inputs) {
    const source = await readInput(input);
    // A file of something else entirely is a mistake worth stopping for; a few bad lines are not.
    if (source.events.length === 0 && source.malformedLines.length > 0 && source.otherLines === 0) {
      throw inputError(
        `${source.name} holds no loopwatch events (${plural(source.lines, 'line')}, none of them an event: is it a LOOPWATCH_EVENTS_FILE?)`,
      );
    }
    const problems = describeProblems(source);
    if (problems !== undefined) process.stderr.write(`loopwatch: ${problems}\n`);
    sources.push(source);
  }
  const cwd = process.cwd();
  const analysis = analyse(sources);
  if (values['json'] === true) process.stdout.write(`${JSON.stringify(analysis.summary, null, 2)}\n`);
  else process.stdout.write(formatSummary(analysis.summary, cwd, styleFor(process.stdout)));
  if (htmlFile !== undefined) {
    const title = sources.map((s) => s.name).join(', ');
    writeHtmlReport(htmlFile, analysis, { cwd, title });
    process.stderr.write(`loopwatch: HTML report written to ${htmlFile}\n`);
  }
  return 0;
}
