/**
 * clusterkit's own message types. They start with `$`, which user types may not, and are
 * routed to internal handlers, never to `_onMessage_` methods.
 */

/**
 * Worker -> primary, notify: the worker listens for messages (sent first thing in `start()`).
 * Until then the primary holds what it sends: Node drops IPC messages that arrive before the
 * worker has a 'message' listener.
 */
export const kHelloNotice = '$hello';
/** Worker -> primary, notify: `_init` finished, the worker takes work. */
export const kReadyNotice = '$ready';
/** Worker -> primary, notify: `_init` threw; payload is the serialized error. The worker then exits 1. */
export const kInitErrorNotice = '$initError';
/** Primary -> worker, request: stop gracefully; answered after `_destroy`. Payload `{ timeoutMs }`. */
export const kShutdownRequest = '$shutdown';
/**
 * Primary -> worker, notify: start the orphan watchdog thread. Sent once the initial workers
 * are all ready (then at each later worker's ready): creating the thread costs as much CPU as
 * a worker's start, so doing it during start-up would slow the workers still starting. Being
 * ordered on the channel before anything sent later, it reaches a worker before whatever might
 * block its event loop.
 */
export const kArmWatchdogNotice = '$watchdog';
/**
 * Worker -> primary, request: answered at once, with nothing. A stopping worker sends it after
 * closing its servers and exits only after the answer: until the primary has read a server's
 * close, Node's cluster may still hand the worker connections, and one arriving after the exit
 * is lost (its client hangs). The answer travels behind any such handoff, so once it is in,
 * every handoff has arrived and been handed back to another worker.
 */
export const kSyncRequest = '$sync';
/** Primary -> worker, request: heartbeat; answered with memory and event-loop figures. */
export const kPingRequest = '$ping';

/** A worker's answer to `$ping`: memory (bytes) and event-loop delay (ms) since the last ping. */
export interface PingReport {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  loopDelayMean: number;
  loopDelayP99: number;
}

/**
 * Worker -> primary, request: relay a message to another worker. Payload
 * `{ target: name | id, type, payload, timeoutMs }`; the reply is the target handler's reply.
 */
export const kRelayRequest = '$relay';
/** Primary -> worker, request: a relayed message. Payload `{ from, type, payload }`. */
export const kRelayedRequest = '$relayed';

/** Who sent a relayed message. */
export interface RelaySender {
  readonly workerId: number;
  readonly name: string | undefined;
}

/** Worker -> primary, request: a shared-store operation, `{ op, key, ... }`; the reply is its result. */
export const kStoreRequest = '$store';
/** Primary -> worker, notify: a watched key changed, `{ key, value, previous, deleted }`. */
export const kStoreChangeNotice = '$storeChange';

/** Primary -> worker, request: the worker's prom-client metrics as JSON (`getMetricsAsJSON()`), or null. */
export const kMetricsRequest = '$metrics';
