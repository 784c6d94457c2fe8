import { describe, expect, it } from 'vitest';
import { culpritOf } from '../../src/common/culprit.js';
import type { StackFrame } from '../../src/types.js';

const app: StackFrame = { function: 'loadCatalog', file: '/app/src/catalog.js', line: 12, column: 7 };
const lib: StackFrame = { function: 'baseClone', file: '/app/node_modules/lodash/lodash.js', line: 3, column: 1 };
const internal: StackFrame = {
  function: 'processTicksAndRejections',
  file: 'node:internal/process/task_queues',
  line: 95,
  column: 5,
};
const later: StackFrame = { function: 'render', file: '/app/src/view.js', line: 40, column: 3 };

describe('culpritOf', () => {
  it("names the innermost frame of the app's own code in a stack taken during the block", () => {
    expect(culpritOf({ stack: [lib, lib, app, internal], stackTiming: 'during' })).toEqual({
      function: 'loadCatalog',
      file: '/app/src/catalog.js',
      line: 12,
      column: 7,
      source: 'stack',
    });
  });

  it("takes the profiler's stack when the stack was not taken during the block", () => {
    const profile = { samples: 60, share: 0.9, stack: [app, internal] };
    expect(culpritOf({ stack: [later], stackTiming: 'late', profile })?.source).toBe('profile');
    expect(culpritOf({ stack: [], stackTiming: 'none', profile })?.function).toBe('loadCatalog');
    // A stack taken during the block comes first: it shows the very frame that ran.
    expect(culpritOf({ stack: [later], stackTiming: 'during', profile })?.function).toBe('render');
  });

  it('marks a late stack as such, and names nothing from no stack or only internals', () => {
    expect(culpritOf({ stack: [later], stackTiming: 'late' })).toMatchObject({ function: 'render', source: 'late' });
    expect(culpritOf({ stack: [], stackTiming: 'none' })).toBeUndefined();
    expect(culpritOf({ stack: [internal], stackTiming: 'during' })).toBeUndefined();
  });

  it('keeps mapped: false of a frame whose position is of generated code', () => {
    expect(culpritOf({ stack: [{ ...app, mapped: false }], stackTiming: 'during' })?.mapped).toBe(false);
  });
});
