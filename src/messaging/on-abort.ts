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

// Node's own accessors and method, taken before any user code runs: a caller's signal may have
// its own `aborted`, `reason` or `addEventListener` that throws or lies (hostile t68 F1: the
// request was refused with that raw error, and sent anyway).
const kAbortedGetter = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')!.get!;
const kReasonGetter = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'reason')!.get!;
const kAddEventListener = EventTarget.prototype.addEventListener;

/** Whether `signal` aborted, by Node's own accessor. Throws (`ERR_INVALID_THIS`) for an object that is not a real AbortSignal. */
export function isAborted(signal: AbortSignal): boolean {
  return kAbortedGetter.call(signal) as boolean;
}

/** `signal.reason`, by Node's own accessor. */
export function reasonOf(signal: AbortSignal): unknown {
  return kReasonGetter.call(signal);
}

export function onAbort(signal: AbortSignal, callback: () => void): () => void {
  let callbacks = callbacksOf.get(signal);
  if (!callbacks) {
    const created = new Set<() => void>();
    kAddEventListener.call(signal, 'abort', () => runAll(signal, created), { once: true });
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
