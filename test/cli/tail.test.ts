/** Following a growing events file: only appended bytes are read, a line cut in two is joined. */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { EventCollector } from '../../src/cli/events.js';
import { Tail } from '../../src/cli/tail.js';
import type { LoopwatchEvent } from '../../src/types.js';
import { STACKS, block } from './events.js';
import { tempDir } from './helpers.js';

it('reads what is appended after the start, joins lines written in pieces, waits for a file that does not exist yet', () => {
  const file = join(tempDir(), 'events.ndjson');
  const seen: LoopwatchEvent[] = [];
  const collector = new EventCollector(file, (event) => seen.push(event));
  const tail = new Tail(file, 0, (chunk) => collector.push(chunk));
  tail.read(); // no file yet: nothing, no error
  const [ongoing, ended] = block(7, 1, 300, STACKS.render).map((e) => `${JSON.stringify(e)}\n`) as [string, string];
  writeFileSync(file, ongoing.slice(0, 25));
  tail.read();
  expect(seen).toHaveLength(0);
  appendFileSync(file, ongoing.slice(25));
  tail.read();
  expect(seen.map((e) => e.type === 'block' && e.state)).toEqual(['ongoing']);
  // A multi-byte character split between two reads is decoded once whole.
  const bytes = Buffer.from(ended.replace('renderInvoice', 'renderInvoice\u00e9'));
  const cut = bytes.indexOf(0xc3) + 1;
  appendFileSync(file, bytes.subarray(0, cut));
  tail.read();
  appendFileSync(file, bytes.subarray(cut));
  tail.stop();
  expect(seen).toHaveLength(2);
  expect(seen[1]?.type === 'block' && seen[1].stack[0]?.function).toBe('renderInvoice\u00e9');
  expect(collector.end().malformedLines).toEqual([]);
});

it('starts after what an existing file already held (an --events file of earlier runs)', () => {
  const file = join(tempDir(), 'events.ndjson');
  const old = block(1, 1, 200, STACKS.parse)
    .map((e) => `${JSON.stringify(e)}\n`)
    .join('');
  writeFileSync(file, old);
  const collector = new EventCollector(file);
  const tail = new Tail(file, Buffer.byteLength(old), (chunk) => collector.push(chunk));
  tail.start();
  appendFileSync(file, `${JSON.stringify(block(2, 1, 200, STACKS.render)[0])}\n`);
  tail.stop();
  expect(collector.end().events.map((e) => e.pid)).toEqual([2]);
});
