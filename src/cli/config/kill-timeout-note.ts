/**
 * What a PM2 `kill_timeout` gives the app here, said once as the file is loaded: the mapping
 * to `shutdownTimeout` is documented (config.md), but a PM2 user with a graceful SIGINT handler
 * expects the whole `kill_timeout` for requests, and gets a quarter (at most 2 s) less: the
 * worker's own deadline comes that much before the primary's SIGKILL (stop-margin.ts).
 */
import { kMaxDurationMs } from '../../duration.js';
import { stopMarginMs } from '../../stop-margin.js';
import type { LoadNote } from './load-note.js';

/**
 * Under this, a stop cuts off the requests in flight (H184). The worker's own deadline is 3/4 of
 * the timeout, and the quarter left (under 50 ms) has to carry the worker's exit: its check with
 * the primary, `$stopped`, the process's end, each late by tens of ms on a busy machine. Under
 * it the primary's SIGKILL comes first, with requests still open: measured on 2 loaded cores,
 * reloads at 100 and 150 ms SIGKILLed every worker, at 200 and 300 ms none.
 */
export const kMinDrainTimeoutMs = 200;

/** PM2's own `kill_timeout` (lib/API/schema.json `docDefault`). */
const kPm2KillTimeoutMs = 1_600;

/** The `shutdownTimeout` whose own deadline leaves requests at least `requestsMs`. */
function timeoutFor(requestsMs: number): number {
  // Past 6 s the margin is its 2 s cap; under, it is a quarter, so a third of what requests get.
  return requestsMs >= 6_000 ? requestsMs + 2_000 : Math.ceil((requestsMs * 4) / 3);
}

/** Whole ms for requests, and the margin as the rest, so that the two add up to `timeoutMs`. */
function requestsMsOf(timeoutMs: number): number {
  return Math.round(timeoutMs - stopMarginMs(timeoutMs));
}

/** The line for `label` (`apps[0] ("api")`), whose `kill_timeout` became a shutdown timeout of `timeoutMs`. */
export function killTimeoutNote(label: string, timeoutMs: number): LoadNote {
  const said = `${label}: PM2's "kill_timeout" (${timeoutMs} ms) is the shutdown timeout`;
  if (timeoutMs < kMinDrainTimeoutMs) {
    return {
      text:
        `${said}, and under ${kMinDrainTimeoutMs} ms a stopping worker cannot drain: it is killed (SIGKILL) before it ends on its own, ` +
        `and the requests in flight at a stop, reload or scale-down are cut off (its own deadline is 3/4 of the timeout, and the rest, under ${kMinDrainTimeoutMs / 4} ms, is shorter than a worker's exit on a busy machine). ` +
        `kill_timeout: ${kPm2KillTimeoutMs}, PM2's default, gives them ${requestsMsOf(kPm2KillTimeoutMs)} ms.`,
      isWarning: true,
    };
  }
  const requestsMs = requestsMsOf(timeoutMs);
  const fix = timeoutFor(timeoutMs);
  return {
    text:
      `${said}: a stopping worker's requests get ${requestsMs} ms ` +
      `(its own deadline comes ${timeoutMs - requestsMs} ms before the SIGKILL at ${timeoutMs} ms), where PM2 gives them all ${timeoutMs} ms` +
      (fix <= kMaxDurationMs ? `; kill_timeout: ${fix} gives them ${timeoutMs} ms.` : '.'),
    isWarning: false,
  };
}
