import { describe, expect, it } from 'vitest';
import { attribute, hrtimeUs, type Profile } from '../../src/worker/profiler.js';

// A profile: root → main → caller → culprit (user code), and root → (garbage collector).
const frame = (functionName: string, url: string, lineNumber = 0) => ({
  functionName,
  url,
  lineNumber,
  columnNumber: 4,
});
const profile: Profile = {
  startTime: 1_000_000,
  nodes: [
    { id: 1, callFrame: frame('(root)', ''), children: [2, 5] },
    { id: 2, callFrame: frame('main', '/app/main.js', 1), children: [3] },
    { id: 3, callFrame: frame('caller', '/app/main.js', 5), children: [4, 6] },
    { id: 4, callFrame: frame('culprit', '/app/main.js', 9), children: [7] },
    { id: 5, callFrame: frame('(garbage collector)', '') },
    { id: 6, callFrame: frame('other', '/app/other.js', 2) },
    { id: 7, callFrame: frame('readFileUtf8', 'node:fs', 30) },
  ],
  // Samples 10 ms apart from 1,010,000 µs.
  samples: [6, 4, 4, 7, 5, 4, 6, 6, 6, 6],
  timeDeltas: [10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000],
};

describe('attribute', () => {
  it('groups the samples in the window by their innermost user frame', () => {
    // Window: samples 2–6 (1,020,000–1,060,000): culprit ×3 (one under node:fs), GC, culprit.
    const result = attribute(profile, 1_020_000, 1_060_000);
    expect(result?.samples).toBe(5);
    expect(result?.share).toBe(0.8);
    expect(result?.frames.map((f) => f.function)).toEqual(['culprit', 'caller', 'main']);
    expect(result?.frames[0]).toMatchObject({ file: '/app/main.js', line: 10, column: 5 });
  });

  it('says nothing about a window without samples', () => {
    expect(attribute(profile, 0, 1000)).toBeUndefined();
  });

  it('takes the biggest group', () => {
    expect(attribute(profile, 1_000_000, 2_000_000)?.frames[0]?.function).toBe('other');
  });
});

describe('hrtimeUs', () => {
  it('converts the performance clock to the hrtime clock', () => {
    const now = performance.timeOrigin + performance.now();
    const hr = Number(process.hrtime.bigint() / 1000n);
    expect(Math.abs(hrtimeUs(now) - hr)).toBeLessThan(2000);
  });
});
