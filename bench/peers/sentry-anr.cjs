// Sentry's older ANR detection: a worker that, past the threshold, takes the main thread's stack
// through the inspector (Debugger.pause) when captureStackTrace is on. Deprecated in favour of
// the native integration, still shipped in @sentry/node 10.
const Sentry = require('@sentry/node');
const { threshold, sentryDsn } = require('./_alert.cjs');

Sentry.init({
  dsn: sentryDsn(),
  integrations: [Sentry.anrIntegration({ anrThreshold: threshold, captureStackTrace: true })],
});
