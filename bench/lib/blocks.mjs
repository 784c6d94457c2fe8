// Runs an app that blocks under one variant and collects, per block, what the tool reported
// and when: loopwatch's JSON report lines, the peers' BENCHALERT lines, Sentry envelopes that
// reached the sink. Times are epoch ms on this machine's clock (child marks and arrival times).
import { runChild, marks } from './child.mjs';
import { sentryEvents, sentryFrames } from './sink.mjs';

let runs = 0;

/**
 * @returns {Promise<{ blocks: { start: number, end: number|undefined, alert?: Alert, ended?: { durationMs: number, frames: Frame[], stackTiming: string } }[], run: object }>}
 * Alert: { at, frames: Frame[], stackTiming?: string, durationMs?: number, source }
 */
export async function runBlocks({ variant, thresholdMs, app, appArgs = [], sink, env = {}, timeoutMs = 60_000 }) {
  const { args, env: vEnv } = variant.setup({ thresholdMs, sinkUrl: sink.url, forBlocks: true });
  const runId = String(++runs);
  const run = await runChild({
    args: [...args, app, ...appArgs],
    env: { BENCH_SETTLE_MS: variant.name.startsWith('sentry') ? '1000' : '300', ...vEnv, ...env, BENCH_RUN_ID: runId },
    timeoutMs,
  });
  // Workers may still be sending; Sentry's transports flush within their own timeouts.
  // (Sentry's watchdogs need ~1 s after start to be armed; the others are given 300 ms.)
  if (variant.name.startsWith('sentry')) await new Promise((r) => setTimeout(r, 300));
  const ms = marks(run.lines);
  const blocks = [];
  for (const m of ms) {
    if (m.name === 'block') blocks.push({ start: m.at, end: undefined, alerts: [] });
    if (m.name === 'unblock' && blocks.length) blocks[blocks.length - 1].end = m.at;
  }
  const alerts = [];
  const endedById = new Map();
  for (const line of run.lines) {
    if (line.fd !== 2) continue;
    if (line.text.startsWith('BENCHALERT ')) {
      const a = JSON.parse(line.text.slice(11));
      alerts.push({ at: line.at, frames: (a.stack ?? []).map(v8Frame), durationMs: a.durationMs, source: a.tool });
    } else if (line.text.startsWith('{"type":"block"')) {
      const ev = JSON.parse(line.text);
      if (ev.state === 'ongoing')
        alerts.push({
          at: line.at,
          frames: ev.stack ?? [],
          stackTiming: ev.stackTiming,
          id: ev.id,
          source: 'loopwatch',
        });
      else
        endedById.set(ev.id, {
          durationMs: ev.durationMs,
          frames: ev.stack ?? [],
          stackTiming: ev.stackTiming,
          profile: ev.profile,
        });
    }
  }
  for (const req of sink.since(0)) {
    if (!req.path.startsWith(`/api/${runId}/envelope`)) continue;
    for (const ev of sentryEvents(req.body))
      alerts.push({
        at: req.at,
        frames: sentryFrames(ev),
        source: 'sentry',
        message: ev.exception?.values?.[0]?.value,
      });
  }
  alerts.sort((a, b) => a.at - b.at);
  for (const alert of alerts) {
    // The block an alert belongs to: the last one that started before it arrived.
    const block = [...blocks].reverse().find((b) => b.start <= alert.at);
    if (!block || block.alert) continue;
    block.alert = alert;
    if (alert.id !== undefined) block.ended = endedById.get(alert.id);
  }
  return { blocks, run, alerts };
}

/** "    at fn (file:1:2)" → { function, file } */
function v8Frame(text) {
  const m = /^\s*at (?:(.*?) \()?(.*?)(?::\d+:\d+)?\)?$/.exec(text);
  return { function: m?.[1] ?? '', file: m?.[2] ?? text };
}
