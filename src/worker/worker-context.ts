/**
 * The worker's machinery, built once by the `ClusterWorker` constructor and handed to its
 * collaborators (lifecycle, store client), each taking the part it needs. The same shape as the
 * primary's context (primary/primary-context.ts). Not part of the public API.
 */
import cluster from 'node:cluster';
import { ChannelCorruptError, NoHandlerError, NotificationHandlerError, PrimaryDisconnectedError } from '../errors.js';
import { Endpoint } from '../messaging/endpoint.js';
import { isSystemType } from '../messaging/envelope.js';
import { SystemRouter } from '../messaging/system-router.js';
import { notSentWords } from './not-sent-words.js';
import { kRelayRequest, kWorkerToPrimaryTypes } from '../messaging/system-types.js';
import type { SafeEmitter } from '../safe-emit.js';
import type { AnyMessageMap } from '../types.js';
import { kPrimaryMaxMessageBytesEnv, kSerializationEnv } from '../worker-env.js';
import type { WorkerEvents } from './worker-events.js';
import { processPort } from './process-port.js';
import { WorkerLifecycle, type WorkerLifecycleHooks } from './worker-lifecycle.js';
import type { NormalizedWorkerOptions } from './worker-options.js';

type Events = WorkerEvents<AnyMessageMap>;

/** Emits a worker event; a throwing listener is reported, never thrown into the caller. */
export type WorkerEmit = <E extends keyof Events>(event: E, payload: Parameters<Events[E]>[0]) => void;

/** The worker's one peer, as the system router names it. */
export type PrimaryPeer = 'primary';

export interface WorkerContext {
  readonly options: NormalizedWorkerOptions;
  /** The endpoint to the primary; it carries messages once `start()` connected it. */
  readonly endpoint: Endpoint;
  /** clusterkit's own messages from the primary; features register their types here. */
  readonly system: SystemRouter<PrimaryPeer>;
  /** Start and every kind of stop; the worker's state. */
  readonly lifecycle: WorkerLifecycle;
  readonly emit: WorkerEmit;
  /** Reports a failure that belongs to no caller (on `error`; thrown when nobody listens). */
  readonly reportError: (error: Error) => void;
  /**
   * Reports what user code nobody waits for threw (a notification's handler, a store watch()
   * callback): on `error` when heard, else a process warning; never ends the process.
   */
  readonly reportHandlerError: SafeEmitter['reportHandlerError'];
}

/** What the facade supplies: its hooks, and the delivery of user messages from the primary. */
export interface WorkerHooks extends WorkerLifecycleHooks {
  /** A user (not `$`-prefixed) request or notification from the primary; returns the reply. */
  onUserMessage(type: string, payload: unknown, isRequest: boolean): unknown;
}

export function createWorkerContext(options: NormalizedWorkerOptions, events: SafeEmitter, hooks: WorkerHooks): WorkerContext {
  const emit = events.emit as WorkerEmit;
  const reportError = events.reportError;
  const system = new SystemRouter<PrimaryPeer>({ receiver: `worker ${cluster.worker?.id ?? 0}`, outboundTypes: kWorkerToPrimaryTypes });
  const primaryMaxBytes = primaryLimit(process.env[kPrimaryMaxMessageBytesEnv]);
  const endpoint = new Endpoint({
    // clusterkit's own reference to the real send: a script's process.send wrapper is not on its path (H233).
    port: processPort(),
    // Node does not tell the child its channel's serialization: the primary does.
    serialization: process.env[kSerializationEnv] === 'advanced' ? 'advanced' : 'json',
    // Never more than the primary reads from a worker: it would kill this worker for it.
    maxMessageBytes: Math.min(options.maxMessageBytes, primaryMaxBytes),
    // Said in MessageTooLargeError: which of the two limits it met, and when a payload is over both (retest t68b, hostile t69).
    primaryMaxBytes,
    defaultTimeoutMs: options.messageTimeoutMs,
    maxPending: options.maxPending,
    maxPendingOption: 'maxPending',
    // The primary answers every $relay, and holds it against maxPendingPerWorker until then: a
    // slot freed at the sender's timeout let the next relays in before the primary let its go (H472).
    keepsSlotUntilAnswered: (type) => type === kRelayRequest,
    backpressure: options.backpressure,
    describePeer: () => 'the primary',
    // System messages are told apart here, before user code: one prefix test per message.
    onInbound: (type, payload, isRequest) =>
      isSystemType(type) ? system.route('primary', type, payload, isRequest) : hooks.onUserMessage(type, payload, isRequest),
    // A relayed sendTo() is work its sender waits for, as a send() is: a stop waits for it (H264).
    workTypeOf: (type, payload) => system.workTypeOf(type, payload),
    // Never written: said so, as WorkerExitedError says it (newcomer t64: "before it replied" read as sent).
    channelClosedError: (type, isNotice) => new PrimaryDisconnectedError(notSentWords(type, true, isNotice)),
    onError: reportError,
    onHandlerError: (thrown, type, isRejection) =>
      events.reportHandlerError(new NotificationHandlerError(type, 'the primary', isRejection, undefined, { cause: thrown }), `the handler of notification "${type}" from the primary ${isRejection ? 'rejected' : 'threw'}`, thrown),
    onDroppedNotification: (type, nearMiss, count, windowMs, types) =>
      events.reportWarning(new NoHandlerError(type, `worker ${cluster.worker?.id ?? '?'} (pid ${process.pid})`, nearMiss, { count, sender: 'the primary', windowMs, ...(types === undefined ? {} : { types }) })),
    // Counted by the router with the system messages it drops (there is no one to warn: the
    // primary is the peer).
    onProtocolError: (problem, type) => system.reportDropped('primary', problem, type),
    // The primary checked what it sends against its own limit, which may be above this worker's.
    bulkReadLimitBytes: Number.POSITIVE_INFINITY,
    // Never from clusterkit's primary. What follows could not be read in order: the worker exits
    // (1) after reporting it, and the restart policy starts a new one.
    onBulkCorrupt: (reason) => {
      reportError(new ChannelCorruptError('the primary', 'bulk-corrupt', Number.POSITIVE_INFINITY, undefined, { detail: reason }));
      setImmediate(() => process.exit(1));
    },
  });
  const lifecycle = new WorkerLifecycle({ options, endpoint, system, emit, reportError }, hooks);
  return Object.freeze({ options, endpoint, system, lifecycle, emit, reportError, reportHandlerError: events.reportHandlerError });
}

/** The primary's `maxMessageBytes` as it set it in this worker's environment; no bound when absent or malformed. */
function primaryLimit(value: string | undefined): number {
  const bytes = Number(value);
  return value !== undefined && Number.isSafeInteger(bytes) && bytes > 0 ? bytes : Number.POSITIVE_INFINITY;
}
