import { parentPort, workerData } from 'node:worker_threads';
import * as fs from 'node:fs';
import { buildPipeline, type Exporters } from './telemetry.js';

interface Data {
  exporters: Exporters;
  timingFile?: string;
  emitDelayMs?: number;
}
const data = workerData as Data;
const frame = {
  fn: 'spin',
  file: '/app/main.js',
  line: 12,
  col: 5,
  stack: 'Error\n    at spin (/app/main.js:12:5)\n    at main (/app/main.js:20:3)',
};

function stamp(what: string): void {
  // Never console.log from here for timing: worker stdout is relayed through the main thread.
  if (data.timingFile) fs.appendFileSync(data.timingFile, JSON.stringify({ what, t: Date.now() }) + '\n');
}

async function main(): Promise<void> {
  const pl = buildPipeline(data.exporters, 'loopwatch-proto');
  if (data.exporters.kind === 'memory') {
    pl.state.blockedSince = Date.now() - 1500;
    pl.recordBlock(1.5, 'running', frame, 'ongoing', 1);
    pl.recordBlock(0.042, 'running', frame, 'ended', 2);
    pl.recordBlock(3.2, 'startup', frame, 'ended', 3);
    const pulled = await pl.pull!.collect();
    await pl.meterProvider.forceFlush();
    const pushed = pl.memMetrics!.getMetrics();
    const metrics = pulled.resourceMetrics.scopeMetrics
      .flatMap((s) => s.metrics)
      .map((m) => ({
        name: m.descriptor.name,
        unit: m.descriptor.unit,
        valueType: m.descriptor.valueType,
        dataPointType: m.dataPointType,
        points: m.dataPoints.map((d) => ({ attrs: d.attributes, value: d.value })),
      }));
    const logs = pl.memLogs!.getFinishedLogRecords().map((r) => ({
      eventName: r.eventName,
      severityNumber: r.severityNumber,
      severityText: r.severityText,
      body: r.body,
      attributes: r.attributes,
    }));
    parentPort!.postMessage({
      resource: pulled.resourceMetrics.resource.attributes,
      errors: pulled.errors.length,
      metrics,
      logs,
      pushedBatches: pushed.length,
    });
    await pl.shutdown();
    return;
  }
  if (data.exporters.kind === 'prometheus') {
    parentPort!.postMessage({ ready: true });
    parentPort!.on('message', (m: { block?: 'start' | 'end'; stop?: boolean }) => {
      if (m.stop) {
        void pl.shutdown().then(() => process.exit(0));
      }
    });
    // Simulate the monitor noticing a block on its own clock (main thread may be frozen).
    setTimeout(() => {
      pl.state.blockedSince = Date.now();
      stamp('blocked-now-set');
    }, data.emitDelayMs ?? 300);
    setTimeout(
      () => {
        pl.recordBlock(1.0, 'running', frame, 'ended', 1);
        pl.state.blockedSince = null;
      },
      (data.emitDelayMs ?? 300) + 2500,
    );
    return;
  }
  // OTLP: tell main we are ready, then emit while main is (supposedly) blocked.
  parentPort!.postMessage({ ready: true });
  stamp('worker-ready');
  await new Promise((r) => setTimeout(r, data.emitDelayMs ?? 300));
  pl.state.blockedSince = Date.now() - 300;
  stamp('emit');
  pl.recordBlock(0.3, 'running', frame, 'ongoing', 7);
  await pl.flush();
  stamp('flushed');
  // Send a second flush later (after main recovered) with the ended record.
  await new Promise((r) => setTimeout(r, 2500));
  pl.recordBlock(2.0, 'running', frame, 'ended', 7);
  pl.state.blockedSince = null;
  await pl.flush();
  stamp('flushed-2');
  await pl.shutdown();
  stamp('shutdown');
}
main().catch((e: unknown) => {
  fs.writeSync(2, `worker error: ${String((e as Error)?.stack ?? e)}\n`);
  process.exit(1);
});
