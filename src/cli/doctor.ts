/**
 * `loopwatch doctor`: runs the native-free probes (shipped with the package) on the Node
 * running this command and says, per capability, whether it works here and what to do if not.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parse } from './args.js';
import { EXIT_INPUT, inputError } from './errors.js';
import { styleFor } from './format.js';

export const DOCTOR_OPTIONS = { help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' } } as const;

interface ProbeResult {
  readonly probe: string;
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

interface Capability {
  readonly title: string;
  /** loopwatch cannot do its job without it: doctor exits 1 when it fails. */
  readonly needed: boolean;
  readonly advice: string;
}

/** What each probe shows, and what to do when it fails. Keyed by the name a probe prints. */
const CAPABILITIES: Record<string, Capability> = {
  heartbeat: {
    title: 'block detection (heartbeat in a SharedArrayBuffer, watched by a worker)',
    needed: true,
    advice:
      'worker threads or SharedArrayBuffer/Atomics are unavailable: loopwatch cannot detect blocks on this runtime. Use Node.js 20 or newer, without flags that disable workers.',
  },
  'stack-js-loop': {
    title: 'stack capture while JavaScript code blocks (inspector, no port)',
    needed: true,
    advice:
      'this Node has no usable inspector (built with --without-inspector, or a policy disables it): blocks are detected and timed, but without a stack. Use an official Node.js build.',
  },
  'stack-atomics-wait': {
    title: 'stack capture inside Atomics.wait',
    needed: false,
    advice:
      'blocks waiting in Atomics.wait are reported without a stack. Nothing to configure; report it with `node --version` and this output.',
  },
  'stack-after-native-call': {
    title: 'stack after one long native call (JSON.parse, *Sync)',
    needed: false,
    advice:
      'stacks of native-call blocks never arrive. The sampling profiler (on by default; check LOOPWATCH_PROFILER is not off) still names those culprits.',
  },
  'stack-pool-thread': {
    title: "stack capture of a worker thread (the app's worker threads, loopwatch/vitest with pool: 'threads')",
    needed: false,
    advice:
      "the monitor's inspector session cannot reach worker threads here: their blocks are reported without a stack, and with pool: 'threads' the vitest plugin's canary fails. Use vitest's default forks pool.",
  },
  'source-map-worker': {
    title: 'source maps in the monitor worker (module.SourceMap)',
    needed: false,
    advice:
      'stacks show the compiled positions (dist/*.js), not your sources. Use Node.js 20.x or newer; ship .map files next to the compiled code.',
  },
  'worker-http': {
    title: 'health endpoints served from the worker (/livez, /readyz)',
    needed: false,
    advice:
      'the worker cannot serve HTTP on 127.0.0.1 here (a sandbox or firewall?): do not set LOOPWATCH_HEALTH_PORT, or allow loopback connections.',
  },
  'worker-exit': {
    title: 'ending a hung process from the worker (hangAction kill/abort)',
    needed: false,
    advice:
      'the worker could not end its process with a signal: LOOPWATCH_HANG_ACTION=kill|abort will not work; rely on an external supervisor (a liveness probe on /livez).',
  },
};

function probesScript(): string {
  return join(__dirname, '..', '..', 'native-free-probes', 'run-all.mjs');
}

function runProbes(script: string): Promise<ProbeResult[]> {
  return new Promise((done, fail) => {
    // The probes time themselves: no preload or inspector flag of ours may leak into them.
    const env = { ...process.env, NODE_OPTIONS: '' };
    execFile(
      process.execPath,
      [script, '--json'],
      { env, maxBuffer: 16 * 1024 * 1024, timeout: 300_000 },
      (error, stdout) => {
        try {
          const results = JSON.parse(stdout) as ProbeResult[];
          if (!Array.isArray(results)) throw new Error('not an array');
          done(results);
        } catch {
          fail(inputError(`the probes did not report (${error?.message.split('\n')[0] ?? 'unreadable output'})`));
        }
      },
    );
  });
}

export async function doctorCommand(args: readonly string[], helpText: string): Promise<number> {
  const { values } = parse('doctor', args, DOCTOR_OPTIONS, false);
  if (values['help'] === true) {
    process.stdout.write(helpText);
    return 0;
  }
  const script = probesScript();
  if (!existsSync(script)) throw inputError(`the probes are missing (${script}): reinstall loopwatch`);
  const style = styleFor(process.stdout);
  const json = values['json'] === true;
  if (!json)
    process.stdout.write(
      style.dim(
        `loopwatch doctor — Node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} CPUs; running the probes (about 10 s)…\n`,
      ),
    );
  const results = await runProbes(script);
  // The capabilities loopwatch needs first, then the others, in the order of the table above.
  const order = Object.keys(CAPABILITIES);
  const rank = (name: string): number => (order.includes(name) ? order.indexOf(name) : order.length);
  const rows = [...results]
    .sort((a, b) => rank(a.name) - rank(b.name))
    .map((r) => {
      const capability = CAPABILITIES[r.name] ?? {
        title: r.name,
        needed: false,
        advice: 'see native-free-probes/README.md',
      };
      return { ...r, ...capability };
    });
  const missing = rows.filter((r) => !r.ok && r.needed);
  if (json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return missing.length > 0 ? EXIT_INPUT : 0;
  }
  for (const row of rows) {
    const mark = row.ok ? style.bold('ok  ') : style.red(style.bold('FAIL'));
    process.stdout.write(`${mark}  ${row.title}\n      ${style.dim(`${row.name}: ${row.detail}`)}\n`);
    if (!row.ok) process.stdout.write(`      → ${row.advice}\n`);
  }
  const failed = rows.filter((r) => !r.ok);
  if (failed.length === 0) process.stdout.write(style.bold(`all ${rows.length} capabilities work here\n`));
  else if (missing.length === 0)
    process.stdout.write(
      `${failed.length} optional capabilit${failed.length === 1 ? 'y does' : 'ies do'} not work here; loopwatch still detects blocks and names their stacks\n`,
    );
  else
    process.stdout.write(
      style.red(`loopwatch cannot do its job here: ${missing.map((m) => m.name).join(', ')} failed\n`),
    );
  return missing.length > 0 ? EXIT_INPUT : 0;
}
