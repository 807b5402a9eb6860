/**
 * Environment for the workers from `--env KEY=VALUE`, `--env-file <file>` and the config
 * file's `env` / `envFile`. Every name and value is checked here, before anything is forked:
 * a NUL byte, a name with `=` or a value over the kernel's per-string limit would otherwise
 * fail every fork (or be cut silently).
 */
import { parseEnv } from 'node:util';
import { readSmallFile } from './read-small-file.js';
import { EnvFileError, UsageError } from './usage-error.js';
import { setOwn } from '../set-own.js';
import { receivedClause } from '../errors.js';

/** Portable variable names, plus `.` and `-` that some tools use. */
const kEnvNamePattern = /^[A-Za-z_][A-Za-z0-9_.-]{0,255}$/;
/** Linux refuses a single argument or environment string over 128 KiB (MAX_ARG_STRLEN). */
const kMaxValueLength = 128 * 1024 - 1;
/** Variables from one source; the kernel caps the whole environment near 2 MiB anyway. */
const kMaxVariables = 1_000;
/** An env file larger than this is not a dotenv file (the config file's JSON limit too). */
const kMaxEnvFileBytes = 1024 * 1024;

/** The error of a refused variable: a `UsageError`, or an env file's `EnvFileError` (H328). */
type Refusal = (message: string) => UsageError;

const refuseUsage: Refusal = (message) => new UsageError(message, 'run');

/**
 * Where a refused variable goes. A config file's `env` and `envFile` give each to the file's list
 * of problems and go on, so that one run names them all (H524: one bad name per run before); by
 * default the first one is thrown, as for --env and --env-file.
 */
export type EnvReport = (error: UsageError) => void;

const throwIt: EnvReport = (error) => {
  throw error;
};

/** Runs `check`, giving the `UsageError` it throws to `report`; whether it passed. */
function passes(check: () => void, report: EnvReport): boolean {
  try {
    check();
    return true;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    report(error);
    return false;
  }
}

/** Checks one variable; `where` names its source in the message, `refuse` makes the error. */
export function checkEnvVariable(name: string, value: string, where: string, refuse: Refusal = refuseUsage): void {
  // `env.__proto__ = value` sets no variable: it would be lost without a word (H316).
  if (name === '__proto__') throw refuse(`${where}: "__proto__" cannot be a variable name here (JavaScript objects treat it apart); rename it.`);
  if (!kEnvNamePattern.test(name)) {
    throw refuse(`${where}: ${JSON.stringify(truncate(name))} is not a variable name (letters, digits and _, not starting with a digit).`);
  }
  // Where (open item t58: a long value with a NUL somewhere gave no place to look).
  if (value.includes('\0')) throw refuse(`${where}: the value of ${name} contains a NUL byte (U+0000, at character ${value.indexOf('\0') + 1}), which no variable can hold.`);
  if (value.length > kMaxValueLength) throw refuse(`${where}: the value of ${name} is ${value.length} characters long; the limit is ${kMaxValueLength}.`);
}

/** `--env KEY=VALUE`, repeatable; a later one wins. */
export function parseEnvFlags(values: readonly string[]): Record<string, string> {
  if (values.length > kMaxVariables) throw new UsageError(`--env was given ${values.length} times; the limit is ${kMaxVariables}.`, 'run');
  const env: Record<string, string> = {};
  for (const pair of values) {
    const equals = pair.indexOf('=');
    // Not quoted whole: `--env DB_PASSWORD:hunter2` holds a secret (H342).
    if (equals < 1) throw new UsageError(`--env must be KEY=VALUE. Received ${redactedLine(pair, 'an argument')}.`, 'run');
    const name = pair.slice(0, equals);
    const value = pair.slice(equals + 1);
    checkEnvVariable(name, value, '--env');
    setOwn(env, name, value);
  }
  return env;
}

/**
 * Reads a dotenv file with Node's own parser (`util.parseEnv`, the one `node --env-file` uses):
 * `KEY=value` lines, `#` comments, quotes (multi-line too), `export KEY=value`.
 *
 * Node 20's parser loses variables without a word (hostile t33 M2, H316): it stops at a line
 * with an empty name (`=value`), so every variable after it is gone; a line of spaces, an
 * indented comment or a line with no `=` is taken as the start of the next name; a comment on
 * the last line without a final newline becomes a variable. So the file is first read line by
 * line here, as Node's parser reads it: every line that is not blank, not a comment and not
 * inside a quoted value must be `NAME=value` with a good name, or it is refused with its line
 * number. parseEnv is then given those lines in their plain form (indentation, `export` and
 * spaces around the name taken off, a final newline), so the values are its own; and what it
 * returned is compared with the names of those lines, so no variable is lost silently
 * whatever its quirks.
 */
export function readEnvFile(path: string, where: string, report: EnvReport = throwIt): Record<string, string> {
  // A regular file of at most 1 MiB: /dev/zero or a FIFO would otherwise eat memory or hang.
  const fileError = (line?: number) => (message: string, cause?: unknown) => new EnvFileError(message, path, line, 'run', cause === undefined ? undefined : { cause });
  const text = readSmallFile(path, kMaxEnvFileBytes, where, 'run', fileError());
  const { plain, assignments } = scanEnvFile(text, `${where} ${path}`, path, report);
  const parsed = parseEnv(plain);
  const names = Object.keys(parsed);
  if (names.length > kMaxVariables) throw fileError()(`${where}: ${path} sets ${names.length} variables; the limit is ${kMaxVariables}.`, 'run');
  /** The line of each name (a later one wins, as in parseEnv). */
  const lineOf = new Map(assignments.map(({ name, line }) => [name, line]));
  for (const [name, line] of lineOf) {
    if (!Object.hasOwn(parsed, name)) {
      report(fileError(line)(`${where} ${path} line ${line}: Node's env-file parser (util.parseEnv) did not read ${name} from this line; write it as NAME=value on a line of its own, or tell us the file's lines.`));
    }
  }
  const env: Record<string, string> = {};
  let isStrayReported = false;
  for (const name of names) {
    const line = lineOf.get(name);
    if (line === undefined) {
      // Its name is not quoted: it may be made of a value's text (H342). Said once: the lines would be alike.
      if (!isStrayReported) report(fileError()(`${where} ${path}: Node's env-file parser (util.parseEnv) read a variable that no line of the file sets as NAME=value (its name is not shown: it may come from a value); check the file's quotes and lines.`));
      isStrayReported = true;
      continue;
    }
    const value = parsed[name] ?? '';
    if (passes(() => checkEnvVariable(name, value, `${where} ${path} line ${line}`, fileError(line)), report)) setOwn(env, name, value);
  }
  return env;
}

/** A `NAME=value` line of an env file: its name and number (from 1). */
interface EnvAssignment {
  readonly name: string;
  readonly line: number;
}

/**
 * An env file's lines as Node's parser reads them (node/src/node_dotenv.cc, Node 20): CR
 * dropped; a value starting (after spaces) with `"`, `'` or a backtick runs to the next same
 * quote, across lines; lines starting with `#` are comments. Every other non-blank line must
 * be `NAME=value` (`export NAME=value` too), or an `EnvFileError` naming the line goes to
 * `report`, and the line is left out (an empty line in `plain`): the next lines are still read.
 * `plain` is the file with those lines as `NAME=value`, blank lines empty and a final newline.
 */
function scanEnvFile(text: string, where: string, path: string, report: EnvReport): { plain: string; assignments: EnvAssignment[] } {
  const lines = text.replaceAll('\r', '').split('\n');
  const plain: string[] = [];
  const assignments: EnvAssignment[] = [];
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    const at = `${where} line ${index + 1}`;
    const refuse: Refusal = (message) => new EnvFileError(message, path, index + 1);
    const trimmed = line.trimStart();
    if (trimmed === '' || trimmed.startsWith('#')) {
      plain.push(trimmed);
      continue;
    }
    const equals = trimmed.indexOf('=');
    // The line is never quoted whole: a mistyped `DB_PASSWORD: hunter2` holds a secret (H342).
    if (equals === -1) {
      report(refuse(`${at}: ${redactedLine(trimmed)} is not NAME=value: write NAME=value, start the line with # to make it a comment, or remove it.`));
      plain.push('');
      continue;
    }
    const value = trimmed.slice(equals + 1);
    // A quoted value that closes on a later line: the lines up to its closing quote are the value's.
    const quoted = value.replace(/^ +/, '');
    const quote = quoted[0] === '"' || quoted[0] === "'" || quoted[0] === '`' ? quoted[0] : undefined;
    const closesAt = quote === undefined ? -1 : quoted.indexOf(quote, 1);
    const closing = quote === undefined || closesAt !== -1 ? -1 : lines.findIndex((later, laterIndex) => laterIndex > index && later.includes(quote));
    /** The line is refused: said, and left out with the lines of its quoted value (not read as lines of their own). */
    const leaveOut = (error: UsageError) => {
      report(error);
      const last = closing === -1 ? index : closing;
      plain.push(...lines.slice(index, last + 1).map(() => ''));
      index = last;
    };
    const name = trimmed
      .slice(0, equals)
      .trim()
      .replace(/^export[ \t]+/, '');
    if (name === '') {
      leaveOut(refuse(`${at}: ${redactedLine(trimmed)} has no variable name before "="; write NAME=value, or remove the line.`));
      continue;
    }
    if (name === '__proto__' && !passes(() => checkEnvVariable(name, '', at, refuse), leaveOut)) continue;
    if (!kEnvNamePattern.test(name)) {
      leaveOut(refuse(`${at}: ${redactedLine(trimmed.replace(/^export[ \t]+/, ''))} does not start with a variable name (letters, digits and _, not starting with a digit) followed by "=": write NAME=value.`));
      continue;
    }
    plain.push(`${name}=${value}`);
    assignments.push({ name, line: index + 1 });
    if (quote === undefined) continue;
    if (closesAt !== -1) {
      passes(() => checkAfterQuote(quoted.slice(closesAt + 1), name, quote, at, refuse), report);
      continue;
    }
    // Node keeps an unclosed quote as the value's first character (H385): refused, not changed.
    // The next lines are read as lines of their own then, as Node's parser reads them.
    if (closing === -1) {
      report(
        refuse(
          `${at}: the value of ${name} opens a ${quote} quote that no later line closes, so Node's env-file parser would keep the quote as part of the value. ` +
            `Close the quote, or remove it.`,
        ),
      );
      continue;
    }
    const closingLine = lines[closing]!;
    passes(() => checkAfterQuote(closingLine.slice(closingLine.indexOf(quote) + 1), name, quote, `${where} line ${closing + 1}`, (message) => new EnvFileError(message, path, closing + 1)), report);
    plain.push(...lines.slice(index + 1, closing + 1));
    index = closing;
  }
  return { plain: `${plain.join('\n')}\n`, assignments };
}

/**
 * What follows a quoted value's closing quote on its line: nothing, spaces, or a `#` comment.
 * Node's parser drops anything else without a word (`"a" trailing` is `a`, `'it''s'` is `it`):
 * refused with the line, the value never shown (H385).
 */
function checkAfterQuote(rest: string, name: string, quote: string, at: string, refuse: Refusal): void {
  if (/^[ \t]*(?:#.*)?$/.test(rest)) return;
  throw refuse(
    `${at}: the value of ${name} has text after its closing ${quote} quote, which Node's env-file parser drops (it keeps only what the quotes enclose). ` +
      `Quote the whole value (a ${quote} inside it needs another kind of quote around it: ${quote === '"' ? "'" : '"'}), or start a comment with #.`,
  );
}

/**
 * An env file's line as a message may show it (H342): its start, up to the first `=`, `:` or
 * space, quoted only when it looks like a variable name, and `…` for the rest, never shown:
 * `"DB_PASSWORD: …"`, `"=…"`. A line of one word (no `=`, `:` or space) is not quoted at all: it may
 * be a value on its own (a line of a broken multi-line key).
 */
export function redactedLine(line: string, what = 'the line'): string {
  const trimmed = line.trim();
  const cut = trimmed.search(/[=:\s]/);
  if (cut === -1) return `${what} (one word of ${trimmed.length} ${trimmed.length === 1 ? 'character' : 'characters'}, not shown: it may be a value)`;
  const start = trimmed.slice(0, cut);
  const separator = trimmed[cut] === '=' ? '=' : trimmed[cut] === ':' ? ': ' : ' ';
  if (start === '' || kEnvNamePattern.test(start)) return `"${start}${separator}…"`;
  return `${what} (not shown: it may hold a value)`;
}

/**
 * The config file's `env` object (or a PM2 `env_<name>`): string, number and boolean values, as
 * PM2 users write them. Each refused variable goes to `report`, one problem each (its name, else
 * its value), and is left out; an `env` that is no object, or has too many variables, throws.
 */
export function checkEnvObject(value: unknown, key: string, report: EnvReport = throwIt): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`"${key}" must be an object of variables, as in { PORT: '3000' }.`, 'run');
  // Only its own keys are read: one whose variables are inherited (`Object.create(base)`), or a
  // Map, gave the workers none of them, without a word (retest t58).
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) {
    // A kind of its own is named (retest t59: `env: loadEnv()` without `await` is a Promise).
    const kind = describe(value);
    const received = kind === 'a Promise' ? 'a Promise: await it (env: await loadEnv())' : kind === 'an object' ? 'an object that is not a plain one (its keys inherited from a prototype, a Map, or a class instance), whose variables would not be read: give it its own keys' : `${kind}, whose variables would not be read: give it as an object of its own keys`;
    throw new UsageError(`"${key}" must be a plain object of variables, as in { PORT: '3000' }. Received ${received}.`, 'run');
  }
  const entries = Object.entries(value);
  if (entries.length > kMaxVariables) throw new UsageError(`"${key}" has ${entries.length} variables; the limit is ${kMaxVariables}.`, 'run');
  const env: Record<string, string> = {};
  for (const [name, raw] of entries) {
    const isScalar = typeof raw === 'string' || typeof raw === 'boolean' || (typeof raw === 'number' && Number.isFinite(raw));
    if (!isScalar) report(new UsageError(`"${key}.${truncate(name)}" must be a string, a number or a boolean. ${receivedClause(raw, describe)}.`, 'run'));
    // Digits lost as the file was read, where no one sees them (hostile t61: 12345678901234567890 reached the worker as 12345678901234567000).
    else if (typeof raw === 'number' && Number.isInteger(raw) && !Number.isSafeInteger(raw)) {
      report(new UsageError(`"${key}.${truncate(name)}" is a number past 2^53 - 1 (${describe(raw)}), which a number cannot hold exactly: its last digits may be lost already. Write it as a string ("${truncate(name)}": "<its digits>").`, 'run'));
    } else if (passes(() => checkEnvVariable(name, String(raw), `"${key}"`), report)) setOwn(env, name, String(raw));
  }
  return env;
}

/**
 * A config value as a message shows it ("Received ..."), truthfully for what a JavaScript
 * config can hold and JSON cannot: JSON.stringify would call NaN and Infinity `null`, throw on
 * a BigInt, and skip a symbol. Never throws.
 */
export function describe(value: unknown): string {
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${truncate(String(value))}n (a BigInt)`;
    case 'symbol':
      // Symbol(port), its description escaped as a string's would be
      return truncate(JSON.stringify(String(value)).slice(1, -1));
    case 'function':
      return 'a function';
    case 'object':
      if (value === null) return 'null';
      return describeObject(value);
    default:
      // strings (quoted, control characters escaped) and booleans
      return truncate(JSON.stringify(value));
  }
}

/** Built-in kinds named by their tag (retest t58: a Set of apps read "Received an object"). */
const kNamedKinds: Readonly<Record<string, string>> = { Number: 'a Number object', String: 'a String object', Boolean: 'a Boolean object', Map: 'a Map', Set: 'a Set', WeakMap: 'a WeakMap', WeakSet: 'a WeakSet', Date: 'a Date', RegExp: 'a RegExp', Promise: 'a Promise', Error: 'an Error' };

function describeObject(value: object): string {
  try {
    if (Array.isArray(value)) return 'an array';
    // The internal tag: what a Proxy's Symbol.toStringTag says is read too, and may throw.
    const tag = Object.prototype.toString.call(value).slice(8, -1);
    return kNamedKinds[tag] ?? (ArrayBuffer.isView(value) ? `a ${tag}` : 'an object');
  } catch {
    return 'an object';
  }
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
