/**
 * `monitor.trackContext()`: the app's AsyncLocalStorage stores, read on the blocked thread when
 * a block is captured. The capture expression (evaluated on this thread by the worker) reaches
 * the stores through one function on `globalThis`, installed only while something is tracked.
 * Nothing runs until a block is captured.
 */
import { LoopwatchError } from '../errors.js';
import { CONTEXT_HOOK } from '../protocol/shared.js';
import { messageOf, mustBe } from '../common/text.js';
import { isObject } from '../common/guards.js';

const KEY = Symbol.for(CONTEXT_HOOK);
const MAX_ATTRIBUTES = 16;
const MAX_VALUE = 256;

interface Tracker {
  readonly storage: { getStore(): unknown };
  readonly toAttributes: (store: unknown) => Record<string, unknown> | undefined;
}

const trackers = new Set<Tracker>();

/** What the capture gets: the attributes of the stores present, and the first callback failure. */
function readContext(): { attributes?: Record<string, string | number | boolean>; error?: string } | undefined {
  let attributes: Record<string, string | number | boolean> | undefined;
  let error: string | undefined;
  let count = 0;
  for (const tracker of trackers) {
    try {
      const store = tracker.storage.getStore();
      if (store === undefined) continue;
      // A user's callback: typed, but whatever it returns at run time is checked.
      const values: unknown = tracker.toAttributes(store);
      if (!isObject(values)) continue;
      for (const [key, value] of Object.entries(values)) {
        const kept =
          typeof value === 'string'
            ? value.slice(0, MAX_VALUE)
            : (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean'
              ? value
              : undefined;
        if (kept === undefined || count >= MAX_ATTRIBUTES) continue;
        attributes ??= {};
        if (key in attributes) continue;
        attributes[key] = kept;
        count++;
      }
    } catch (thrown) {
      error ??= `a trackContext() callback threw: ${messageOf(thrown)}`.slice(0, MAX_VALUE);
    }
  }
  return attributes === undefined && error === undefined
    ? undefined
    : { ...(attributes === undefined ? {} : { attributes }), ...(error === undefined ? {} : { error }) };
}

export function trackContext<T>(
  storage: { getStore(): T | undefined },
  toAttributes: (store: T) => Record<string, unknown> | undefined,
): () => void {
  if (!isObject(storage) || typeof (storage as { getStore?: unknown }).getStore !== 'function') {
    throw new LoopwatchError(
      'ERR_LOOPWATCH_INVALID_OPTION',
      'trackContext(storage, toAttributes): storage must be an AsyncLocalStorage (with getStore())',
    );
  }
  if (typeof toAttributes !== 'function') {
    throw new LoopwatchError(
      'ERR_LOOPWATCH_INVALID_OPTION',
      `trackContext(storage, toAttributes): ${mustBe('toAttributes', 'a function', typeof toAttributes)}`,
    );
  }
  const tracker: Tracker = { storage, toAttributes: toAttributes as Tracker['toAttributes'] };
  trackers.add(tracker);
  if (!Object.prototype.hasOwnProperty.call(globalThis, KEY)) {
    Object.defineProperty(globalThis, KEY, {
      value: readContext,
      configurable: true,
      enumerable: false,
      writable: false,
    });
  }
  return () => {
    trackers.delete(tracker);
    if (trackers.size === 0) untrackAll();
  };
}

export function untrackAll(): void {
  trackers.clear();
  if ((globalThis as Record<symbol, unknown>)[KEY] === readContext) Reflect.deleteProperty(globalThis, KEY);
}
