/**
 * Option validation shared by every normalize function. Each check names the option and what
 * it accepts, so the error says exactly what to change:
 * `The "maxPendingPerWorker" option must be a positive integer. Received -1`. Durations have
 * their own check, with the longest delay a timer holds: `durationOption` in duration.ts.
 */
import { InvalidOptionError } from './errors.js';

/**
 * One option's check: `value` as given (undefined when absent), `name` its dotted path for
 * errors, `done` the options of the same table normalized before it (for a default or a limit
 * that depends on another option). Returns the normalized value, default filled in.
 */
export type OptionCheck<T> = (value: unknown, name: string, done: Readonly<Record<string, unknown>>) => T;

/** An options table: each option's check and default, declared once; the key order is the check order. */
export type OptionTable = Readonly<Record<string, OptionCheck<unknown>>>;

/** The normalized options a table produces, typed from its checks. */
export type NormalizedOptions<T extends OptionTable> = { readonly [K in keyof T]: ReturnType<T[K]> };

/**
 * Normalizes `input` with `table`: rejects unknown keys, checks each option in the table's
 * order (the first invalid one throws `InvalidOptionError`), fills defaults, freezes the result.
 * @param name how errors name `input` itself when it is not an object (`options`, `restart`).
 * @param prefix the dotted path of nested options (`restart.`).
 * @param renamed options renamed since an earlier release, old name to new: the error names the new one.
 */
export function normalizeOptions<T extends OptionTable>(
  input: unknown,
  table: T,
  name: string,
  prefix = '',
  renamed: Readonly<Record<string, string>> = {},
): NormalizedOptions<T> {
  const options = optionsObject(input as object | undefined, name) as Record<string, unknown>;
  const keys = Object.keys(table);
  rejectUnknownKeys(options, keys, prefix, renamed);
  const normalized: Record<string, unknown> = {};
  for (const key of keys) normalized[key] = table[key]!(options[key], prefix + key, normalized);
  return Object.freeze(normalized) as NormalizedOptions<T>;
}

/**
 * Throws for keys that are not options (usually a typo, silently ignored otherwise); a key in
 * `renamed` gets an error that names its new name.
 */
export function rejectUnknownKeys(options: object, known: readonly string[], prefix = '', renamed: Readonly<Record<string, string>> = {}): void {
  for (const key of Object.keys(options)) {
    const newName = Object.hasOwn(renamed, key) ? renamed[key] : undefined;
    if (newName !== undefined && !known.includes(key)) {
      throw new InvalidOptionError(`${prefix}${key}`, `renamed to "${newName}" (same values)`, (options as Record<string, unknown>)[key]);
    }
    if (!known.includes(key)) {
      throw new InvalidOptionError(`${prefix}${key}`, `one of the known options (${known.join(', ')})`, key);
    }
  }
}

/** `value` as an options object: `undefined` becomes `{}`, anything else but a plain object throws. */
export function optionsObject<T extends object>(value: T | undefined, name: string): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(name, 'an object', value);
  }
  return value;
}

interface IntegerRules {
  min?: number;
  allowInfinity?: boolean;
}

/** An integer >= `min` (default 1), or `fallback` when undefined. */
export function integerOption(value: unknown, name: string, fallback: number, rules: IntegerRules = {}): number {
  if (value === undefined) return fallback;
  const min = rules.min ?? 1;
  if (rules.allowInfinity && value === Number.POSITIVE_INFINITY) return value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    const expected = min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer >= ${min}`;
    throw new InvalidOptionError(name, rules.allowInfinity ? `${expected} or Infinity` : expected, value);
  }
  return value;
}

/** A finite number >= `min`, or `fallback` when undefined. */
export function numberOption(value: unknown, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new InvalidOptionError(name, `a finite number >= ${min}`, value);
  }
  return value;
}

export function booleanOption(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidOptionError(name, 'true or false', value);
  return value;
}

export function enumOption<T extends string>(value: unknown, name: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidOptionError(name, `one of ${allowed.map((entry) => `"${entry}"`).join(', ')}`, value);
  }
  return value as T;
}

export function stringArrayOption(value: unknown, name: string, fallback: readonly string[]): readonly string[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || !value.every((entry) => typeof entry === 'string')) {
    throw new InvalidOptionError(name, 'an array of strings', value);
  }
  return Object.freeze([...value]);
}

export function stringOption(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw new InvalidOptionError(name, 'a non-empty string', value);
  return value;
}

/** Environment additions: string values, or `undefined` to remove an inherited variable. */
export function envOption(value: unknown, name: string): Readonly<Record<string, string | undefined>> {
  if (value === undefined) return Object.freeze({});
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(name, 'an object of string values', value);
  }
  const env: Record<string, string | undefined> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (entry !== undefined && typeof entry !== 'string') {
      throw new InvalidOptionError(`${name}.${key}`, 'a string (or undefined to remove the variable)', entry);
    }
    env[key] = entry;
  }
  return Object.freeze(env);
}

/** A TCP port number, 0 meaning any free port. */
export function portOption(value: unknown): number {
  const port = integerOption(value, 'port', 0, { min: 0 });
  if (port > 65_535) throw new InvalidOptionError('port', 'a port number from 0 to 65535', value);
  return port;
}
