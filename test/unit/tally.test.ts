import { describe, expect, it } from 'vitest';
import { MAX_CULPRITS, OTHER } from '../../src/common/block-attributes.js';
import { BLOCK_BUCKETS_S, METRICS, PROMETHEUS_NAMES, prometheusName } from '../../src/common/metrics.js';
import { createTallyBuffer, readTally, TALLY_INITIAL_BYTES, writeTally } from '../../src/protocol/tally.js';
import type { BlockEvent } from '../../src/types.js';
import { BlockTally } from '../../src/worker/tally.js';
import { blockEvent } from './events.js';

describe('Prometheus names (the Collector’s translation, unit suffixes on)', () => {
  it('adds the unit and _total as the Collector does', () => {
    expect(Object.fromEntries(PROMETHEUS_NAMES)).toEqual({
      'loopwatch.alerts.suppressed': 'loopwatch_alerts_suppressed_total',
      'nodejs.eventloop.delay.min': 'nodejs_eventloop_delay_min_seconds',
      'nodejs.eventloop.delay.max': 'nodejs_eventloop_delay_max_seconds',
      'nodejs.eventloop.delay.mean': 'nodejs_eventloop_delay_mean_seconds',
      'nodejs.eventloop.delay.stddev': 'nodejs_eventloop_delay_stddev_seconds',
      'nodejs.eventloop.delay.p50': 'nodejs_eventloop_delay_p50_seconds',
      'nodejs.eventloop.delay.p90': 'nodejs_eventloop_delay_p90_seconds',
      'nodejs.eventloop.delay.p99': 'nodejs_eventloop_delay_p99_seconds',
      'nodejs.eventloop.utilization': 'nodejs_eventloop_utilization_ratio',
      'nodejs.eventloop.time': 'nodejs_eventloop_time_seconds_total',
      'loopwatch.blocks': 'loopwatch_blocks_total',
      'loopwatch.block.duration': 'loopwatch_block_duration_seconds',
      'loopwatch.block.current_duration': 'loopwatch_block_current_duration_seconds',
      'loopwatch.captures': 'loopwatch_captures_total',
      'loopwatch.hangs': 'loopwatch_hangs_total',
    });
    // A counter of unit 1 gets no _ratio (the Collector adds it to gauges only).
    expect(prometheusName({ name: 'a.b', unit: '1', kind: 'counter', description: '' })).toBe('a_b_total');
  });
});

describe('BlockTally (what the prom-client bridge reads)', () => {
  it('counts blocks at ongoing and durations at ended, in (previous, bound] buckets', () => {
    const tally = new BlockTally();
    tally.add(blockEvent(1, 'ongoing', 'parse', 150));
    tally.add(blockEvent(1, 'ended', 'parse', 250));
    tally.add(blockEvent(2, 'ongoing', 'parse', 150));
    tally.add(blockEvent(2, 'ended', 'parse', 2000));
    tally.add(blockEvent(3, 'ongoing', 'render', 150));
    const document = tally.document();
    const parse = {
      'loopwatch.block.phase': 'running',
      'code.function.name': 'parse',
      'code.file.path': '/app/parse.js',
    };
    expect(document.blocks).toEqual([
      { attributes: parse, count: 2 },
      {
        attributes: { ...parse, 'code.function.name': 'render', 'code.file.path': '/app/render.js' },
        count: 1,
      },
    ]);
    expect(document.durations).toHaveLength(1);
    const [durations] = document.durations;
    expect(durations?.count).toBe(2);
    expect(durations?.sum).toBeCloseTo(2.25);
    // 0.25 s is in the bucket bounded by 0.25; 2 s in the one bounded by 2.5.
    expect(durations?.buckets[BLOCK_BUCKETS_S.indexOf(0.25)]).toBe(1);
    expect(durations?.buckets[BLOCK_BUCKETS_S.indexOf(2.5)]).toBe(1);
    expect(durations?.buckets).toHaveLength(BLOCK_BUCKETS_S.length + 1);
    expect(document.captures).toEqual([{ attributes: { 'loopwatch.stack.timing': 'during' }, count: 2 }]);
  });

  it('caps culprits as the OpenTelemetry export does', () => {
    const tally = new BlockTally();
    for (let i = 0; i < MAX_CULPRITS + 5; i++) tally.add(blockEvent(i + 1, 'ongoing', `fn${i}`, 150));
    const { blocks } = tally.document();
    expect(blocks).toHaveLength(MAX_CULPRITS + 1);
    expect(blocks.at(-1)).toEqual({
      attributes: { 'loopwatch.block.phase': 'running', 'code.function.name': OTHER, 'code.file.path': OTHER },
      count: 5,
    });
  });

  it('counts hangs by reason and action', () => {
    const tally = new BlockTally();
    tally.add({
      type: 'hang',
      reason: 'block',
      action: 'kill',
      limitMs: 1000,
      blockedMs: 1200,
      pid: 1,
      thread: 'main',
      stack: [],
    } as unknown as BlockEvent);
    expect(tally.document().hangs).toEqual([
      { attributes: { 'loopwatch.hang.reason': 'block', 'loopwatch.hang.action': 'kill' }, count: 1 },
    ]);
  });
});

describe('the tally buffer (a sequence lock over shared memory)', () => {
  it('reads nothing before the first write, then the last document written', () => {
    const buffer = createTallyBuffer();
    expect(readTally(buffer)).toBeUndefined();
    const tally = new BlockTally();
    tally.add(blockEvent(1, 'ongoing', 'parse', 150));
    expect(writeTally(buffer, tally.document())).toBe(true);
    expect(readTally(buffer)).toEqual({ version: 2, document: tally.document() });
    expect(writeTally(buffer, tally.document())).toBe(true);
    expect(readTally(buffer)?.version).toBe(4);
  });

  it('grows for long culprit names, and says when a document cannot fit', () => {
    const buffer = createTallyBuffer();
    const tally = new BlockTally();
    for (let i = 0; i < 40; i++) tally.add(blockEvent(i + 1, 'ongoing', `${'x'.repeat(1000)}${i}`, 150));
    expect(writeTally(buffer, tally.document())).toBe(true);
    expect(buffer.byteLength).toBeGreaterThan(TALLY_INITIAL_BYTES);
    expect(readTally(buffer)?.document.blocks).toHaveLength(40);
    const fixed = new SharedArrayBuffer(64);
    expect(writeTally(fixed, tally.document())).toBe(false);
    expect(readTally(fixed)).toBeUndefined();
  });

  it('a reader does not keep a copy torn by a write in progress', () => {
    const buffer = createTallyBuffer();
    writeTally(buffer, new BlockTally().document());
    // A writer that stopped half-way (VERSION odd): the reader gives up instead of decoding.
    Atomics.add(new Int32Array(buffer, 0, 2), 0, 1);
    expect(readTally(buffer)).toBeUndefined();
  });

  it('names the same metric set as METRICS', () => {
    expect(PROMETHEUS_NAMES.size).toBe(Object.keys(METRICS).length);
  });
});
