/**
 * `/livez` and `/readyz`, served from the monitor worker: they answer in milliseconds while the
 * main thread is frozen, and say why. The endpoint is small on purpose: GET/HEAD only, no
 * request body read, short timeouts, a cap on connections, so it cannot be used to load the
 * process it reports on.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { decide, type PressureLimits, type PressureSample } from '../common/pressure.js';
import type { BlockContext, HealthAddress, StackFrame } from '../types.js';
import type { LagStats } from './lag.js';
import type { BlockedThread } from './threads.js';

/** What the endpoints need to know, read at each request. */
export interface LoopView {
  /** Milliseconds since the loop last turned (its last heartbeat). */
  silentMs(): number;
  /** The block being reported, if any: its id and the culprit frame taken during it. */
  block():
    | { readonly id: number; readonly culprit: StackFrame | undefined; readonly context?: BlockContext | undefined }
    | undefined;
  /** Whether the startup phase is over (loop turned; with warm-up, `markReady()` called). */
  started(): boolean;
  lag(): LagStats;
  /** The app's worker threads blocked now (listed in the body; the status is the main loop's). */
  blockedThreads?(): readonly BlockedThread[];
  /** The figures of the pressure decision, as this thread sees them now. */
  pressure(): PressureSample;
}

export interface HealthLimits {
  readonly thresholdMs: number;
  readonly livenessMs: number;
  /** The same limits `monitor.isUnderPressure()` applies on the main thread. */
  readonly pressure: PressureLimits;
}

export interface HealthAnswer {
  readonly status: 200 | 503;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Record<string, unknown>;
}

const MAX_CONNECTIONS = 16;
const HEADERS_TIMEOUT_MS = 2000;
const REQUEST_TIMEOUT_MS = 5000;
const KEEP_ALIVE_MS = 5000;
/** A connection that sends nothing for this long is closed (a probe sends at once). */
const IDLE_SOCKET_MS = 2000;
const MAX_HEADER_BYTES = 8192;
/** How often idle and slow connections are checked against the timeouts (Node's default: 30 s). */
const CHECK_CONNECTIONS_MS = 500;

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function loopBody(view: LoopView, silent: number, limits: HealthLimits): Record<string, unknown> {
  const block = view.block();
  const blocked = silent >= limits.thresholdMs;
  const culprit = block?.culprit;
  return {
    blockedMs: blocked ? round(silent) : 0,
    ...(blocked && block !== undefined
      ? {
          block: {
            id: block.id,
            ...(culprit === undefined
              ? {}
              : { culprit: { function: culprit.function, file: culprit.file, line: culprit.line } }),
            ...(block.context === undefined ? {} : { context: block.context }),
          },
        }
      : {}),
  };
}

function lagBody(lag: LagStats): Record<string, unknown> {
  return { windowMs: lag.windowMs, samples: lag.samples, p50Ms: lag.p50Ms, p99Ms: lag.p99Ms, maxMs: lag.maxMs };
}

/** The answer of `/livez`: 503 once the loop has not turned for `livenessMs`. */
export function livez(view: LoopView, limits: HealthLimits): HealthAnswer {
  const silent = view.silentMs();
  const live = silent < limits.livenessMs;
  return {
    status: live ? 200 : 503,
    headers: {},
    body: {
      status: live ? 'ok' : 'blocked',
      livenessMs: limits.livenessMs,
      loop: loopBody(view, silent, limits),
      lag: lagBody(view.lag()),
      ...threadsBody(view),
    },
  };
}

/** `workers`: the worker threads blocked now, each with its block and culprit; absent when none. */
function threadsBody(view: LoopView): { workers?: Record<string, unknown>[] } {
  const blocked = view.blockedThreads?.() ?? [];
  if (blocked.length === 0) return {};
  return {
    workers: blocked.map((thread) => ({
      thread: thread.thread,
      ...(thread.threadName === undefined ? {} : { threadName: thread.threadName }),
      blockId: thread.id,
      blockedMs: thread.blockedMs,
      ...(thread.culprit === undefined
        ? {}
        : { culprit: { function: thread.culprit.function, file: thread.culprit.file, line: thread.culprit.line } }),
    })),
  };
}

/**
 * The answer of `/readyz`: 503 while starting, blocked, lagging (any lag measure over
 * `pressure.maxLagMs`) or under pressure (another limit: utilization, heap, RSS, the app's
 * check). The same decision as `monitor.isUnderPressure()` on the main thread.
 */
export function readyz(view: LoopView, limits: HealthLimits): HealthAnswer {
  const silent = view.silentMs();
  const lag = view.lag();
  const pressure = decide(limits.pressure, view.pressure());
  const lagReason = pressure.reasons.find((reason) => reason.limit === 'maxLagMs');
  const status = !view.started()
    ? 'starting'
    : silent >= limits.thresholdMs
      ? 'blocked'
      : lagReason !== undefined
        ? 'lagging'
        : pressure.underPressure
          ? 'under-pressure'
          : 'ready';
  const ready = status === 'ready';
  // A p99 covers 10 s: retrying before part of it has passed would see the same p99. The other
  // figures cover a second.
  const retryAfter = lagReason?.measure === 'p99' ? Math.ceil(lag.windowMs / 2000) : 1;
  return {
    status: ready ? 200 : 503,
    headers: ready ? {} : { 'retry-after': String(retryAfter) },
    body: {
      status,
      readyMaxLagMs: limits.pressure.maxLagMs,
      ...(pressure.underPressure ? { reasons: pressure.reasons } : {}),
      loop: loopBody(view, silent, limits),
      lag: lagBody(lag),
      ...threadsBody(view),
    },
  };
}

function send(
  response: ServerResponse,
  status: number,
  headers: Readonly<Record<string, string>>,
  body: Record<string, unknown>,
  head: boolean,
): void {
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  response.end(head ? undefined : text);
}

/**
 * How much of a request body is read and dropped, at most, before the connection is cut. A
 * body is never used; but closing a socket before the client's data is read makes the kernel
 * reset the connection, and a reset can destroy the answer before the client has read it. So
 * the answer to a request with a body is sent once the body has been read (and dropped).
 */
const MAX_DRAIN_BYTES = 2 * 1024 * 1024;

function handle(request: IncomingMessage, response: ServerResponse, view: LoopView, limits: HealthLimits): void {
  const hasBody =
    (request.headers['content-length'] !== undefined && request.headers['content-length'] !== '0') ||
    request.headers['transfer-encoding'] !== undefined;
  if (!hasBody) {
    answerRequest(request, response, view, limits);
    return;
  }
  // The connection closes after the answer; a body past the cap (or slower than the request
  // timeout) gets no answer at all.
  response.shouldKeepAlive = false;
  let drained = 0;
  request.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > MAX_DRAIN_BYTES) request.socket.destroy();
  });
  request.once('end', () => {
    try {
      answerRequest(request, response, view, limits);
    } catch {
      response.destroy();
    }
  });
  request.resume();
}

function answerRequest(request: IncomingMessage, response: ServerResponse, view: LoopView, limits: HealthLimits): void {
  const path = (request.url ?? '/').split('?')[0];
  const answer = path === '/livez' ? livez : path === '/readyz' ? readyz : undefined;
  if (answer === undefined) {
    send(response, 404, {}, { status: 'not found', endpoints: ['/livez', '/readyz'] }, request.method === 'HEAD');
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    send(response, 405, { allow: 'GET, HEAD' }, { status: 'method not allowed' }, false);
    return;
  }
  const { status, headers, body } = answer(view, limits);
  send(response, status, headers, body, request.method === 'HEAD');
}

export interface HealthServer {
  readonly address: HealthAddress;
  close(): void;
}

/**
 * Listens on host:port. Resolves with the address, or rejects with the listen error (port in
 * use, address not available) for the caller to report once.
 */
export function serveHealth(host: string, port: number, view: LoopView, limits: HealthLimits): Promise<HealthServer> {
  const server: Server = createServer(
    {
      maxHeaderSize: MAX_HEADER_BYTES,
      requestTimeout: REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: CHECK_CONNECTIONS_MS,
    },
    (request, response) => {
      try {
        handle(request, response, view, limits);
      } catch {
        response.destroy();
      }
    },
  );
  server.maxConnections = MAX_CONNECTIONS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  // No 'timeout' listener: Node destroys the idle socket.
  server.setTimeout(IDLE_SOCKET_MS);
  // Garbage on the wire: a plain 400 (431 for oversized headers) when the socket can still
  // take it, then close.
  server.on('clientError', (error: Error & { code?: string }, socket: Socket) => {
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    else socket.destroy();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      // Later errors (a failing socket) must not end the worker.
      server.on('error', () => undefined);
      const bound = server.address();
      const actual = typeof bound === 'object' && bound !== null ? bound.port : port;
      const shown = host.includes(':') ? `[${host}]` : host;
      resolve({
        address: { host, port: actual, url: `http://${shown}:${actual}` },
        close: () => {
          server.close();
          server.closeAllConnections();
        },
      });
    });
  });
}
