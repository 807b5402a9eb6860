/**
 * Defaults of the messaging options both sides have (`ClusterPrimary` and `ClusterWorker`):
 * declared once, so the two sides cannot drift apart.
 */

/** Reply timeout of a request that sets none: `messageTimeoutMs`. */
export const kDefaultMessageTimeoutMs = 30_000;
/** Largest payload accepted: `maxMessageBytes`. */
export const kDefaultMaxMessageBytes = 16 * 1024 * 1024;
/**
 * The lowest `maxMessageBytes` either side accepts (H355): 8 KiB, what clusterkit's own messages
 * need. A worker's `$ready` (about 75 B), its stop notices, a store or `sendTo()` envelope around
 * a small value all fit, and an error reply is cut down to fit it (inbound.ts). Below it, from
 * 1 byte, a worker could not even say it was ready: every worker crash-looped, and the
 * CrashLoopError pointed at the user's code.
 */
export const kMinMaxMessageBytes = 8 * 1024;
/**
 * The highest `maxMessageBytes` either side accepts: 256 MiB. A message is read and parsed
 * whole, as one string, and V8's longest string is about 512 MiB (a JSON payload's text may
 * be twice its estimate). Above it (hostile t79: `1e12` was taken), a worker's huge or endless
 * message ran the primary out of memory before the limit, its guard, was ever reached.
 */
export const kMaxMaxMessageBytes = 256 * 1024 * 1024;
/** Requests awaiting replies from one peer at once: `maxPendingPerWorker` (primary), `maxPending` (worker). */
export const kDefaultMaxPending = 10_000;
/** What a send beyond the pending limit does: `backpressure`. */
export const kDefaultBackpressure = 'wait';
