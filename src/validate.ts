/**
 * Option validation shared by every normalize function. Each check names the option and what
 * it accepts, so the error says exactly what to change:
 * `The "shutdownTimeoutMs" option must be a positive integer. Received -1`.
 */
import { InvalidOptionError } from './errors.js';

/** Throws for keys that are not options (usually a typo, silently ignored otherwise). */
export function rejectUnknownKeys(options: object, known: readonly string[], prefix = ''): void {
  for (const key of Object.keys(options)) {
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
