/**
 * A loopback OTLP/HTTP receiver for the tests. It decodes what arrives with protobufjs and the
 * official opentelemetry-proto definitions (as shipped in @elastic/mockotlpserver), not with
 * the exporter's own code, so a wrong encoding fails the test.
 */
import { createServer, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';

const PROTO_ROOT = dirname(require.resolve('@elastic/mockotlpserver/package.json'));

const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(PROTO_ROOT, target);
root.loadSync([
  'opentelemetry/proto/collector/logs/v1/logs_service.proto',
  'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
  'opentelemetry/proto/collector/trace/v1/trace_service.proto',
]);
// Those definitions are opentelemetry-proto v1.4.0, which predates LogRecord.event_name (field 12).
const logRecord = root.lookupType('opentelemetry.proto.logs.v1.LogRecord');
if (logRecord.fields['eventName'] === undefined) logRecord.add(new protobuf.Field('eventName', 12, 'string'));
const requests = {
  '/v1/logs': root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'),
  '/v1/metrics': root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest'),
  '/v1/traces': root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
} as const;

/** OTLP ids are bytes; protobufjs gives them base64 (JSON encoding: hex). Both to hex. */
export function hexId(value: string | undefined, contentType: string): string | undefined {
  if (value === undefined) return undefined;
  return contentType.includes('json') && /^[0-9a-f]+$/i.test(value)
    ? value.toLowerCase()
    : Buffer.from(value, 'base64').toString('hex');
}

export interface KeyValue {
  key: string;
  value: { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
}
export interface Span {
  traceId?: string;
  spanId?: string;
  name?: string;
  /** 2: SERVER. */
  kind?: number;
  attributes?: KeyValue[];
}
export interface LogRecord {
  traceId?: string;
  spanId?: string;
  eventName?: string;
  severityNumber?: string | number;
  severityText?: string;
  body?: { stringValue?: string };
  attributes?: KeyValue[];
}
export interface Metric {
  name: string;
  /** The instrumentation scope (meter) that made it; set by the receiver. */
  scope?: string;
  unit?: string;
  gauge?: { dataPoints: { asDouble?: number; asInt?: string; attributes?: KeyValue[] }[] };
  sum?: { dataPoints: { asDouble?: number; asInt?: string; attributes?: KeyValue[] }[]; isMonotonic?: boolean };
  histogram?: {
    dataPoints: {
      count?: string | number;
      sum?: number;
      bucketCounts?: (string | number)[];
      explicitBounds?: number[];
      attributes?: KeyValue[];
    }[];
  };
}

export interface Arrival {
  readonly at: number;
  readonly path: '/v1/logs' | '/v1/metrics' | '/v1/traces';
  readonly contentType: string;
  /** The request's HTTP headers (names in lower case). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly resource: KeyValue[];
  readonly logs: LogRecord[];
  readonly metrics: Metric[];
  readonly spans: Span[];
}

export function attribute(attributes: KeyValue[] | undefined, key: string): string | number | boolean | undefined {
  const value = attributes?.find((a) => a.key === key)?.value;
  if (value === undefined) return undefined;
  return (
    value.stringValue ??
    (value.intValue === undefined ? undefined : Number(value.intValue)) ??
    value.doubleValue ??
    value.boolValue
  );
}

interface Decoded {
  resourceLogs?: { resource?: { attributes?: KeyValue[] }; scopeLogs?: { logRecords?: LogRecord[] }[] }[];
  resourceMetrics?: {
    resource?: { attributes?: KeyValue[] };
    scopeMetrics?: { scope?: { name?: string }; metrics?: Metric[] }[];
  }[];
  resourceSpans?: { resource?: { attributes?: KeyValue[] }; scopeSpans?: { spans?: Span[] }[] }[];
}

export class OtlpReceiver {
  readonly arrivals: Arrival[] = [];
  readonly #server: Server;
  readonly #waiters: { test: (a: Arrival) => boolean; resolve: (a: Arrival) => void }[] = [];
  /** Status to answer with (e.g. 503 to act as an unhealthy collector). */
  status = 200;
  /** While true, requests are read and recorded but not answered (a stalled collector). */
  holding = false;
  readonly #held: (() => void)[] = [];

  /** Answers the held requests and every later one at once. */
  release(): void {
    this.holding = false;
    for (const answer of this.#held.splice(0)) answer();
  }

  constructor() {
    this.#server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      const at = Date.now();
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const path =
          request.url === '/v1/logs' || request.url === '/v1/metrics' || request.url === '/v1/traces'
            ? request.url
            : undefined;
        const contentType = request.headers['content-type'] ?? '';
        if (path === undefined) {
          response.writeHead(404).end();
          return;
        }
        const type = requests[path];
        const body = Buffer.concat(chunks);
        const message = contentType.includes('json')
          ? type.fromObject(JSON.parse(body.toString('utf8')) as Record<string, unknown>)
          : type.decode(body);
        const problem = type.verify(message);
        if (problem !== null) throw new Error(`invalid OTLP ${path}: ${problem}`);
        const decoded = type.toObject(message, {
          longs: String,
          enums: Number,
          bytes: String,
          defaults: false,
        }) as Decoded;
        const arrival: Arrival = {
          at,
          path,
          contentType,
          headers: request.headers,
          resource:
            decoded.resourceLogs?.[0]?.resource?.attributes ??
            decoded.resourceMetrics?.[0]?.resource?.attributes ??
            decoded.resourceSpans?.[0]?.resource?.attributes ??
            [],
          logs: (decoded.resourceLogs ?? []).flatMap((r) => (r.scopeLogs ?? []).flatMap((s) => s.logRecords ?? [])),
          metrics: (decoded.resourceMetrics ?? []).flatMap((r) =>
            (r.scopeMetrics ?? []).flatMap((s) =>
              (s.metrics ?? []).map((m) => (s.scope?.name === undefined ? m : { ...m, scope: s.scope.name })),
            ),
          ),
          spans: (decoded.resourceSpans ?? []).flatMap((r) => (r.scopeSpans ?? []).flatMap((s) => s.spans ?? [])),
        };
        this.arrivals.push(arrival);
        for (const waiter of [...this.#waiters]) {
          if (waiter.test(arrival)) {
            this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
            waiter.resolve(arrival);
          }
        }
        const answer = (): void => {
          response.writeHead(this.status, {
            'content-type': contentType.includes('json') ? 'application/json' : 'application/x-protobuf',
          });
          response.end(contentType.includes('json') ? '{}' : undefined);
        };
        if (this.holding) this.#held.push(answer);
        else answer();
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const address = this.#server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  }

  /** Resolves with the first arrival (past or future) that passes `test`. */
  waitFor(test: (arrival: Arrival) => boolean): Promise<Arrival> {
    const seen = this.arrivals.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ test, resolve }));
  }

  close(): void {
    this.#server.close();
    this.#server.closeAllConnections();
  }
}
