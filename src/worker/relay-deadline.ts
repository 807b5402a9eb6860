/**
 * The hold on a relayed `sendTo()`'s timeout. The primary gives up on the target a little before
 * the sender's deadline (relay.ts's `forwardTimeout`), so that its answer, which names the
 * target, usually arrives before the sender's own timer and no forwarded request outlives the
 * sender's wait. That answer must not reach the caller before the deadline the caller set (H435):
 * it is held until then.
 */
import { abortReason } from '../messaging/pending.js';
import { isAborted, onAbort } from '../messaging/on-abort.js';

/**
 * Rejects with `error` once `deadline` (a `performance.now()` time, in ms) has passed, at once if
 * it has; with the abort reason instead if `signal` aborts while it waits.
 */
export function rejectAtDeadline(error: unknown, deadline: number, signal: AbortSignal | undefined): Promise<never> {
  const remaining = deadline - performance.now();
  if (remaining <= 0) return Promise.reject(error);
  if (signal !== undefined && isAborted(signal)) return Promise.reject(abortReason(signal));
  return new Promise<never>((_resolve, reject) => {
    // Rounded up, plus one: a timer may fire up to a millisecond before the time it was set for
    // (its clock is the event loop's, read at the start of the turn).
    const timer = setTimeout(() => {
      offAbort?.();
      reject(error);
    }, Math.ceil(remaining) + 1);
    // Many sendTo() may share one signal: one listener for them all (on-abort.ts).
    const offAbort =
      signal &&
      onAbort(signal, () => {
        clearTimeout(timer);
        reject(abortReason(signal));
      });
  });
}
