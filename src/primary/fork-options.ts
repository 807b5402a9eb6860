/**
 * Options of `primary.fork()`.
 */
import { InvalidOptionError } from '../errors.js';
import { envOption, integerOption, optionsObject, rejectUnknownKeys, stringArrayOption, stringOption } from '../validate.js';
import type { SlotSpec } from './pool/slot.js';

export interface ForkOptions {
  /** How many workers to add. With `name`, must be 1. @default 1 */
  count?: number;
  /** A unique name for the worker, kept across restarts (`primary.workerByName()`). */
  name?: string;
  /** Tags for `roundRobin({ role })`, kept across restarts. */
  tags?: string[];
  /** Environment for these workers, added to the primary's `env` option. */
  env?: Record<string, string | undefined>;
}

export interface NormalizedForkOptions extends SlotSpec {
  readonly count: number;
}

export function normalizeForkOptions(input: ForkOptions | undefined): NormalizedForkOptions {
  const options = optionsObject(input, 'fork options');
  rejectUnknownKeys(options, ['count', 'name', 'tags', 'env']);
  const count = integerOption(options.count, 'count', 1);
  const name = stringOption(options.name, 'name');
  if (name !== undefined && count !== 1) throw new InvalidOptionError('count', '1 when a name is given (names are unique)', count);
  return Object.freeze({
    count,
    name,
    tags: stringArrayOption(options.tags, 'tags', []),
    env: envOption(options.env, 'env'),
  });
}
