// Probe: source-map a position inside the worker. module.findSourceMap() in a worker cannot
// see the maps the main thread loaded (the cache is per thread), so loopwatch builds
// `new module.SourceMap(payload)` in the worker from the map file itself. The probe writes a
// tiny generated file with an external map (mappings encoded here with a minimal VLQ
// encoder) and checks findEntry/findOrigin in the worker; then times building and querying
// a bundle-sized synthetic map (20,000 lines x 8 segments).
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createRequire } from 'node:module';
import * as nodeModule from 'node:module';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { mainTimeout, report } from './_shared.mjs';

const NAME = 'source-map-worker';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** Base64 VLQ of one integer: sign in the lowest bit, 5 bits a digit, bit 6 = "more". */
function vlq(value) {
  let v = value < 0 ? (-value << 1) | 1 : value << 1;
  let out = '';
  do {
    let digit = v & 31;
    v >>>= 5;
    if (v > 0) digit |= 32;
    out += B64[digit];
  } while (v > 0);
  return out;
}
/**
 * `lines[i]` lists the segments of generated line i as absolute 0-based
 * [generatedColumn, sourceIndex, originalLine, originalColumn]; the format stores each field
 * relative to the previous segment (the generated column only within its line).
 */
function encodeMappings(lines) {
  const prev = [0, 0, 0, 0];
  return lines
    .map((segments) => {
      prev[0] = 0;
      return segments
        .map((seg) =>
          seg
            .map((v, i) => {
              const d = v - prev[i];
              prev[i] = v;
              return vlq(d);
            })
            .join(''),
        )
        .join(',');
    })
    .join(';');
}

if (isMainThread) {
  mainTimeout(NAME);
  const dir = mkdtempSync(join(tmpdir(), 'loopwatch-probe-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'gen.cjs');
  // Generated lines 1-3 come from original.ts lines 10-12 (1-based), as a compiler would say.
  writeFileSync(
    file,
    ['module.exports = function greet(n) {', "  return 'hi ' + n;", '};', '//# sourceMappingURL=gen.cjs.map'].join(
      '\n',
    ),
  );
  writeFileSync(
    `${file}.map`,
    JSON.stringify({
      version: 3,
      file: 'gen.cjs',
      sources: ['original.ts'],
      names: [],
      mappings: encodeMappings([[[0, 0, 9, 0]], [[2, 0, 10, 2]], [[0, 0, 11, 0]]]),
    }),
  );

  // Load it on the main thread with source maps on, so main's cache does have the map
  // (setSourceMapsSupport is the newer API, Node >= 22.14; the older one still exists).
  if (nodeModule.setSourceMapsSupport) nodeModule.setSourceMapsSupport(true);
  else process.setSourceMapsEnabled(true);
  createRequire(import.meta.url)(file);
  const mainSees = Boolean(nodeModule.findSourceMap(file));

  const worker = new Worker(new URL(import.meta.url), { workerData: { file } });
  worker.on('error', (e) => report(NAME, false, `worker error: ${e.message}`));
  worker.on('message', async (m) => {
    await worker.terminate();
    if (m.error) return report(NAME, false, m.error);
    const cache = `findSourceMap: main ${mainSees ? 'found the map' : 'found nothing'}, worker ${m.workerSees ? 'found the map' : 'found nothing'}`;
    report(
      NAME,
      true,
      `gen.cjs:1:1 -> original.ts:10:1 and 2:3 -> 11:3; ${m.segments} segments: built in ` +
        `${m.buildMs.toFixed(1)} ms, ${(m.lookupMs * 1000).toFixed(2)} µs a lookup; ${cache}`,
    );
  });
} else {
  const { file } = workerData;
  const { SourceMap, findSourceMap } = nodeModule;
  const workerSees = Boolean(findSourceMap(file));
  const map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));

  // findEntry takes 0-based line/column; findOrigin 1-based, like stack traces.
  const entry = map.findEntry(1, 2);
  const origin = map.findOrigin(2, 3);
  const first = map.findOrigin(1, 1);
  let error;
  if (entry.originalSource !== 'original.ts' || entry.originalLine !== 10 || entry.originalColumn !== 2) {
    error = `findEntry(1, 2) gave ${JSON.stringify(entry)}`;
  } else if (origin.fileName !== 'original.ts' || origin.lineNumber !== 11 || origin.columnNumber !== 3) {
    error = `findOrigin(2, 3) gave ${JSON.stringify(origin)}`;
  } else if (first.fileName !== 'original.ts' || first.lineNumber !== 10 || first.columnNumber !== 1) {
    error = `findOrigin(1, 1) gave ${JSON.stringify(first)}`;
  }

  // Timing on a bundle-sized map: line i, column 10k comes from line i+1, column k+2.
  const LINES = 20_000,
    PER_LINE = 8;
  const lines = Array.from({ length: LINES }, (_, i) =>
    Array.from({ length: PER_LINE }, (_, k) => [10 * k, 0, i + 1, k + 2]),
  );
  const payload = JSON.stringify({ version: 3, sources: ['bundle.ts'], names: [], mappings: encodeMappings(lines) });
  const t0 = performance.now();
  const big = new SourceMap(JSON.parse(payload)); // what the worker does with a map file it read
  const buildMs = performance.now() - t0;
  const probe = big.findEntry(12_345, 35); // in the segment starting at column 30 (k = 3)
  if (!error && (probe.originalLine !== 12_346 || probe.originalColumn !== 5)) {
    error = `big map: findEntry(12345, 35) gave ${JSON.stringify(probe)}`;
  }
  const N = 100_000;
  const t1 = performance.now();
  for (let i = 0; i < N; i++) big.findOrigin(1 + ((i * 7919) % LINES), 1 + (i % 80));
  const lookupMs = (performance.now() - t1) / N;
  parentPort.postMessage({ error, buildMs, lookupMs, segments: LINES * PER_LINE, workerSees });
}
