/**
 * What a shared-store key may be, checked where it is used: by the primary's store, and by a
 * worker's store client before it sends a request (a key the primary would drop as malformed
 * must fail at the caller, at once, not time out).
 */
import { InvalidArgumentError, receivedClause } from './errors.js';

/** Longest accepted key, in UTF-16 code units (`key.length`). */
export const kMaxStoreKeyLength = 1_024;

/** Returns `key`. @throws InvalidArgumentError unless it is a non-empty string of at most 1 024 characters. */
export function checkStoreKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > kMaxStoreKeyLength) {
    throw new InvalidArgumentError(`Store keys are non-empty strings of at most ${kMaxStoreKeyLength} characters. ${receivedClause(key)}.`);
  }
  return key;
}

/** Returns `prefix`. @throws InvalidArgumentError unless it is a string. */
export function checkStorePrefix(prefix: unknown): string {
  if (typeof prefix !== 'string') throw new InvalidArgumentError(`entries() needs a string prefix. ${receivedClause(prefix)}.`);
  return prefix;
}
