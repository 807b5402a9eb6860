/**
 * What a PM2 `kill_timeout` gives the app here, said once as the file is loaded: the mapping
 * to `shutdownTimeout` is documented (config.md), but a PM2 user with a graceful SIGINT handler
 * expects the whole `kill_timeout` for requests, and gets a quarter (at most 2 s) less: the
 * worker's own deadline comes that much before the primary's SIGKILL (stop-margin.ts).
 */
import { kMaxDurationMs } from '../../duration.js';
import { stopMarginMs } from '../../stop-margin.js';

/** The `shutdownTimeout` whose own deadline leaves requests at least `requestsMs`. */
function timeoutFor(requestsMs: number): number {
  // Past 6 s the margin is its 2 s cap; under, it is a quarter, so a third of what requests get.
  return requestsMs >= 6_000 ? requestsMs + 2_000 : Math.ceil((requestsMs * 4) / 3);
}

/** The line for `label` (`apps[0] ("api")`), whose `kill_timeout` became a shutdown timeout of `timeoutMs`. */
export function killTimeoutNote(label: string, timeoutMs: number): string {
  const requestsMs = timeoutMs - stopMarginMs(timeoutMs);
  const fix = timeoutFor(timeoutMs);
  return (
    `${label}: PM2's "kill_timeout" (${timeoutMs} ms) is the shutdown timeout: a stopping worker's requests get ${Math.round(requestsMs)} ms ` +
    `(its own deadline comes ${Math.round(timeoutMs - requestsMs)} ms before the SIGKILL at ${timeoutMs} ms), where PM2 gives them all ${timeoutMs} ms` +
    (fix <= kMaxDurationMs ? `; kill_timeout: ${fix} gives them ${timeoutMs} ms.` : '.')
  );
}
