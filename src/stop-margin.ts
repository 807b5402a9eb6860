/**
 * How a stop's time is shared out. The worker ends its own stop sooner than the primary's stop
 * deadline (`shutdownTimeoutMs`): by a quarter of it, at most 2 s (`stopMarginMs`). Of the
 * worker's own stop, the last slice is kept for `_destroy` (`destroyReserveMs`): the drain of its
 * servers and the wait for its running handlers end that much sooner, so a request that outlasts
 * the stop never leaves the app's cleanup (a pool's `end()`, a buffer's flush) without time (H350).
 * Only a worker with a `_destroy` of its own keeps that slice: a plain script under `clusterkit
 * run` has none, and its requests get the whole of its own stop. The worker keeps to both;
 * `clusterkit run` says what the margin leaves a PM2 `kill_timeout` (kill-timeout-note.ts).
 */

/** The most a worker's own deadline comes before the primary's. */
const kMaxStopMarginMs = 2_000;
/** The least of a worker's own stop kept for `_destroy`, unless that is more than half of it. */
const kMinDestroyReserveMs = 100;
/** The most of a worker's own stop kept for `_destroy`. */
const kMaxDestroyReserveMs = 1_000;

/** Milliseconds between the worker's own stop deadline and the primary's, for a stop of `timeoutMs`. */
export function stopMarginMs(timeoutMs: number): number {
  return Math.min(kMaxStopMarginMs, timeoutMs / 4);
}

/**
 * Milliseconds at the end of a worker's own stop, `stopMs` from its start to the worker's own
 * deadline, kept for `_destroy`: a tenth of it, at least 100 ms and at most 1 s, never more than
 * half of it; whole ms. The drain and the running handlers end that long before the deadline.
 */
export function destroyReserveMs(stopMs: number): number {
  if (!(stopMs > 0)) return 0;
  return Math.round(Math.min(kMaxDestroyReserveMs, Math.max(kMinDestroyReserveMs, stopMs / 10), stopMs / 2));
}

/** The most `_destroy` may run past the worker's own deadline to have its whole slice. */
const kMaxDestroyGraceMs = 100;

/**
 * How far past the worker's own deadline `_destroy` may run, for a stop of `timeoutMs`, so that
 * it has the whole slice kept for it when the stop's own work after the drain (cutting the
 * connections still open, the round trip with the primary, late timers) made it begin a little
 * after the drain's end: a quarter of the margin, at most 100 ms. Its exit still comes half the
 * margin before the primary's SIGKILL. It had 217 of its 225 ms before (retest t36 N6, H360).
 */
export function destroyGraceMs(timeoutMs: number): number {
  return Math.min(kMaxDestroyGraceMs, stopMarginMs(timeoutMs) / 4);
}
