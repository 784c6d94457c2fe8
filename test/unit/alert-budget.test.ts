import { describe, expect, it } from 'vitest';
import { AlertBudget, STORM_QUIET_MS } from '../../src/worker/alert-budget.js';

/** One block's two records at `t`, as the telemetry sink asks for them. */
function block(budget: AlertBudget, t: number, id: number): [boolean, boolean] {
  return [budget.block(t, `main:${id}`, 'ongoing', true), budget.block(t + 1, `main:${id}`, 'ended', false)];
}

describe('AlertBudget (maxAlertsPerMinute)', () => {
  it('lets a burst of perMinute records through, then one block per refill, whole', () => {
    const budget = new AlertBudget(10, 0);
    const through: boolean[] = [];
    for (let id = 1; id <= 8; id++) through.push(...block(budget, id * 10, id));
    // 10 tokens: five blocks of two records, the other three held back with both records.
    expect(through).toEqual([...Array<boolean>(10).fill(true), ...Array<boolean>(6).fill(false)]);
    // Two records refill in 12 s (10 a minute): one more whole block.
    expect(block(budget, 12_200, 9)).toEqual([true, true]);
    expect(block(budget, 12_300, 10)).toEqual([false, false]);
  });

  it('never splits a block: an ended record follows its ongoing one, however empty the budget', () => {
    const budget = new AlertBudget(2, 0);
    expect(budget.block(0, 'main:1', 'ongoing', true)).toBe(true);
    expect(budget.other(1)).toBe(false); // a hang in between finds nothing left
    expect(budget.block(2, 'main:1', 'ended', false)).toBe(true);
  });

  it('sums a storm up once none was held back for the quiet period, once', () => {
    const budget = new AlertBudget(2, 0);
    block(budget, 0, 1);
    block(budget, 100, 2);
    block(budget, 200, 3);
    expect(budget.stormEndsAt()).toBe(201 + STORM_QUIET_MS);
    expect(budget.storm(200 + STORM_QUIET_MS)).toBeUndefined();
    expect(budget.storm(201 + STORM_QUIET_MS)).toEqual({ suppressed: 4, firstAt: 100, lastAt: 201 });
    expect(budget.storm(400 + STORM_QUIET_MS)).toBeUndefined();
    expect(budget.stormEndsAt()).toBeUndefined();
  });

  it('at exit, sums up the storm still going on', () => {
    const budget = new AlertBudget(1, 0);
    expect(block(budget, 0, 1)).toEqual([true, true]); // a budget of 1 still lets a whole block through
    expect(budget.other(5)).toBe(false);
    expect(budget.storm(6, true)).toEqual({ suppressed: 1, firstAt: 5, lastAt: 5 });
  });

  it('0 exports no alert record at all', () => {
    const budget = new AlertBudget(0, 0);
    expect(block(budget, 60_000_000, 1)).toEqual([false, false]);
    expect(budget.other(60_000_001)).toBe(false);
  });

  it('a block seen only once it ended costs one record', () => {
    const budget = new AlertBudget(3, 0);
    expect(budget.block(0, 'main:1', 'ended', true)).toBe(true);
    expect(budget.block(0, 'main:2', 'ongoing', true)).toBe(true);
    expect(budget.block(0, 'main:3', 'ended', true)).toBe(false);
  });
});
