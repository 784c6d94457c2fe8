// A loopback sink for the peers' data: Sentry envelopes, OTLP exports and prom-client pushes
// all land here, so no tool sends anything off the machine and each request is timestamped
// on arrival (a Sentry event that arrives before the block ended was sent during it).
import { createServer } from 'node:http';
import { gunzipSync, inflateSync, brotliDecompressSync } from 'node:zlib';

export async function startSink() {
  const received = [];
  const server = createServer((req, res) => {
    const at = Date.now();
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      // Only Sentry envelopes are read back; other bodies are counted, not kept.
      const path = req.url ?? '';
      received.push({
        at,
        path,
        body: path.includes('/envelope') ? decode(Buffer.concat(chunks), req.headers['content-encoding']) : undefined,
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    /** Requests received since `mark`. */
    since: (mark) => received.slice(mark),
    mark: () => received.length,
    count: () => received.length,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}

function decode(body, encoding) {
  try {
    if (encoding === 'gzip') return gunzipSync(body);
    if (encoding === 'deflate') return inflateSync(body);
    if (encoding === 'br') return brotliDecompressSync(body);
  } catch {
    // keep the raw body
  }
  return body;
}

/** Sentry events (`type: event`) in an envelope body: header line, then item header + payload pairs. */
export function sentryEvents(body) {
  const lines = body.toString('utf8').split('\n');
  const events = [];
  for (let i = 1; i + 1 < lines.length; i += 2) {
    try {
      const header = JSON.parse(lines[i]);
      if (header.type === 'event') events.push(JSON.parse(lines[i + 1]));
    } catch {
      // not a JSON item (attachments): skip
    }
  }
  return events;
}

/** Function names (and files) of every stack frame in a Sentry event, innermost first. */
export function sentryFrames(event) {
  const stacks = [];
  for (const ex of event.exception?.values ?? []) if (ex.stacktrace) stacks.push(ex.stacktrace);
  for (const th of event.threads?.values ?? [])
    if (th.stacktrace && (th.crashed || th.current)) stacks.push(th.stacktrace);
  return stacks
    .flatMap((s) => [...(s.frames ?? [])].reverse())
    .map((f) => ({ function: f.function ?? '', file: f.filename ?? f.abs_path ?? '' }));
}
