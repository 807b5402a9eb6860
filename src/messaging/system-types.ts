/**
 * clusterkit's own message types. They start with `$`, which user types may not, and are
 * routed to internal handlers by the system router (system-router.ts), never to `_onMessage_`
 * methods. Each type's payload shape is declared here with the check the receiver applies
 * (`is...Payload`), so sender and receiver read one definition.
 */
import type { SerializedError } from '../errors.js';
import { checkUserType, isSerializedError } from './envelope.js';

/**
 * Worker -> primary, notify: the worker listens for messages (sent first thing in `start()`).
 * Until then the primary holds what it sends: Node drops IPC messages that arrive before the
 * worker has a 'message' listener.
 */
export const kHelloNotice = '$hello';
/** Worker -> primary, notify: `_init` finished, the worker takes work. Payload `{ pid }`. */
export const kReadyNotice = '$ready';
/** Worker -> primary, notify: `_init` threw; payload is the serialized error. The worker then exits 1. */
export const kInitErrorNotice = '$initError';
/** Primary -> worker, request: stop gracefully; answered after `_destroy`. Payload `{ timeoutMs }`. */
export const kShutdownRequest = '$shutdown';

export interface ReadyPayload {
  readonly pid: number;
}

export interface ShutdownPayload {
  /** The primary's deadline for this worker, in ms from receipt. */
  readonly timeoutMs: number;
}

/**
 * Worker -> primary, notify: the worker's `_destroy` did not finish within the worker's own
 * deadline (`{ timeoutMs }`: the time it had) or threw (`{ error }`); the worker exits 1 next.
 */
export const kDestroyFailedNotice = '$destroyFailed';

export type DestroyFailedPayload = { readonly timeoutMs: number } | { readonly error: SerializedError };

/**
 * Worker -> primary, notify: while the worker stops, how many requests its tracked servers
 * still have in flight (HTTP requests; a plain TCP server's open connections). Sent when the
 * stop begins and when the count changes, at most once per tick; only by a worker that tracks
 * servers. Payload `{ openRequests }`.
 */
export const kDrainNotice = '$drain';

export interface DrainPayload {
  readonly openRequests: number;
}
/**
 * Primary -> worker, notify: start the orphan watchdog thread. Sent once the initial workers
 * are all ready (then at each later worker's ready): creating the thread costs as much CPU as
 * a worker's start, so doing it during start-up would slow the workers still starting. Being
 * ordered on the channel before anything sent later, it reaches a worker before whatever might
 * block its event loop.
 */
export const kArmWatchdogNotice = '$watchdog';
/** Primary -> worker, request: heartbeat; answered with memory and event-loop figures. */
export const kPingRequest = '$ping';

/**
 * A worker's answer to `$ping`: memory (bytes), event-loop delay (ms) and CPU use (percent of
 * one core) since the last ping. The delay is left out of the first answer: nothing measured yet.
 */
export interface PingReport {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  loopDelayMean?: number;
  loopDelayP99?: number;
  cpuPercent: number;
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

export interface RelayPayload {
  /** The target worker's name or cluster id. */
  readonly target: string | number;
  readonly type: string;
  readonly payload: unknown;
  /** The sender's timeout, in ms; `null` for none (JSON writes `Infinity` as `null`). */
  readonly timeoutMs: number | null;
}

export interface RelayedPayload {
  readonly from: RelaySender;
  readonly type: string;
  readonly payload: unknown;
}

/** Worker -> primary, request: a shared-store operation, `{ op, key, ... }`; the reply is its result. */
export const kStoreRequest = '$store';
/** Primary -> worker, notify: a watched key changed, `{ key, value, previous, deleted }`. */
export const kStoreChangeNotice = '$storeChange';

/** The store operations a worker may request. */
export type StoreOperation =
  | { op: 'get'; key: string }
  | { op: 'set'; key: string; value: unknown }
  | { op: 'delete'; key: string }
  | { op: 'increment'; key: string; by: number }
  | { op: 'compareAndSet'; key: string; expected?: unknown; next?: unknown }
  | { op: 'entries'; prefix: string }
  | { op: 'watch'; key: string }
  | { op: 'unwatch'; key: string };

export interface StoreChangePayload {
  readonly key: string;
  /** The new value; `undefined` when the key was deleted. */
  readonly value: unknown;
  readonly previous: unknown;
  readonly deleted: boolean;
}

/** Primary -> worker, request: the worker's prom-client metrics as JSON (`getMetricsAsJSON()`), or null. */
export const kMetricsRequest = '$metrics';

// The checks. Structure only: the handlers still reject what they cannot serve (an unknown
// worker name, an empty store key) with an error reply that names the problem.

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `$hello`, `$watchdog`, `$ping`, `$metrics`: no payload. */
export function isNoPayload(payload: unknown): payload is undefined {
  return payload === undefined;
}

export function isReadyPayload(payload: unknown): payload is ReadyPayload {
  return isRecord(payload) && typeof payload.pid === 'number';
}

export function isInitErrorPayload(payload: unknown): payload is SerializedError {
  return isSerializedError(payload);
}

export function isShutdownPayload(payload: unknown): payload is ShutdownPayload {
  return isRecord(payload) && typeof payload.timeoutMs === 'number' && payload.timeoutMs >= 0;
}

export function isDestroyFailedPayload(payload: unknown): payload is DestroyFailedPayload {
  if (!isRecord(payload)) return false;
  if ('timeoutMs' in payload) return typeof payload.timeoutMs === 'number' && Number.isFinite(payload.timeoutMs) && payload.timeoutMs >= 0;
  return isSerializedError(payload.error);
}

export function isDrainPayload(payload: unknown): payload is DrainPayload {
  return isRecord(payload) && Number.isSafeInteger(payload.openRequests) && (payload.openRequests as number) >= 0;
}

export function isRelayPayload(payload: unknown): payload is RelayPayload {
  if (!isRecord(payload)) return false;
  const { target, type, timeoutMs } = payload;
  return (
    (typeof target === 'string' || (typeof target === 'number' && Number.isSafeInteger(target))) &&
    checkUserType(type) === undefined &&
    (timeoutMs === null || (typeof timeoutMs === 'number' && timeoutMs > 0))
  );
}

export function isRelayedPayload(payload: unknown): payload is RelayedPayload {
  if (!isRecord(payload) || checkUserType(payload.type) !== undefined) return false;
  const from = payload.from;
  return isRecord(from) && typeof from.workerId === 'number' && (from.name === undefined || typeof from.name === 'string');
}

export function isStoreOperation(payload: unknown): payload is StoreOperation {
  return isRecord(payload) && typeof payload.op === 'string';
}

export function isStoreChangePayload(payload: unknown): payload is StoreChangePayload {
  return isRecord(payload) && typeof payload.key === 'string' && typeof payload.deleted === 'boolean';
}
