/**
 * Validation of per-call options (`send`, `broadcast`, `shutdown`...), shared by both sides.
 */
import { InvalidOptionError } from '../errors.js';
import type { SendOptions } from '../types.js';
import { durationOption } from '../duration.js';

export interface NormalizedSendOptions {
  readonly timeoutMs: number | undefined;
  readonly signal: AbortSignal | undefined;
}

const kNoOptions: NormalizedSendOptions = Object.freeze({ timeoutMs: undefined, signal: undefined });

export function normalizeSendOptions(options: SendOptions | undefined): NormalizedSendOptions {
  if (options === undefined) return kNoOptions;
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', 'an object such as { timeoutMs: 1000 }', options);
  const { timeoutMs, signal } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new InvalidOptionError('signal', 'an AbortSignal', signal);
  return {
    timeoutMs: timeoutMs === undefined ? undefined : durationOption(timeoutMs, 'timeoutMs', 0, { allowInfinity: true }),
    signal,
  };
}

/** A per-call `timeoutMs` (`stopWorker`, `shutdown`, `metrics`): `fallback` when undefined. */
export function normalizeTimeout(value: unknown, fallback: number): number {
  return durationOption(value, 'timeoutMs', fallback);
}
