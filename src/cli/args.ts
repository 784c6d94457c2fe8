/** Command-line parsing on top of `util.parseArgs`, with one-line usage errors. */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { usageError } from './errors.js';
import { messageOf } from '../common/text.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  readonly values: Record<string, string | boolean | string[] | undefined>;
  readonly positionals: string[];
}

/** `parseArgs`, strict, its errors turned into usage errors that name the command. */
export function parse(command: string, args: readonly string[], options: Options, allowPositionals: boolean): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: [...args], options, allowPositionals, strict: true });
    return { values: values as Parsed['values'], positionals };
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = messageOf(error).split('\n')[0] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const flag = /'([^']+)'/.exec(message)?.[1] ?? message;
      throw usageError(`unknown option ${flag}`, command);
    }
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      const arg = /'([^']+)'/.exec(message)?.[1] ?? message;
      throw usageError(`unexpected argument ${arg}`, command);
    }
    // `Option '-t, --threshold <value>' argument missing`
    const missing = /^Option '(?:-\w, )?(--[\w-]+)(?: <value>)?' argument missing/.exec(message);
    throw usageError(missing?.[1] === undefined ? message : `${missing[1]} needs a value`, command);
  }
}

/**
 * `run [options] -- command…` or `run [options] command…`: loopwatch's options end at `--` or
 * at the first word that is not an option, so the command's own flags are left alone.
 */
export function splitCommand(args: readonly string[], options: Options): { own: string[]; command: string[] } {
  const separator = args.indexOf('--');
  let i = 0;
  while (i < args.length && (separator < 0 || i < separator)) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('-') || arg === '-') break;
    const name = arg.startsWith('--')
      ? (arg.slice(2).split('=')[0] ?? '')
      : (Object.entries(options).find(([, o]) => o.short === arg.slice(1))?.[0] ?? '');
    i += options[name]?.type === 'string' && !arg.includes('=') ? 2 : 1;
  }
  if (separator >= 0 && i >= separator) return { own: args.slice(0, separator), command: args.slice(separator + 1) };
  return { own: args.slice(0, i), command: args.slice(i) };
}
