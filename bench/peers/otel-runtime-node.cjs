// OpenTelemetry's runtime metrics for Node (event-loop delay, utilisation, GC, heap) through a
// MeterProvider exporting OTLP to the bench's sink every second (like loopwatch's OTel variant).
const { MeterProvider, PeriodicExportingMetricReader } = require('@opentelemetry/sdk-metrics');
const { OTLPMetricExporter } = require('@opentelemetry/exporter-metrics-otlp-proto');
const { RuntimeNodeInstrumentation } = require('@opentelemetry/instrumentation-runtime-node');
const { sinkUrl } = require('./_alert.cjs');

const meterProvider = new MeterProvider({
  readers: [
    new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter({ url: `${sinkUrl}/v1/metrics` }),
      exportIntervalMillis: 1000,
    }),
  ],
});
const instrumentation = new RuntimeNodeInstrumentation();
instrumentation.setMeterProvider(meterProvider);
instrumentation.enable();
