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
  const withEquals = withEqualsShorts(own, options);
  try {
    const { values, positionals, tokens } = parseArgs({ args: withEquals, options, allowPositionals: true, strict: true, tokens: true });
    const positionalIndexes = tokens.flatMap((token) => (token.kind === 'positional' ? [token.index] : []));
    return { values, positionals, positionalIndexes, rest };
  } catch (error) {
    throw new UsageError(describeParseError(error, command, Object.keys(options).map((name) => `--${name}`), withEquals, options), command);
  }
}

/** A negative number, perhaps with a unit (`-3`, `-1.5`, `-2s`): no command takes one. */
const kNegativeNumber = /^-\d+(?:\.\d+)?[a-zA-Z]*$/;

function describeParseError(error: unknown, command: string, known: readonly string[], args: readonly string[], options: Options): string {
  const { code, message } = error as { code?: string; message: string };
  const quoted = /'([^']+)'/.exec(message)?.[1];
  const flag = quoted ? (/--[\w-]+/.exec(quoted)?.[0] ?? quoted) : undefined;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && quoted) {
    // `scale app -1.5`: a negative number where a value goes is read as the short options -1, -., -5
    // (retest t61: "Unknown option -1."). No value of a command is below 0.
    const negative = args.find((arg) => arg.startsWith(quoted) && kNegativeNumber.test(arg));
    if (negative !== undefined) return `"${negative.length > 60 ? `${negative.slice(0, 57)}...` : negative}" is a negative number, which clusterkit ${command} does not take (its values: clusterkit ${command} --help).`;
    return `Unknown option ${quoted}.${optionHint(quoted, command, known)}`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && /argument missing/.test(message) && flag) return `Option ${flag} needs a value.`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && /ambiguous/.test(message) && flag) return ambiguousValue(flag, args, options, command);
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && /does not take an argument/.test(message) && flag) return `Option ${flag} does not take a value.`;
  return message;
}

/**
 * `--node-arg --max-old-space-size=256`: the word after an option that takes a value starts with
 * "-", so it may be an option of the command (`--node-arg --watch`: Node's --watch, or
 * clusterkit's?). It is refused, as util.parseArgs refuses it, with the `=` form to write (H318).
 */
function ambiguousValue(flag: string, args: readonly string[], options: Options, command: string): string {
  const short = options[flag.slice(2)]?.short;
  const at = args.findIndex((arg, index) => (arg === flag || (short !== undefined && arg === `-${short}`)) && isOptionLike(args[index + 1]));
  if (at === -1) return `Option ${flag} needs a value; for a value that starts with "-", write it joined with "=", as in ${flag}=<value>.`;
  const value = args[at + 1]!;
  const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
  // No option takes a number below 0 (counts, durations, sizes, ports): "join it with =" led to a
  // second refusal of the same value (ops t61: --lines -3, then --lines=-3).
  if (kNegativeNumber.test(value)) return `Option ${flag} is followed by "${shown}", a negative number, which ${flag} does not take (its values: clusterkit ${command} --help).`;
  return (
    `Option ${flag} is followed by "${shown}", which starts with "-", so it is read as an option, not as the value of ${flag} ` +
    `(the command's own options start with "-" too). If it is the value, join it with "=": ${flag}=${shown}.`
  );
}

function isOptionLike(arg: string | undefined): boolean {
  return arg !== undefined && arg.length > 1 && arg.startsWith('-');
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
