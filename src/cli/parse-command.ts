/**
 * `util.parseArgs`, strict, with its errors turned into `UsageError`s for the command.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { optionHint } from './pm2-hints.js';
import { UsageError } from './usage-error.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface ParsedCommand<O extends Options> {
  values: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>['values'];
  positionals: string[];
  /** Where each positional is in `args`. */
  positionalIndexes: number[];
  /** Arguments after a `--`, untouched. */
  rest: string[];
}

export function parseCommand<O extends Options>(command: string, args: string[], options: O): ParsedCommand<O> {
  const terminator = args.indexOf('--');
  const own = terminator === -1 ? args : args.slice(0, terminator);
  const rest = terminator === -1 ? [] : args.slice(terminator + 1);
  try {
    const { values, positionals, tokens } = parseArgs({ args: withEqualsShorts(own, options), options, allowPositionals: true, strict: true, tokens: true });
    const positionalIndexes = tokens.flatMap((token) => (token.kind === 'positional' ? [token.index] : []));
    return { values, positionals, positionalIndexes, rest };
  } catch (error) {
    throw new UsageError(describeParseError(error, command, Object.keys(options).map((name) => `--${name}`)), command);
  }
}

function describeParseError(error: unknown, command: string, known: readonly string[]): string {
  const { code, message } = error as { code?: string; message: string };
  const quoted = /'([^']+)'/.exec(message)?.[1];
  const flag = quoted ? (/--[\w-]+/.exec(quoted)?.[0] ?? quoted) : undefined;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && quoted) return `Unknown option ${quoted}.${optionHint(quoted, command, known)}`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && /argument missing/.test(message) && flag) return `Option ${flag} needs a value.`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && /ambiguous/.test(message) && flag) {
    return `Option ${flag} needs a value; for a value that starts with "-", write it with "=", as in --node-arg=--import=tsx.`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && /does not take an argument/.test(message) && flag) return `Option ${flag} does not take a value.`;
  return message;
}

/**
 * `-w=4` as `--workers=4`: `util.parseArgs` reads a short option's value as what follows the
 * letter, so `-w=4` was the value "=4" ("--workers must be ... Received "=4"") while the long
 * form takes `=` (H144). Only options that take a value; one argument each, so positions stay.
 */
function withEqualsShorts(args: readonly string[], options: Options): string[] {
  const longOf = new Map(Object.entries(options).flatMap(([name, option]) => (option.short !== undefined && option.type === 'string' ? [[option.short, name] as const] : [])));
  return args.map((arg) => {
    const long = arg.length > 2 && arg[0] === '-' && arg[2] === '=' ? longOf.get(arg[1]!) : undefined;
    return long === undefined ? arg : `--${long}${arg.slice(2)}`;
  });
}
