import { describeValue, InvalidArgumentError } from './errors.js';

/**
 * `compareAndSet(key, expected)` with no `next`: refused, not read as `next: undefined`, which
 * deletes the key (compare-and-delete). A forgotten third argument deleted the key without a
 * word (hostile t59), where `set(key, undefined)` is refused.
 */
export function missingNextError(key: unknown, expected: unknown): InvalidArgumentError {
  return new InvalidArgumentError(
    `compareAndSet(${describeValue(key)}, ${describeValue(expected)}) was given no next value; nothing was changed. Pass the value to set, or undefined explicitly to delete the key if its value is still the expected one (compare-and-delete).`,
  );
}
