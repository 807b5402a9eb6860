/**
 * Environment for the workers from `--env KEY=VALUE`, `--env-file <file>` and the config
 * file's `env` / `envFile`. Every name and value is checked here, before anything is forked:
 * a NUL byte, a name with `=` or a value over the kernel's per-string limit would otherwise
 * fail every fork (or be cut silently).
 */
import { parseEnv } from 'node:util';
import { readSmallFile } from './read-small-file.js';
import { UsageError } from './usage-error.js';

/** Portable variable names, plus `.` and `-` that some tools use. */
const kEnvNamePattern = /^[A-Za-z_][A-Za-z0-9_.-]{0,255}$/;
/** Linux refuses a single argument or environment string over 128 KiB (MAX_ARG_STRLEN). */
const kMaxValueLength = 128 * 1024 - 1;
/** Variables from one source; the kernel caps the whole environment near 2 MiB anyway. */
const kMaxVariables = 1_000;
/** An env file larger than this is not a dotenv file (the config file's JSON limit too). */
const kMaxEnvFileBytes = 1024 * 1024;

/** Checks one variable; `where` names its source in the message. */
export function checkEnvVariable(name: string, value: string, where: string): void {
  if (!kEnvNamePattern.test(name)) {
    throw new UsageError(`${where}: ${JSON.stringify(truncate(name))} is not a variable name (letters, digits and _, not starting with a digit).`, 'run');
  }
  if (value.includes('\0')) throw new UsageError(`${where}: the value of ${name} contains a NUL byte.`, 'run');
  if (value.length > kMaxValueLength) throw new UsageError(`${where}: the value of ${name} is ${value.length} characters long; the limit is ${kMaxValueLength}.`, 'run');
}

/** `--env KEY=VALUE`, repeatable; a later one wins. */
export function parseEnvFlags(values: readonly string[]): Record<string, string> {
  if (values.length > kMaxVariables) throw new UsageError(`--env was given ${values.length} times; the limit is ${kMaxVariables}.`, 'run');
  const env: Record<string, string> = {};
  for (const pair of values) {
    const equals = pair.indexOf('=');
    if (equals < 1) throw new UsageError(`--env must be KEY=VALUE. Received "${truncate(pair)}".`, 'run');
    const name = pair.slice(0, equals);
    const value = pair.slice(equals + 1);
    checkEnvVariable(name, value, '--env');
    env[name] = value;
  }
  return env;
}

/**
 * Reads a dotenv file with Node's own parser (`util.parseEnv`, the one `node --env-file` uses):
 * `KEY=value` lines, `#` comments, quotes, `export KEY=value`.
 */
export function readEnvFile(path: string, where: string): Record<string, string> {
  // A regular file of at most 1 MiB: /dev/zero or a FIFO would otherwise eat memory or hang.
  const text = readSmallFile(path, kMaxEnvFileBytes, where);
  const parsed = parseEnv(text);
  const names = Object.keys(parsed);
  if (names.length > kMaxVariables) throw new UsageError(`${where}: ${path} sets ${names.length} variables; the limit is ${kMaxVariables}.`, 'run');
  const env: Record<string, string> = {};
  for (const name of names) {
    const value = parsed[name] ?? '';
    checkEnvVariable(name, value, `${where} ${path}`);
    env[name] = value;
  }
  return env;
}

/** The config file's `env` object: string, number and boolean values, as PM2 users write them. */
export function checkEnvObject(value: unknown, key: string): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`"${key}" must be an object of variables, as in { PORT: '3000' }.`, 'run');
  const entries = Object.entries(value);
  if (entries.length > kMaxVariables) throw new UsageError(`"${key}" has ${entries.length} variables; the limit is ${kMaxVariables}.`, 'run');
  const env: Record<string, string> = {};
  for (const [name, raw] of entries) {
    const isScalar = typeof raw === 'string' || typeof raw === 'boolean' || (typeof raw === 'number' && Number.isFinite(raw));
    if (!isScalar) throw new UsageError(`"${key}.${truncate(name)}" must be a string, a number or a boolean. Received ${describe(raw)}.`, 'run');
    checkEnvVariable(name, String(raw), `"${key}"`);
    env[name] = String(raw);
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
      return Array.isArray(value) ? 'an array' : 'an object';
    default:
      // strings (quoted, control characters escaped) and booleans
      return truncate(JSON.stringify(value));
  }
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
