/**
 * Bounded waiting, built on p-timeout: every wait in clusterkit has a deadline.
 */
import pTimeout from 'p-timeout';
import { timerDelay } from './duration.js';

/** Resolves with `promise`'s value, or with `undefined` once `ms` have passed. */
export function settleWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  if (!Number.isFinite(ms)) return promise;
  return pTimeout(promise, { milliseconds: Math.max(1, timerDelay(ms)), message: false });
}

/** Resolves after `ms` without keeping the process alive. */
export function unrefDelay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
