// Blocks the event loop in one of the ways the attribution section compares, after the tool
// under test is armed: `node block.cjs <scenario> [count] [gapMs] [blockMs]`. Each block is
// framed by MARK block / MARK unblock lines; the culprit function is named after the scenario
// (SCENARIOS[].culprit), so a report either names it or does not.
const { execSync, spawn, execFileSync } = require('node:child_process');
const { pbkdf2Sync, randomBytes } = require('node:crypto');
const { gzipSync } = require('node:zlib');
const { openSync, readSync, closeSync, mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { armed, mark, spin } = require('./_app.cjs');

const [scenario = 'js-loop', count = '1', gap = '300', block = '600'] = process.argv.slice(2);
const blockMs = Number(block);

function spinLoop() {
  return spin(blockMs);
}

function validateInput(text) {
  return /^(a+)+$/.test(text); // catastrophic backtracking
}

// Built in slices before arming, so that preparing the data is not a block of its own.
function bigRecords() {
  const parts = [];
  for (let start = 0; start < (scenario === 'json-parse' ? 400_000 : 600_000); start += 5_000) {
    const slice = Array.from({ length: 5_000 }, (_, k) => ({
      id: start + k,
      name: `item ${start + k}`,
      tags: ['x', 'y'],
    }));
    parts.push(scenario === 'json-parse' ? JSON.stringify(slice).slice(1, -1) : slice);
  }
  return scenario === 'json-parse' ? `[${parts.join(',')}]` : parts.flat();
}

const data =
  scenario === 'json-parse' || scenario === 'json-stringify'
    ? bigRecords()
    : scenario === 'zlib'
      ? randomBytes(12 * 1024 * 1024)
      : undefined;

function loadCatalog() {
  return JSON.parse(data); // one long native call whose caller returns right after
}

function serializeReport() {
  return JSON.stringify(data);
}

function hashPassword() {
  return pbkdf2Sync('password', 'salt', 400_000, 64, 'sha512');
}

function compressBackup() {
  return gzipSync(data);
}

function runShell() {
  return execSync(`sleep ${blockMs / 1000}`);
}

const lock = new Int32Array(new SharedArrayBuffer(4));
function waitForLock() {
  return Atomics.wait(lock, 0, 0, blockMs);
}

// A synchronous read that waits on the file system: opening a FIFO blocks until its writer
// (started just before, asynchronously) opens it.
function readFifoConfig(fifo) {
  const fd = openSync(fifo, 'r');
  const buf = Buffer.alloc(16);
  readSync(fd, buf);
  closeSync(fd);
}

function crunchNumbers() {
  return spin(blockMs);
}

const run = {
  'js-loop': spinLoop,
  regexp: () => validateInput(`${'a'.repeat(23)}!`),
  'json-parse': loadCatalog,
  'json-stringify': serializeReport,
  crypto: hashPassword,
  zlib: compressBackup,
  'child-process': runShell,
  'atomics-wait': waitForLock,
  fs: () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopwatch-bench-fifo-'));
    const fifo = join(dir, 'config');
    execFileSync('mkfifo', [fifo]);
    spawn('sh', ['-c', `sleep ${blockMs / 1000}; echo ok > ${fifo}`], { stdio: 'ignore' }).unref();
    readFifoConfig(fifo);
  },
  promise: () =>
    Promise.resolve().then(() => {
      mark('block');
      crunchNumbers();
      mark('unblock');
    }),
}[scenario];
if (!run) throw new Error(`unknown scenario ${scenario}`);

(async () => {
  await armed();
  for (let i = 0; i < Number(count); i++) {
    if (scenario === 'promise') {
      await run();
    } else {
      mark('block');
      run();
      mark('unblock');
    }
    await new Promise((resolve) => setTimeout(resolve, Number(gap)));
  }
  mark('done');
  // Give "after the fact" tools their next timer tick, and workers time to send.
  await new Promise((resolve) => setTimeout(resolve, 400));
  process.exit(0);
})();
