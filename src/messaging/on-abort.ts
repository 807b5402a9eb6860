/**
 * Calls `callback` once when `signal` aborts; returns a function that unsubscribes it.
 *
 * Many requests can share one signal: a caller's one AbortSignal for a batch of `send()`s, or the
 * signal the primary aborts when a `sendTo()` sender exits, shared by all of that sender's relays.
 * Node's EventTarget scans a signal's listeners on every `addEventListener` (to skip a duplicate)
 * and on every `removeEventListener`, so N requests on one signal cost O(N²): one worker's 20 000
 * relays blocked the primary for seconds, and their answers reached the sender after its own
 * timer, as "did not reply" instead of "never sent" (hostile t67 F3, F4). Here, a signal gets one
 * listener of ours, however many requests wait on it, and their callbacks are kept in a Set.
 *
 * As with `addEventListener`: nothing is called for a signal that aborted already (check
 * `signal.aborted` first), callbacks run in the order they were added, and one that throws does
 * not keep the others from running (the first error is thrown on after them).
 */
const callbacksOf = new WeakMap<AbortSignal, Set<() => void>>();

export function onAbort(signal: AbortSignal, callback: () => void): () => void {
  let callbacks = callbacksOf.get(signal);
  if (!callbacks) {
    const created = new Set<() => void>();
    // First: a signal whose addEventListener throws (patched by user code) refuses the request,
    // and leaves nothing registered here.
    signal.addEventListener('abort', () => runAll(signal, created), { once: true });
    callbacksOf.set(signal, (callbacks = created));
  }
  const set = callbacks;
  set.add(callback);
  return () => {
    set.delete(callback);
  };
}

function runAll(signal: AbortSignal, callbacks: Set<() => void>): void {
  callbacksOf.delete(signal);
  let failure: { error: unknown } | undefined;
  for (const callback of callbacks) {
    try {
      callback();
    } catch (error) {
      failure ??= { error };
    }
  }
  callbacks.clear();
  if (failure) throw failure.error;
}
