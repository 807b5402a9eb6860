/**
 * How the lines about a worker's stop name its timeout and say to raise it: the
 * `shutdownTimeoutMs` option's by default, or the `timeoutMs` of the call that gave its own
 * (retest t68b: a `stopWorker(w, { timeoutMs: 500 })` said `at the shutdown timeout` and
 * `Raise the shutdownTimeoutMs option`, which that stop did not use).
 */

/** The call whose own `timeoutMs` bounded a worker's stop. */
export type StopTimeoutSetter = 'stopWorker()' | 'shutdown()';

/** `the shutdown timeout`, or `stopWorker()'s timeout`. */
export function stopTimeoutName(setBy: StopTimeoutSetter | undefined): string {
  return setBy === 'stopWorker()' ? "stopWorker()'s timeout" : 'the shutdown timeout';
}

/** `Raise the shutdownTimeoutMs option`, or `Give stopWorker() a longer timeoutMs`. */
export function raiseStopTimeout(setBy: StopTimeoutSetter | undefined): string {
  return setBy === undefined ? 'Raise the shutdownTimeoutMs option' : `Give ${setBy} a longer timeoutMs`;
}
