/**
 * The primary's endpoint to one worker: requests, replies and notifications over its IPC
 * channel, with the primary's limits. The channel starts held: Node drops what reaches a worker
 * before it listens, so nothing goes out until the worker's `$hello` opens it.
 */
import { NoHandlerError, NotificationHandlerError, ShutdownInProgressError, type ProtocolProblem } from '../../errors.js';
import { capitalize } from '../../capitalize.js';
import { isSystemType } from '../../messaging/envelope.js';
import { kRelayedRequest } from '../../messaging/system-types.js';
import type { BulkFaultSide } from '../../messaging/bulk-reader.js';
import { Endpoint } from '../../messaging/endpoint.js';
import type { NormalizedPrimaryOptions } from '../primary-options.js';
import type { WorkerRecord } from './worker-record.js';

/**
 * Routes an inbound request or notification from a worker (system or user); returns the reply.
 * `id`: the worker's id of a request (0 for a notification), as it arrived (untrusted).
 */
export type WorkerInbound = (record: WorkerRecord, type: string, payload: unknown, isRequest: boolean, id: number) => unknown;

/** Counts and reports a frame or record from a worker dropped as a protocol error. */
export type WorkerProtocolError = (record: WorkerRecord, problem: ProtocolProblem, type?: string) => void;

export function createWorkerEndpoint(
  record: WorkerRecord,
  options: NormalizedPrimaryOptions,
  onInbound: WorkerInbound,
  reportError: (error: Error) => void,
  reportHandlerError: (error: Error, what: string, ...thrown: [thrown?: unknown]) => void,
  reportWarning: (error: Error) => void,
  onProtocolError: WorkerProtocolError,
  onBulkCorrupt: (record: WorkerRecord, reason: string, side: BulkFaultSide) => void,
): Endpoint {
  return new Endpoint({
    port: record.clusterWorker.process,
    notesReadTypes: true,
    serialization: options.serialization,
    maxMessageBytes: options.maxMessageBytes,
    defaultTimeoutMs: options.messageTimeoutMs,
    maxPending: options.maxPendingPerWorker,
    maxPendingOption: 'maxPendingPerWorker',
    backpressure: options.backpressure,
    describePeer: () => record.describe(),
    onInbound: (type, payload, isRequest, id) => onInbound(record, type, payload, isRequest, id),
    // Never written (lib t58): as for one sent once it exited.
    channelClosedError: (type) => record.notSentError(type, '(its IPC channel is closed) '),
    onError: reportError,
    // Wrapped, so that an 'error' listener learns the type and the worker (hostile t71 F4: a bare RangeError).
    onHandlerError: (thrown, type, isRejection) => {
      const error = new NotificationHandlerError(type, record.describe(), isRejection, record.id, { cause: thrown });
      reportHandlerError(error, `the handler of notification "${type}" from ${error.sender} ${isRejection ? 'rejected' : 'threw'}`, thrown);
    },
    onDroppedNotification: (type, nearMiss, count, windowMs, types) => reportWarning(new NoHandlerError(type, 'the primary', nearMiss, { count, sender: record.describe(), windowMs, ...(types === undefined ? {} : { types }) })),
    onProtocolError: (problem, type) => onProtocolError(record, problem, type),
    held: true,
    hasManyPeers: true,
    onBulkCorrupt: (reason, side) => onBulkCorrupt(record, reason, side),
    bytesRead: () => record.ipcBytesRead,
    // A worker asked to stop runs no new message (it refuses them, or has stopped reading): one
    // sent or let out of the queue now is refused here, unwritten, and says so (retest t51: two
    // let out as earlier replies freed their slots were told the worker may have run them).
    // So does one stopping of a signal from outside (`$stopSignal`): it stops once its grace ends.
    refuse: (type) =>
      (record.stopRequested || record.stopSignal !== undefined) && (!isSystemType(type) || type === kRelayedRequest)
        ? stoppingRefusal(record, type === kRelayedRequest ? 'the relayed message' : type)
        : undefined,
  });
}

/** A message the primary did not send to `record`, which is stopping: it did not run there. */
export function stoppingRefusal(record: WorkerRecord, type: string): ShutdownInProgressError {
  return new ShutdownInProgressError(`${capitalize(record.describe())} is stopping and takes no new messages; "${type}" was not sent to it. It did not run there: send it to another worker.`);
}
