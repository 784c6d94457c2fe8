/** Options of the test-runner integrations (`loopwatch/vitest`, `loopwatch/node-test`), validated eagerly. */
import { LoopwatchError } from '../errors.js';
import { DEFAULT_THRESHOLD_MS } from '../options.js';
import { mustBe } from '../common/text.js';
import { isObject } from '../common/guards.js';

/** A frame matcher: a function name (exact), a file (substring of the path), or both. */
export interface AllowRule {
  /** The function's name as loopwatch reports it (`renderPage`, `Server.<anonymous>`), or a RegExp. */
  readonly function?: string | RegExp;
  /** Part of the file path (`/node_modules/bcrypt/`, `src/legacy/`), or a RegExp. */
  readonly file?: string | RegExp;
}

export interface TestingOptions {
  /** A block at least this long (ms) is reported. Default: 100 (loopwatch's default). */
  readonly thresholdMs?: number;
  /** `fail` (default): a block fails the test that ran it. `report`: never fail; print the summary. */
  readonly mode?: 'fail' | 'report';
  /**
   * Blocks whose stack has a frame matching one of these are allowed (like BlockHound's
   * `allowBlockingCallsInside`). A string is a function name; use `{ file }` for paths.
   */
  readonly allow?: ReadonlyArray<string | RegExp | AllowRule>;
  /**
   * A test still blocked this long (ms) is a hang: it is reported with its stack and its
   * process is ended, so the run goes on (forks pool) or ends (threads pool). Default: the
   * runner's test timeout + 1 s. `false`: never.
   */
  readonly hangMs?: number | false;
  /**
   * Blocks outside any test — while a file's imports and top-level code run, or in
   * `beforeAll`/`afterAll` hooks — are reported in the summary (`report`, default) or also fail
   * the file (`fail`).
   */
  readonly outsideTests?: 'report' | 'fail';
  /** Print a summary of the blocks found at the end of the run. Default: true. */
  readonly summary?: boolean;
  /**
   * Before the first test of each process, block on purpose once and check that loopwatch
   * saw it, with its stack: a misconfiguration fails the run instead of passing every test.
   * Default: true.
   */
  readonly canary?: boolean;
}

export interface ResolvedAllowRule {
  readonly function: RegExp | string | undefined;
  readonly file: RegExp | string | undefined;
}

export interface ResolvedTestingOptions {
  readonly thresholdMs: number;
  readonly mode: 'fail' | 'report';
  readonly allow: readonly ResolvedAllowRule[];
  /** Undefined: derive from the runner's test timeout. */
  readonly hangMs: number | false | undefined;
  readonly outsideTests: 'report' | 'fail';
  readonly summary: boolean;
  readonly canary: boolean;
}

const KNOWN = new Set(['thresholdMs', 'mode', 'allow', 'hangMs', 'outsideTests', 'summary', 'canary']);

function invalid(message: string): never {
  throw new LoopwatchError('ERR_LOOPWATCH_INVALID_OPTION', `loopwatch test integration: ${message}`);
}

function pattern(value: unknown, where: string): RegExp | string | undefined {
  if (value === undefined) return undefined;
  if (value instanceof RegExp) return value;
  if (typeof value === 'string' && value.length > 0) return value;
  return invalid(mustBe(where, 'a non-empty string or a RegExp', JSON.stringify(value)));
}

function rule(value: unknown, index: number): ResolvedAllowRule {
  if (typeof value === 'string' || value instanceof RegExp)
    return { function: pattern(value, `allow[${index}]`), file: undefined };
  if (value === null || typeof value !== 'object')
    return invalid(`allow[${index}] must be a function name, a RegExp or { function, file }`);
  const { function: fn, file, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) invalid(`allow[${index}] has unknown key "${extra[0]}" (expected function, file)`);
  if (fn === undefined && file === undefined) invalid(`allow[${index}] needs a function or a file`);
  return { function: pattern(fn, `allow[${index}].function`), file: pattern(file, `allow[${index}].file`) };
}

function oneOf<T extends string>(value: unknown, name: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  return invalid(mustBe(`\`${name}\``, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, JSON.stringify(value)));
}

function flag(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  return invalid(mustBe(`\`${name}\``, 'true or false', JSON.stringify(value)));
}

export function resolveTestingOptions(input: TestingOptions | undefined): ResolvedTestingOptions {
  if (input !== undefined && !isObject(input)) invalid('options must be an object');
  const options = (input ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) invalid(`unknown option \`${key}\` (expected one of ${[...KNOWN].join(', ')})`);
  }
  const thresholdMs = options['thresholdMs'] ?? DEFAULT_THRESHOLD_MS;
  if (typeof thresholdMs !== 'number' || !Number.isFinite(thresholdMs) || thresholdMs < 1 || thresholdMs > 3_600_000) {
    invalid(mustBe('`thresholdMs`', 'a number of milliseconds from 1 to 3600000', JSON.stringify(thresholdMs)));
  }
  const hangMs = options['hangMs'];
  if (
    hangMs !== undefined &&
    hangMs !== false &&
    (typeof hangMs !== 'number' || !Number.isInteger(hangMs) || hangMs < Math.ceil(thresholdMs) || hangMs > 86_400_000)
  ) {
    invalid(
      mustBe(
        '`hangMs`',
        `false or an integer number of milliseconds from thresholdMs (${Math.ceil(thresholdMs)}) to 86400000`,
        JSON.stringify(hangMs),
      ),
    );
  }
  const allow = options['allow'] ?? [];
  if (!Array.isArray(allow)) invalid(mustBe('`allow`', 'an array', JSON.stringify(allow)));
  return {
    thresholdMs,
    mode: oneOf(options['mode'], 'mode', ['fail', 'report'], 'fail'),
    allow: (allow as unknown[]).map(rule),
    hangMs: hangMs,
    outsideTests: oneOf(options['outsideTests'], 'outsideTests', ['report', 'fail'], 'report'),
    summary: flag(options['summary'], 'summary', true),
    canary: flag(options['canary'], 'canary', true),
  };
}

/** Options cross to the test processes as JSON: RegExps as [source, flags]. */
export type WireRule = { f?: string | [string, string]; p?: string | [string, string] };
export type WireOptions = Omit<ResolvedTestingOptions, 'allow'> & { readonly allow: WireRule[] };

function toWire(value: RegExp | string | undefined): string | [string, string] | undefined {
  return value instanceof RegExp ? [value.source, value.flags] : value;
}

function fromWire(value: string | [string, string] | undefined): RegExp | string | undefined {
  return Array.isArray(value) ? new RegExp(value[0], value[1]) : value;
}

export function optionsToWire(options: ResolvedTestingOptions): WireOptions {
  return {
    ...options,
    allow: options.allow.map((r) => {
      const f = toWire(r.function);
      const p = toWire(r.file);
      return { ...(f === undefined ? {} : { f }), ...(p === undefined ? {} : { p }) };
    }),
  };
}

export function optionsFromWire(wire: WireOptions): ResolvedTestingOptions {
  return { ...wire, allow: wire.allow.map((r) => ({ function: fromWire(r.f), file: fromWire(r.p) })) };
}
