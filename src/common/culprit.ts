/**
 * Who blocked the loop, as every block event carries it (`culprit`): computed once, in the
 * monitor, so that the stderr report, the OpenTelemetry records, the test integrations and the
 * CLI all name the same frame. Runs on any thread.
 */
import type { BlockEvent, Culprit, StackFrame } from '../types.js';
import { culpritFrame } from './frames.js';

function from(frame: StackFrame | undefined, source: Culprit['source']): Culprit | undefined {
  if (frame === undefined) return undefined;
  return {
    function: frame.function,
    file: frame.file,
    line: frame.line,
    column: frame.column,
    source,
    ...(frame.mapped === false ? { mapped: false as const } : {}),
  };
}

/**
 * A stack taken during the block first (it shows the very frame that ran), then the profiler's
 * samples (they see inside a native call, where no stack can be taken), then a late stack
 * (marked as such: it may show code that ran after the culprit).
 */
export function culpritOf(event: {
  readonly stack: readonly StackFrame[];
  readonly stackTiming: BlockEvent['stackTiming'];
  readonly profile?: BlockEvent['profile'] | undefined;
}): Culprit | undefined {
  return (
    (event.stackTiming === 'during' ? from(culpritFrame(event.stack), 'stack') : undefined) ??
    (event.profile === undefined ? undefined : from(culpritFrame(event.profile.stack), 'profile')) ??
    (event.stackTiming === 'late' ? from(culpritFrame(event.stack), 'late') : undefined)
  );
}

/** The event's culprit: its own field, or computed from its stacks for an event written before it existed. */
export function culpritOfEvent(event: BlockEvent): Culprit | undefined {
  return event.culprit ?? culpritOf(event);
}
