/**
 * Validation of per-call options (`send`, `broadcast`, `shutdown`...), shared by both sides.
 */
import { InvalidOptionError } from '../errors.js';
import type { SendOptions } from '../types.js';
import { integerOption } from '../validate.js';

export function normalizeSendOptions(options: SendOptions | undefined): { timeoutMs: number | undefined; signal: AbortSignal | undefined } {
  if (options === undefined) return { timeoutMs: undefined, signal: undefined };
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', 'an object such as { timeoutMs: 1000 }', options);
  const { timeoutMs, signal } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new InvalidOptionError('signal', 'an AbortSignal', signal);
  return {
    timeoutMs: timeoutMs === undefined ? undefined : integerOption(timeoutMs, 'timeoutMs', 0, { allowInfinity: true }),
    signal,
  };
}

export function normalizeTimeout(value: unknown, fallback: number): number {
  return integerOption(value, 'timeoutMs', fallback);
}
