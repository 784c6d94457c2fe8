import { describe, expect, it } from 'vitest';
import { attribute, flameOf, hrtimeUs, sliceProfile, type Profile, type RawFlame } from '../../src/worker/profiler.js';

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

  it('times each culprit and the garbage collector: each sample weighs the time to the next, within the window', () => {
    const result = attribute(profile, 1_020_000, 1_060_000);
    // culprit at 1.02, 1.03, 1.04 s (10 ms each) and 1.06 s (the window's end: 0 ms); GC at 1.05 s.
    expect(result?.top.map((t) => [t.frame.function, t.ms, t.share])).toEqual([['culprit', 30, 0.75]]);
    expect(result?.gc).toEqual({ ms: 10, share: 0.25 });
    const all = attribute(profile, 1_000_000, 2_000_000);
    expect(all?.top.map((t) => [t.frame.function, t.ms])).toEqual([
      ['other', 50],
      ['culprit', 40],
    ]);
  });

  it('skips library frames for the culprit, as the events do', () => {
    const lib: Profile = {
      startTime: 0,
      nodes: [
        { id: 1, callFrame: frame('(root)', ''), children: [2] },
        { id: 2, callFrame: frame('snapshot', '/app/state.js', 3), children: [3] },
        { id: 3, callFrame: frame('baseClone', '/app/node_modules/lodash/lodash.js', 100) },
      ],
      samples: [3, 3],
      timeDeltas: [10_000, 10_000],
    };
    expect(attribute(lib, 0, 30_000)?.top[0]?.frame.function).toBe('snapshot');
  });

  it('says nothing about a window without samples', () => {
    expect(attribute(profile, 0, 1000)).toBeUndefined();
  });

  it('takes the biggest group', () => {
    expect(attribute(profile, 1_000_000, 2_000_000)?.frames[0]?.function).toBe('other');
  });
});

describe('flameOf', () => {
  const shape = (node: RawFlame): unknown => [node.frame.function, node.us / 1000, node.children.map(shape)];

  it("is the block's call tree weighted by time, heaviest first: two phases are two siblings", () => {
    // The whole profile: other ×5 (50 ms), culprit ×4 under caller (one inside node:fs), GC ×1.
    const window = sliceProfile(profile, 1_005_000, 1_105_000);
    expect(shape(flameOf(window) as RawFlame)).toEqual([
      '(root)',
      95,
      [
        [
          'main',
          85,
          [
            [
              'caller',
              85,
              [
                ['other', 45, []],
                ['culprit', 40, [['readFileUtf8', 10, []]]],
              ],
            ],
          ],
        ],
        ['(garbage collector)', 10, []],
      ],
    ]);
  });

  it('leaves out calls under 1 % of the block, and keeps at most 100 nodes', () => {
    const nodes = [{ id: 1, callFrame: frame('(root)', ''), children: [] as number[] }];
    const samples: number[] = [];
    for (let id = 2; id < 400; id++) {
      nodes[0]?.children.push(id);
      nodes.push({ id, callFrame: frame(`f${id}`, '/app/f.js', id), children: [] });
      // f2 is half the block; f3… share the rest, each a sample or three.
      samples.push(...Array<number>(id === 2 ? 600 : 1 + (id % 3)).fill(id));
    }
    const wide: Profile = { startTime: 0, nodes, samples, timeDeltas: samples.map(() => 1000) };
    const flame = flameOf(sliceProfile(wide, 0, samples.length * 1000)) as RawFlame;
    expect(flame.children[0]?.frame.function).toBe('f2');
    let count = 0;
    const visit = (node: RawFlame): void => {
      count++;
      node.children.forEach(visit);
    };
    visit(flame);
    expect(count).toBeLessThanOrEqual(100);
    expect(flame.children.every((child) => child.us >= flame.us * 0.01 || child.us === 0)).toBe(true);
  });

  it('is undefined for a window without samples', () => {
    expect(flameOf(sliceProfile(profile, 5_000_000, 6_000_000))).toBeUndefined();
  });
});

describe('hrtimeUs', () => {
  it('converts the performance clock to the hrtime clock', () => {
    const now = performance.timeOrigin + performance.now();
    const hr = Number(process.hrtime.bigint() / 1000n);
    expect(Math.abs(hrtimeUs(now) - hr)).toBeLessThan(2000);
  });
});
