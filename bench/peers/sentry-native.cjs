// Sentry's event-loop-block detection (native addon, watchdog in a worker), set up as its docs
// say: Sentry.init in a preload, with the integration from @sentry/node-native. The DSN points
// at the bench's loopback sink. Everything else is Sentry's default.
const Sentry = require('@sentry/node');
const { eventLoopBlockIntegration } = require('@sentry/node-native');
const { threshold, sentryDsn } = require('./_alert.cjs');

Sentry.init({
  dsn: sentryDsn(),
  integrations: [eventLoopBlockIntegration({ threshold })],
});
