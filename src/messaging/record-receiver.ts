/**
 * The receiving side of an endpoint: splits each frame into its records and routes them before
 * anything reaches user code: a reply settles its pending request by id, a request or a
 * notification goes to `Inbound`. What breaks the protocol (a malformed frame or record, a reply
 * to an id this process never issued or to a request still waiting for admission, never
 * written, a second reply to a request answered already) is dropped, counted and reported to
 * `onProtocolError`; a late reply (its request had timed out) is only dropped and counted.
 */
import { NoHandlerError, RemoteError, ShutdownInProgressError, type ProtocolProblem, type SerializedError } from '../errors.js';
import { boundReceivedError } from './remote-cause.js';
import { isMessageId, isSerializedError, isTypeName, kErrorReply, kFaultNoHandler, kFaultShutdown, kNoPayload, kNotify, kRecordSize, kReply, kReplyAhead, kRequest, readFrame } from './envelope.js';
import type { Inbound } from './inbound.js';
import { peerNearMiss } from './route.js';
import { systemAnswerMessage } from './system-answer.js';
import { kRelayedRequest } from './system-types.js';
import { checkUserType } from './envelope.js';
import { isIssuedRequestId, type PendingRequests } from './pending.js';

export interface RecordReceiverParts {
  readonly pending: PendingRequests;
  readonly inbound: Inbound;
  /** The endpoint's counters this updates. */
  readonly stats: { messagesIn: number; dropped: number };
  /** The peer in error messages: `worker 3 (pid 4242)` or `the primary`. */
  readonly describePeer: () => string;
  readonly onProtocolError: ((problem: ProtocolProblem, type?: string) => void) | undefined;
  /** The type of each request, notification or reply (its request's type) received, as it is. */
  readonly onType?: (type: string) => void;
}

export class RecordReceiver {
  readonly #parts: RecordReceiverParts;

  constructor(parts: RecordReceiverParts) {
    this.#parts = parts;
  }

  /** Routes one raw IPC message that carries the clusterkit marker. */
  receive(message: unknown): void {
    const records = readFrame(message);
    if (!records) {
      this.#dropMalformed('malformed-frame');
      return;
    }
    for (let i = 0; i < records.length; i += kRecordSize) this.#receiveRecord(records[i], records[i + 1], records[i + 2], records[i + 3]);
  }

  #receiveRecord(kind: unknown, id: unknown, typeOrFault: unknown, value: unknown): void {
    // A kind is an integer from 0 to 15 (a record kind, perhaps with the kNoPayload flag):
    // `& 15` would turn 0.5, 4.2 or 2 ** 40 into a valid one, so they must come out unchanged.
    if (typeof kind !== 'number' || (kind & 15) !== kind) {
      this.#dropMalformed('malformed-record');
      return;
    }
    const { pending, inbound, stats } = this.#parts;
    const payload = kind & kNoPayload ? undefined : value;
    switch (kind & ~kNoPayload) {
      case kReply:
        // Its third field is always 0 (inbound.ts): any other is no reply a peer of ours writes,
        // not a success to settle the request with (hostile t68 F9).
        if (!isMessageId(id) || typeOrFault !== 0) break;
        this.#noteReplyType(id);
        if (pending.resolve(id, payload)) stats.messagesIn++;
        else this.#dropUnmatched(id);
        return;
      case kRequest:
        if (!isMessageId(id) || !isTypeName(typeOrFault)) break;
        stats.messagesIn++;
        this.#parts.onType?.(typeOrFault);
        inbound.answer(id, typeOrFault, payload);
        return;
      case kNotify:
        if (!isTypeName(typeOrFault)) break;
        stats.messagesIn++;
        this.#parts.onType?.(typeOrFault);
        inbound.deliver(typeOrFault, payload);
        return;
      case kErrorReply:
        if (!isMessageId(id) || !isSerializedError(value)) break;
        this.#noteReplyType(id);
        this.#receiveErrorReply(id, value, typeOrFault);
        return;
      case kReplyAhead:
        if (!isMessageId(id)) break;
        // Unknown: the request already timed out (its reply will be dropped as late), or forged.
        if (!pending.markArriving(id) && isForged(pending, id)) this.#parts.onProtocolError?.('forged-reply');
        return;
    }
    this.#dropMalformed('malformed-record');
  }

  /** A reply's type is its pending request's (none for a late or forged one). */
  #noteReplyType(id: number): void {
    const { onType, pending } = this.#parts;
    if (onType === undefined) return;
    const type = pending.get(id)?.type;
    if (type !== undefined) onType(type);
  }

  #receiveErrorReply(id: number, received: SerializedError, fault: unknown): void {
    const { pending, stats } = this.#parts;
    const request = pending.get(id);
    if (!request || request.isWaiting) {
      this.#dropUnmatched(id);
      return;
    }
    stats.messagesIn++;
    // Cut as a clusterkit sender cuts it: the peer may write its own frames (hostile t64).
    const error = boundReceivedError(received);
    const peer = this.#parts.describePeer();
    // A relayed sendTo()'s near miss is near the user's type, which relay.ts knows and checks it against (hostile t68 F4).
    const nearMiss = request.type === kRelayedRequest ? relayedNearMiss(error.data) : peerNearMiss(error.data, request.type);
    pending.reject(id, fault === kFaultNoHandler ? new NoHandlerError(request.type, peer, nearMiss) : fault === kFaultShutdown ? shutdownRefusal(request.type, peer, error) : new RemoteError(request.type, peer, error, systemAnswerMessage(request.type, peer, error)), true);
  }

  #dropMalformed(problem: ProtocolProblem): void {
    this.#parts.stats.dropped++;
    this.#parts.onProtocolError?.(problem);
  }

  /**
   * A reply to no pending request: late (its request timed out) or, for an id never issued or
   * a request still waiting for admission (never written), forged.
   */
  #dropUnmatched(id: number): void {
    const { pending, stats, onProtocolError } = this.#parts;
    stats.dropped++;
    if (isForged(pending, id)) {
      onProtocolError?.('forged-reply');
      return;
    }
    // A second reply to a request already answered: two writers answered it (H382).
    const answered = pending.answeredType(id);
    if (answered !== undefined) onProtocolError?.('duplicate-reply', answered);
  }
}

/** No reply to `id` can have been written by the peer: it was never issued, or not written yet. */
function isForged(pending: PendingRequests, id: number): boolean {
  return !isIssuedRequestId(id) || pending.isWaiting(id);
}

/**
 * A request the peer refused as it shuts down (tester t51: a `RemoteError` that `instanceof
 * ShutdownInProgressError` missed): it was not handled, and its words say so. The peer's error
 * is its `cause`.
 */
function shutdownRefusal(type: string, peer: string, error: SerializedError): ShutdownInProgressError {
  return new ShutdownInProgressError(error.message, { cause: new RemoteError(type, peer, error) });
}

/** The near miss a target named for a relayed message: a user type, checked against the user's type by relay.ts. */
function relayedNearMiss(data: Record<string, unknown> | undefined): string | undefined {
  const nearMiss = data?.nearMiss;
  return typeof nearMiss === 'string' && checkUserType(nearMiss) === undefined ? nearMiss : undefined;
}
