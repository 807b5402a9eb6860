/**
 * How much sooner than the primary's stop deadline (`shutdownTimeoutMs`) a worker ends its own
 * stop: a quarter of it, at most 2 s. The worker keeps to it; `clusterkit run` says what it
 * leaves a PM2 `kill_timeout` (kill-timeout-note.ts).
 */

/** The most a worker's own deadline comes before the primary's. */
const kMaxStopMarginMs = 2_000;

/** Milliseconds between the worker's own stop deadline and the primary's, for a stop of `timeoutMs`. */
export function stopMarginMs(timeoutMs: number): number {
  return Math.min(kMaxStopMarginMs, timeoutMs / 4);
}
