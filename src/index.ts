/**
 * loopwatch: finds out where and why the event loop is blocked, while it is still blocked.
 * @example
 *   import { start } from 'loopwatch';
 *   const monitor = start({ thresholdMs: 100 });
 *   monitor.on('block', (event) => console.log(event.state, event.durationMs, event.stack[0]));
 */
export { start } from './main/monitor.js';
export { LoopwatchError, type LoopwatchErrorCode } from './errors.js';
export { DEFAULT_THRESHOLD_MS } from './options.js';
export type {
  ActiveResources,
  BlockContext,
  BlockProfile,
  Culprit,
  BlockEvent,
  HangAction,
  HangEvent,
  HealthAddress,
  HealthCheckOutcome,
  LagMeasure,
  LoadShedder,
  LoadShedderOptions,
  LogFormat,
  LoopwatchEvent,
  MeterProviderLike,
  Monitor,
  OtelOptions,
  OtelLogLevel,
  LogBatchSettings,
  PressureOptions,
  PressureReason,
  PressureState,
  ResolvedPressure,
  ShedOptions,
  TelemetrySettings,
  MonitorStatus,
  Phase,
  ProfileEntry,
  ProfileFlame,
  ResolvedOptions,
  StackFrame,
  StackTiming,
  StartOptions,
  ThreadState,
  ThreadsOption,
} from './types.js';
