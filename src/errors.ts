/**
 * Coded errors. `instanceof LoopwatchError` works across two loaded copies of the package
 * (CJS and ESM, or two versions), because the check looks for a shared symbol brand.
 */
const BRAND = Symbol.for('loopwatch.error');

export type LoopwatchErrorCode =
  /** An option of `start()` has a wrong type or value. */
  | 'ERR_LOOPWATCH_INVALID_OPTION'
  /** An environment variable read by `loopwatch/register` has a wrong value. */
  | 'ERR_LOOPWATCH_INVALID_ENV'
  /** `start()` was called where loopwatch cannot run (e.g. inside a worker thread). */
  | 'ERR_LOOPWATCH_UNSUPPORTED'
  /**
   * The monitor is not watching: the environment refused its worker thread (the permission
   * model without `--allow-worker`), or the worker failed to load or died. `ready` rejects with
   * it; the app runs on, and one `loopwatch:` line on stderr said what is lost and how to get it
   * back.
   */
  | 'ERR_LOOPWATCH_NOT_WATCHING'
  /**
   * An optional peer dependency that the entry point used needs is not installed
   * (`loopwatch/prom-client` without `prom-client`); the message names the install command.
   */
  | 'ERR_LOOPWATCH_MISSING_PEER';

export class LoopwatchError extends Error {
  readonly code: LoopwatchErrorCode;

  constructor(code: LoopwatchErrorCode, message: string) {
    super(message);
    this.name = 'LoopwatchError';
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}
