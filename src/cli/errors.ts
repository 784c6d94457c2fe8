/**
 * Errors the command reports as one line, never as a stack trace. Each kind has its exit
 * status: a usage error (a flag, a missing argument) 2, an input error (a file that cannot be
 * read or holds no loopwatch events) 1.
 */
export type CliErrorCode = 'ERR_LOOPWATCH_CLI_USAGE' | 'ERR_LOOPWATCH_CLI_INPUT';

export const EXIT_INPUT = 1;
export const EXIT_USAGE = 2;
/** As shells do: the command to run was not found / could not be executed. */
export const EXIT_NOT_FOUND = 127;
export const EXIT_NOT_EXECUTABLE = 126;

export class CliError extends Error {
  readonly code: CliErrorCode;
  readonly exitCode: number;
  /** Usage errors end with a hint pointing at the command's help. */
  readonly hint: string | undefined;

  constructor(code: CliErrorCode, message: string, hint?: string) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.exitCode = code === 'ERR_LOOPWATCH_CLI_USAGE' ? EXIT_USAGE : EXIT_INPUT;
    this.hint = hint;
  }
}

export function usageError(message: string, command?: string): CliError {
  return new CliError(
    'ERR_LOOPWATCH_CLI_USAGE',
    message,
    `run \`loopwatch ${command === undefined ? '' : `${command} `}--help\` for usage`,
  );
}

export function inputError(message: string): CliError {
  return new CliError('ERR_LOOPWATCH_CLI_INPUT', message);
}
