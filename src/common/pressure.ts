/**
 * The pressure decision, one pure function of the limits and a sample of the shared buffer, so
 * that the main thread (`isUnderPressure()`, the shedders) and the monitor worker (`/readyz`)
 * cannot disagree. Each thread fills the sample from what it can see; see protocol/shared.ts
 * for who writes which figure.
 */
import { CHECK } from '../protocol/shared.js';
import type { HealthCheckOutcome, LagMeasure, PressureReason, PressureState } from '../types.js';

/** The limits the decision applies (the resolved `pressure` option, without the check itself). */
export interface PressureLimits {
  readonly maxLagMs: number;
  readonly maxUtilization: number | undefined;
  readonly maxHeapUsedBytes: number | undefined;
  readonly maxRssBytes: number | undefined;
}

export interface PressureSample {
  /** How long past its heartbeat period the loop has not turned, ms (0 when it keeps its beat). */
  readonly blockedMs: number;
  /** The largest lag of one beat over the recent window, ms. */
  readonly recentLagMs: number;
  /** The p99 of the beats' lag over the last 10 s, ms. */
  readonly p99LagMs: number;
  readonly utilization: number;
  readonly heapUsedBytes: number;
  readonly rssBytes: number;
  /** `I32.CHECK`. */
  readonly check: number;
  /** What the check returned or threw, where the deciding thread knows it. */
  readonly checkMessage?: string | undefined;
}

/** Not under pressure: one frozen answer, so that the common case allocates nothing. */
export const NO_PRESSURE: PressureState = Object.freeze({ underPressure: false, reasons: Object.freeze([]) });

const OUTCOMES: Readonly<Record<number, HealthCheckOutcome>> = {
  [CHECK.PENDING]: 'pending',
  [CHECK.FAILED]: 'failed',
  [CHECK.THREW]: 'threw',
  [CHECK.TIMED_OUT]: 'timed-out',
};

const DEFAULT_MESSAGES: Readonly<Record<HealthCheckOutcome, string>> = {
  pending: 'the first health check has not settled yet',
  failed: 'the health check returned a falsy value',
  threw: 'the health check threw',
  'timed-out': 'the health check did not settle in time',
};

/** Rounded to `1 / per` (dividing keeps 0.1-steps exact, as 500.1, not 500.10000000000002). */
function round(value: number, per: number): number {
  return Math.round(value * per) / per;
}

/** The lag figure the limit is compared with: the largest of the three, and which it was. */
export function worstLag(sample: PressureSample): { readonly value: number; readonly measure: LagMeasure } {
  const { blockedMs, recentLagMs, p99LagMs } = sample;
  if (blockedMs >= recentLagMs && blockedMs >= p99LagMs) return { value: blockedMs, measure: 'blocked' };
  return recentLagMs >= p99LagMs ? { value: recentLagMs, measure: 'recent' } : { value: p99LagMs, measure: 'p99' };
}

export function decide(limits: PressureLimits, sample: PressureSample): PressureState {
  let reasons: PressureReason[] | undefined;
  const add = (reason: PressureReason): void => {
    (reasons ??= []).push(reason);
  };
  const lag = worstLag(sample);
  if (lag.value > limits.maxLagMs)
    add({ limit: 'maxLagMs', value: round(lag.value, 10), max: limits.maxLagMs, measure: lag.measure });
  if (limits.maxUtilization !== undefined && sample.utilization > limits.maxUtilization)
    add({ limit: 'maxUtilization', value: round(sample.utilization, 1000), max: limits.maxUtilization });
  if (limits.maxHeapUsedBytes !== undefined && sample.heapUsedBytes > limits.maxHeapUsedBytes)
    add({ limit: 'maxHeapUsedBytes', value: sample.heapUsedBytes, max: limits.maxHeapUsedBytes });
  if (limits.maxRssBytes !== undefined && sample.rssBytes > limits.maxRssBytes)
    add({ limit: 'maxRssBytes', value: sample.rssBytes, max: limits.maxRssBytes });
  const outcome = OUTCOMES[sample.check];
  if (outcome !== undefined)
    add({ limit: 'healthCheck', value: outcome, message: sample.checkMessage ?? DEFAULT_MESSAGES[outcome] });
  return reasons === undefined ? NO_PRESSURE : { underPressure: true, reasons };
}
