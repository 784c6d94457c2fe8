/** Reading loopwatch's NDJSON events: whole files, stdin, or a file that is still growing. */
import { CANARY_ATTRIBUTE } from '../canary.js';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import type { BlockEvent, BlockProgress, HangEvent, LoopwatchEvent, StackFrame } from '../types.js';
import { inputError } from './errors.js';
import { messageOf } from '../common/text.js';

/** Splits text that arrives in pieces into lines; keeps the unfinished last one for later. */
export class LineSplitter {
  readonly #decoder = new StringDecoder('utf8');
  #pending = '';

  /** Bytes in, complete lines out (without their `\n`). */
  push(chunk: Buffer | string): string[] {
    const text = this.#pending + (typeof chunk === 'string' ? chunk : this.#decoder.write(chunk));
    const lines = text.split('\n');
    this.#pending = lines.pop() ?? '';
    return lines;
  }

  /** The unfinished last line, if any (a writer that died mid-line, or has not finished). */
  rest(): string {
    const rest = this.#pending + this.#decoder.end();
    this.#pending = '';
    return rest;
  }
}

function isFrame(value: unknown): value is StackFrame {
  if (typeof value !== 'object' || value === null) return false;
  const frame = value as Record<string, unknown>;
  return (
    typeof frame['function'] === 'string' &&
    typeof frame['file'] === 'string' &&
    typeof frame['line'] === 'number' &&
    typeof frame['column'] === 'number'
  );
}

function isStack(value: unknown): value is StackFrame[] {
  return Array.isArray(value) && value.every(isFrame);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** What one line holds: an event, a well-formed line of some other kind, or garbage. */
export type ParsedLine =
  | { kind: 'event'; event: LoopwatchEvent }
  | { kind: 'progress'; record: BlockProgress }
  | { kind: 'other' }
  | { kind: 'malformed' };

/**
 * Checks the fields the summary relies on; an object of another `type` is `other` (newer
 * versions may add event types), anything else that is not a well-formed event is malformed.
 */
function parseLine(line: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { kind: 'malformed' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'malformed' };
  const event = value as Record<string, unknown>;
  if (event['type'] === 'block') {
    const ok =
      isFiniteNumber(event['id']) &&
      (event['state'] === 'ongoing' || event['state'] === 'ended') &&
      isFiniteNumber(event['durationMs']) &&
      isFiniteNumber(event['pid']) &&
      typeof event['startedAt'] === 'string' &&
      Number.isFinite(Date.parse(event['startedAt'])) &&
      isStack(event['stack']);
    return ok ? { kind: 'event', event: value as BlockEvent } : { kind: 'malformed' };
  }
  if (event['type'] === 'hang') {
    const ok =
      isFiniteNumber(event['pid']) &&
      typeof event['at'] === 'string' &&
      Number.isFinite(Date.parse(event['at'])) &&
      isFiniteNumber(event['blockedMs']) &&
      isStack(event['stack']);
    return ok ? { kind: 'event', event: value as HangEvent } : { kind: 'malformed' };
  }
  if (event['type'] === 'progress') {
    const ok = isFiniteNumber(event['id']) && isFiniteNumber(event['pid']) && isFiniteNumber(event['durationMs']);
    return ok ? { kind: 'progress', record: value as BlockProgress } : { kind: 'malformed' };
  }
  return typeof event['type'] === 'string' ? { kind: 'other' } : { kind: 'malformed' };
}

/** The events of one input, and what was wrong with the rest of it. */
export interface EventSource {
  /** The path as given, or `stdin`. */
  readonly name: string;
  readonly events: LoopwatchEvent[];
  /** How long blocks had lasted so far, recorded while they lasted (see BlockProgress). */
  readonly progress?: BlockProgress[];
  /** Line numbers (1-based) of lines that are not loopwatch events. */
  readonly malformedLines: number[];
  /** Lines of an unknown event `type` (written by a newer loopwatch), ignored. */
  otherLines: number;
  /** The last line had no newline and did not parse: a writer that ended mid-line. */
  truncatedLastLine: boolean;
  /** Non-empty lines read. */
  lines: number;
}

/** Collects the events of a stream of NDJSON lines. */
export class EventCollector {
  readonly source: EventSource;
  readonly #splitter = new LineSplitter();
  #lineNumber = 0;

  readonly #onEvent: ((event: LoopwatchEvent) => void) | undefined;

  constructor(name: string, onEvent?: (event: LoopwatchEvent) => void) {
    this.#onEvent = onEvent;
    this.source = {
      name,
      events: [],
      progress: [],
      malformedLines: [],
      otherLines: 0,
      truncatedLastLine: false,
      lines: 0,
    };
  }

  push(chunk: Buffer | string): void {
    for (const line of this.#splitter.push(chunk)) this.#line(line, false);
  }

  end(): EventSource {
    const rest = this.#splitter.rest();
    if (rest.trim() !== '') this.#line(rest, true);
    return this.source;
  }

  #line(text: string, last: boolean): void {
    this.#lineNumber++;
    if (text.trim() === '') return;
    this.source.lines++;
    const parsed = parseLine(text);
    if (parsed.kind === 'event') {
      // A test integration's deliberate block (its canary) is not the app's.
      if (parsed.event.context?.attributes?.[CANARY_ATTRIBUTE] === true) return;
      this.source.events.push(parsed.event);
      this.#onEvent?.(parsed.event);
    } else if (parsed.kind === 'progress') {
      this.source.progress?.push(parsed.record);
    } else if (parsed.kind === 'other') {
      this.source.otherLines++;
    } else if (last) {
      this.source.truncatedLastLine = true;
    } else {
      this.source.malformedLines.push(this.#lineNumber);
    }
  }
}

function errorText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a folder, not a file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return messageOf(error);
}

/** Reads a whole stream (a file or stdin) of events. Throws an input error when it cannot be read. */
export async function readEvents(name: string, stream: Readable): Promise<EventSource> {
  const collector = new EventCollector(name);
  try {
    for await (const chunk of stream) collector.push(chunk as Buffer);
  } catch (error) {
    throw inputError(`cannot read ${name}: ${errorText(error)}`);
  }
  return collector.end();
}

/** One line about what was skipped in a source, or undefined when nothing was. */
export function describeProblems(source: EventSource): string | undefined {
  const parts: string[] = [];
  const bad = source.malformedLines;
  if (bad.length > 0) {
    const shown = bad.slice(0, 5).join(', ');
    parts.push(
      `skipped ${bad.length} malformed line${bad.length === 1 ? '' : 's'} (line${bad.length === 1 ? '' : 's'} ${shown}${bad.length > 5 ? ', …' : ''})`,
    );
  }
  if (source.otherLines > 0)
    parts.push(`ignored ${source.otherLines} event${source.otherLines === 1 ? '' : 's'} of unknown types`);
  if (source.truncatedLastLine) parts.push('the last line was cut short (the writer ended mid-line) and was skipped');
  return parts.length === 0 ? undefined : `${source.name}: ${parts.join('; ')}`;
}
