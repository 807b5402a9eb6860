/**
 * Defaults of the messaging options both sides have (`ClusterPrimary` and `ClusterWorker`):
 * declared once, so the two sides cannot drift apart.
 */

/** Reply timeout of a request that sets none: `messageTimeoutMs`. */
export const kDefaultMessageTimeoutMs = 30_000;
/** Largest payload accepted: `maxMessageBytes`. */
export const kDefaultMaxMessageBytes = 16 * 1024 * 1024;
/** Requests awaiting replies from one peer at once: `maxPendingPerWorker` (primary), `maxPending` (worker). */
export const kDefaultMaxPending = 10_000;
/** What a send beyond the pending limit does: `backpressure`. */
export const kDefaultBackpressure = 'wait';
