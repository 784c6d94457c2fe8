// An app that does nothing: the wall time of `node <preload> empty.cjs` is what the tool adds
// to a short script (start-up, and the exit it may delay). Capped at 3 s: a tool whose
// exporter keeps the process alive would otherwise never end.
setTimeout(() => process.exit(0), 3000).unref();
