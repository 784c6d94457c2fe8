// Prototype of a start-up check: find the installed OTel SDK line and @opentelemetry/api,
// and fail with one clear message instead of a TypeError deep inside the SDK.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
function pkgVersion(name, from) {
  let file;
  try {
    file = require.resolve(name, { paths: [from] });
  } catch {
    return null;
  }
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      const j = JSON.parse(fs.readFileSync(pj, 'utf8'));
      if (j.name === name) return j.version;
    }
  }
  return null;
}
function check(from) {
  const api = pkgVersion('@opentelemetry/api', from),
    sdk = pkgVersion('@opentelemetry/sdk-metrics', from),
    logs = pkgVersion('@opentelemetry/sdk-logs', from);
  const [nMaj, nMin] = process.versions.node.split('.').map(Number);
  const problems = [];
  if (!api) problems.push('@opentelemetry/api is not installed (peer dependency): npm install @opentelemetry/api');
  if (!sdk || !logs) problems.push('@opentelemetry/sdk-metrics / sdk-logs not found');
  const line = sdk ? Number(sdk.split('.')[0]) : null;
  const [aMaj, aMin] = (api || '0.0').split('.').map(Number);
  if (line === 3 && (aMaj !== 1 || aMin < 10))
    problems.push(`@opentelemetry/sdk-metrics ${sdk} needs @opentelemetry/api >=1.10 <1.11, found ${api}`);
  if (line === 2 && (aMaj !== 1 || aMin !== 9))
    problems.push(`@opentelemetry/sdk-metrics ${sdk} needs @opentelemetry/api >=1.9 <1.10, found ${api}`);
  if (line === 3 && (nMaj < 22 || (nMaj === 22 && nMin < 15)))
    problems.push(`@opentelemetry/sdk-metrics ${sdk} needs Node >=22.15, running ${process.versions.node}`);
  return { node: process.versions.node, api, sdkMetrics: sdk, sdkLogs: logs, problems };
}
console.log(JSON.stringify(check(process.argv[2] || process.cwd())));
